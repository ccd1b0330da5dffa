/* The live queue: waiting chats, follow-ups, and the chats the agent holds.
 *
 * The lists are rebuilt from each "queue" frame of the socket. What opening
 * or claiming an entry does is given by bindQueue() (chat.js does it), and
 * other screens can follow queue changes with onQueueChange().
 */

import { api } from "./api.js";
import { $, announce, clear, el, show } from "./dom.js";
import { session } from "./session.js";
import { onFrame } from "./socket.js";
import { clock, duration, serverNow, syncClock } from "./time.js";

var DUE_SOON_MS = 30 * 60 * 1000;

var queue = {
  snapshot: null,
  seenWaiting: null,
  unread: {},
  selected: null,
  refetching: null,
  actions: null,
  listeners: []
};

export function bindQueue(actions) {
  queue.actions = actions;
  onFrame("queue", onQueue);
  window.setInterval(tick, 1000);
}

export function onQueueChange(listener) {
  queue.listeners.push(listener);
}

export function resetQueue() {
  queue.snapshot = null;
  queue.seenWaiting = null;
  queue.unread = {};
  queue.selected = null;
  clear($("queue-list"));
  clear($("followup-list"));
  clear($("mine-list"));
}

export function currentSnapshot() {
  return queue.snapshot;
}

export function markUnread(conversationId) {
  queue.unread[conversationId] = true;
  renderLists();
}

/* A customer wrote in a chat of the lists. The socket sends the queue again
 * only when it changes, so a chat that had no question yet (the customer
 * asked for a person straight away) is read again, to show what they asked. */
export function customerWrote(conversationId) {
  if (!queue.snapshot || queue.refetching) return;
  var all = queue.snapshot.queue.concat(queue.snapshot.claimed);
  var entry = all.filter(function (e) { return e.conversation_id === conversationId; })[0];
  if (!entry || entry.question) return;
  queue.refetching = api("GET", "/api/queue").then(function (snapshot) {
    queue.refetching = null;
    onQueue(snapshot);
  }).catch(function () { queue.refetching = null; });
}

/* The handoff open in the chat pane: its entry is marked and its messages read. */
export function selectEntry(handoffId, conversationId) {
  queue.selected = handoffId;
  if (conversationId) delete queue.unread[conversationId];
  renderLists();
}

function onQueue(snapshot) {
  if (snapshot.at) syncClock(snapshot.at);
  queue.snapshot = snapshot;
  var waiting = {};
  var fresh = [];
  snapshot.queue.forEach(function (entry) {
    waiting[entry.id] = true;
    if (queue.seenWaiting && !queue.seenWaiting[entry.id]) fresh.push(entry);
  });
  queue.seenWaiting = waiting;
  renderLists();
  if (fresh.length === 1) {
    announce("New chat waiting: " + customerLabel(fresh[0]) + ", " + questionLabel(fresh[0]) + ".");
  } else if (fresh.length > 1) {
    announce(fresh.length + " new chats waiting.");
  }
  queue.listeners.forEach(function (listener) { listener(snapshot, fresh); });
}

export function liveEntry(handoffId) {
  if (!queue.snapshot) return null;
  var all = queue.snapshot.queue.concat(queue.snapshot.claimed);
  return all.filter(function (entry) { return entry.id === handoffId; })[0] || null;
}

/* Who has a handoff, as far as the lists can tell: closed ones are gone. */
export function ownerKey(handoff) {
  if (!handoff || ["queued", "follow_up", "claimed"].indexOf(handoff.state) < 0) return "closed";
  return handoff.state + ":" + (handoff.agent ? handoff.agent.id : "");
}

// Whose promise it is: yours, or nobody's (no account could take chats).
function followUpOwner(entry) {
  if (entry.follow_up.unowned) return " · unowned";
  return entry.follow_up.owner_id === (session.me && session.me.id) ? " · yours" : "";
}

function dueInfo(entry) {
  var due = Date.parse(entry.follow_up.due_at);
  var left = due - serverNow();
  if (left < 0 || entry.follow_up.overdue) {
    return { cls: "is-overdue", text: "Overdue by " + duration(-left) };
  }
  return {
    cls: left <= DUE_SOON_MS ? "is-due-soon" : "",
    text: (left <= DUE_SOON_MS ? "Due soon: " : "Due ") + clock(entry.follow_up.due_at) +
      " (in " + duration(left) + ")"
  };
}

/* Who is asking: the name or e-mail the customer gave, else anonymous. */
function customerLabel(entry) {
  var customer = entry.customer || {};
  return customer.name || customer.email || "Anonymous customer";
}

/* The page the chat started on, short: host and path, no query. */
function pageLabel(entry) {
  var address = entry.customer && entry.customer.page_url;
  if (!address) return "";
  try {
    var url = new URL(address);
    var path = url.pathname === "/" ? "" : url.pathname;
    return url.host + (path.length > 32 ? path.slice(0, 31) + "\u2026" : path);
  } catch (ignored) {
    return address.slice(0, 48);
  }
}

function questionLabel(entry) {
  return entry.question ? "\u201c" + entry.question + "\u201d" : "No question typed yet";
}

function entryItem(entry, kind) {
  var selected = queue.selected === entry.id;
  var item = el("li", {
    class: "entry entry-" + kind + (selected ? " is-selected" : "") +
      (entry.reason === "danger" ? " is-danger" : "") +
      (queue.unread[entry.conversation_id] ? " is-unread" : ""),
    "data-handoff": entry.id,
    "data-conversation": entry.conversation_id
  });
  var priority = entry.effective_priority !== undefined ? entry.effective_priority : entry.priority;
  var open = el("button", {
    type: "button",
    class: "entry-open",
    onclick: function () { queue.actions.open(entry.id, entry.conversation_id, true); }
  },
    el("span", { class: "entry-top" },
      el("span", { class: "reason-tag reason-" + entry.reason, text: entry.reason_text }),
      el("span", {
        class: "priority" + (priority >= 30 ? " is-high" : ""),
        title: "priority",
        text: "P" + Math.round(priority)
      })),
    el("span", { class: "entry-who", text: customerLabel(entry) }),
    el("span", { class: "entry-question" + (entry.question ? "" : " is-none"), text: questionLabel(entry) }),
    el("span", { class: "entry-meta" },
      pageLabel(entry) ? el("span", { class: "entry-page", title: entry.customer.page_url, text: pageLabel(entry) }) : null,
      kind === "mine" && entry.claimed_at
        ? el("span", { class: "waited", "data-since": entry.claimed_at, "data-prefix": "with you for ", text: "with you for " + duration(serverNow() - Date.parse(entry.claimed_at)) })
        : el("span", { class: "waited", "data-since": entry.created_at, text: "waiting " + duration(serverNow() - Date.parse(entry.created_at)) }),
      entry.position ? el("span", { text: "#" + entry.position + " in line" }) : null,
      queue.unread[entry.conversation_id] ? el("span", { class: "unread-dot", text: "new message" }) : null)
  );
  item.appendChild(open);
  if (entry.follow_up) {
    var due = dueInfo(entry);
    item.classList.add("has-due");
    if (due.cls) item.classList.add(due.cls);
    open.appendChild(el("span", { class: "due " + due.cls, text: due.text + followUpOwner(entry) }));
  }
  if (kind !== "mine") {
    item.appendChild(el("button", {
      type: "button",
      class: "button primary small-button claim",
      "aria-label": "Claim chat with " + customerLabel(entry) + ": " + questionLabel(entry),
      onclick: function () { queue.actions.claim(entry.id, entry.conversation_id); },
      text: "Claim"
    }));
  }
  return item;
}

function renderList(listId, emptyId, countId, entries, kind) {
  var list = $(listId);
  var focused = document.activeElement;
  var focusKey = null;
  if (focused && list.contains(focused)) {
    var owner = focused.closest("[data-handoff]");
    focusKey = owner ? [owner.getAttribute("data-handoff"), focused.className] : null;
  }
  clear(list);
  entries.forEach(function (entry) { list.appendChild(entryItem(entry, kind)); });
  show($(emptyId), entries.length === 0);
  $(countId).textContent = String(entries.length);
  if (focusKey) {
    var again = list.querySelector('[data-handoff="' + focusKey[0] + '"] .' + focusKey[1].split(" ")[0]);
    if (again) again.focus();
  }
}

/* The lists as shown, top to bottom: mine, waiting, follow-ups. */
function lists(snapshot) {
  return {
    mine: snapshot.claimed.filter(function (e) {
      return e.agent && session.me && e.agent.id === session.me.id;
    }),
    waiting: snapshot.queue.filter(function (e) { return e.state === "queued"; }),
    followUps: snapshot.queue.filter(function (e) { return e.state === "follow_up"; })
  };
}

/* The entry after (direction 1) or before (-1) the given handoff, in the
 * order the lists show; from the top when none is open. */
export function nextEntry(handoffId, direction) {
  if (!queue.snapshot) return null;
  var shown = lists(queue.snapshot);
  var all = shown.mine.concat(shown.waiting, shown.followUps);
  if (!all.length) return null;
  var index = -1;
  all.forEach(function (entry, i) { if (entry.id === handoffId) index = i; });
  if (index < 0) return direction > 0 ? all[0] : all[all.length - 1];
  var next = index + direction;
  return next >= 0 && next < all.length ? all[next] : null;
}

export function renderLists() {
  var snapshot = queue.snapshot;
  if (!snapshot) return;
  var shown = lists(snapshot);
  var live = shown.waiting;
  var followUps = shown.followUps;
  var mine = shown.mine;
  renderList("queue-list", "queue-empty", "queue-count", live, "waiting");
  renderList("followup-list", "followup-empty", "followup-count", followUps, "followup");
  renderList("mine-list", "mine-empty", "mine-count", mine, "mine");
  var online = snapshot.agents_online;
  $("agents-online").textContent = online === 1 ? "1 agent online" : online + " agents online";
}

function tick() {
  var now = serverNow();
  Array.prototype.forEach.call(document.querySelectorAll("[data-since]"), function (node) {
    var prefix = node.hasAttribute("data-prefix") ? node.getAttribute("data-prefix") : "waiting ";
    node.textContent = prefix + duration(now - Date.parse(node.getAttribute("data-since")));
  });
  if (!queue.snapshot) return;
  queue.snapshot.queue.forEach(function (entry) {
    if (!entry.follow_up) return;
    var item = document.querySelector('#followup-list [data-handoff="' + entry.id + '"]');
    var label = item && item.querySelector(".due");
    if (!label) return;
    var due = dueInfo(entry);
    label.textContent = due.text + followUpOwner(entry);
    label.className = "due " + due.cls;
    item.classList.toggle("is-overdue", due.cls === "is-overdue");
    item.classList.toggle("is-due-soon", due.cls === "is-due-soon");
  });
}

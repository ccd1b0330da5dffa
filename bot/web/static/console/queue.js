/* The live queue: waiting chats, follow-ups, and the chats the agent holds.
 *
 * The lists are rebuilt from each "queue" frame of the socket. What opening
 * or claiming an entry does is given by bindQueue() (chat.js does it), and
 * other screens can follow queue changes with onQueueChange().
 */

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
    announce("New chat waiting: " + fresh[0].reason_text + ".");
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

function entryItem(entry, kind) {
  var selected = queue.selected === entry.id;
  var item = el("li", {
    class: "entry entry-" + kind + (selected ? " is-selected" : "") +
      (queue.unread[entry.conversation_id] ? " is-unread" : ""),
    "data-handoff": entry.id,
    "data-conversation": entry.conversation_id
  });
  var priority = entry.effective_priority !== undefined ? entry.effective_priority : entry.priority;
  var open = el("button", {
    type: "button",
    class: "entry-open",
    "aria-label": (kind === "mine" ? "Open chat: " : "Open: ") + entry.reason_text +
      ". " + (entry.summary || ""),
    onclick: function () { queue.actions.open(entry.id, entry.conversation_id, true); }
  },
    el("span", { class: "entry-top" },
      el("span", { class: "reason-tag reason-" + entry.reason, text: entry.reason_text }),
      el("span", {
        class: "priority" + (priority >= 30 ? " is-high" : ""),
        title: "priority",
        text: "P" + Math.round(priority)
      })),
    el("span", { class: "entry-summary", text: entry.summary || "No summary yet" }),
    el("span", { class: "entry-meta" },
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
      "aria-label": "Claim: " + (entry.summary || entry.reason_text),
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

export function renderLists() {
  var snapshot = queue.snapshot;
  if (!snapshot) return;
  var live = snapshot.queue.filter(function (e) { return e.state === "queued"; });
  var followUps = snapshot.queue.filter(function (e) { return e.state === "follow_up"; });
  var mine = snapshot.claimed.filter(function (e) {
    return e.agent && session.me && e.agent.id === session.me.id;
  });
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

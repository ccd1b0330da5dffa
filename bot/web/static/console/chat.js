/* The open chat: its transcript, the actions on it (claim, transfer, hand
 * back, resolve), the composer (reply or internal note) and the suggested
 * articles. The card itself is drawn by card.js. */

import { api } from "./api.js";
import { articleTitle, customerName, renderCard } from "./card.js";
import { loadColleagues, renderTransferOptions } from "./colleagues.js";
import { $, announce, clear, el, newClientId, setAlert, show } from "./dom.js";
import {
  bindQueue, customerWrote, liveEntry, markUnread, onQueueChange, ownerKey, selectEntry
} from "./queue.js";
import { eventsOf, onPromiseEvent } from "./promises.js";
import { session } from "./session.js";
import { onFrame, sendFrame } from "./socket.js";
import { clock, dateTime } from "./time.js";

var OUTCOME_TEXT = {
  solved: "Solved", not_solved: "Not solved", follow_up_sent: "Follow-up sent",
  duplicate: "Duplicate", spam: "Spam"
};
var TYPING_EVERY_MS = 2500;
var TYPING_SHOWN_MS = 5000;

var state = {
  chat: null,
  typingTimer: null,
  lastTypingSent: 0
};

/* The chat open in the pane, or null: {handoffId, conversationId, held, card, ...}. */
export function currentChat() {
  return state.chat;
}

export function closeChat() {
  state.chat = null;
  selectEntry(null);
  show($("chat"), false);
  show($("card"), false);
  show($("chat-empty"), true);
  clear($("transcript"));
  hideTyping();
}

export function openHandoff(handoffId, conversationId, focus) {
  if (!state.chat || state.chat.handoffId !== handoffId) {
    state.chat = {
      handoffId: handoffId,
      conversationId: conversationId,
      held: false,
      lastSeq: 0,
      card: null,
      messages: {},
      notes: {},
      events: {},
      turns: {}
    };
    clear($("transcript"));
    hideTyping();
    setAlert($("chat-error"), "");
    setBanner("");
    $("compose-text").value = "";
    $("kb-query").value = "";
    clear($("kb-results"));
  }
  selectEntry(handoffId, conversationId);
  return refreshCard().then(function () {
    if (focus) $("chat-title").focus();
    suggestArticles();
  });
}

export function refreshCard() {
  var chat = state.chat;
  if (!chat) return Promise.resolve();
  var pending = chat.loading || Promise.resolve();
  chat.loading = pending.then(function () {
    return api("GET", "/api/handoffs/" + chat.handoffId);
  }).then(function (card) {
    if (state.chat !== chat) return;
    chat.card = card;
    card.turns.forEach(function (turn) { chat.turns[turn.seq] = turn; });
    card.transcript.forEach(function (message) { addMessage(message, false); });
    card.notes.forEach(function (note) { addNote(note); });
    eventsOf(chat.conversationId).forEach(addEvent);
    renderChat();
  }).catch(function (error) {
    if (state.chat === chat && error.status !== 401) setAlert($("chat-error"), error.message);
  });
  return chat.loading;
}

function setBanner(text, kind) {
  var banner = $("chat-banner");
  banner.textContent = text || "";
  banner.className = "banner" + (kind ? " banner-" + kind : "");
  show(banner, Boolean(text));
}

function renderChat() {
  var chat = state.chat;
  var card = chat.card;
  var handoff = card.handoff;
  chat.held = Boolean(handoff.state === "claimed" && handoff.agent && session.me &&
    handoff.agent.id === session.me.id);
  show($("chat-empty"), false);
  show($("chat"), true);
  show($("card"), true);
  $("chat-title").textContent = customerName(card);
  var stateText = {
    queued: "Waiting in the queue", follow_up: "Follow-up promised",
    claimed: handoff.agent ? "With " + handoff.agent.name : "Claimed",
    handed_back: "Handed back to the bot", resolved: "Resolved", cancelled: "Customer went back to the bot"
  }[handoff.state] || handoff.state;
  $("chat-sub").textContent = stateText + " · " + handoff.reason_text;
  var waiting = handoff.state === "queued" || handoff.state === "follow_up";
  show($("claim-button"), waiting);
  show($("held-actions"), chat.held);
  show($("composer"), chat.held);
  show($("card-suggest-title").parentNode, chat.held);
  if (chat.held) {
    setBanner("");
    renderTransferOptions();
  } else if (handoff.state === "claimed") {
    setBanner((handoff.agent ? handoff.agent.name : "A colleague") + " has this conversation.", "info");
  } else if (handoff.state === "resolved") {
    setBanner("Resolved" + (handoff.outcome ? ": " + (OUTCOME_TEXT[handoff.outcome] || handoff.outcome) : "") + ".", "done");
  } else if (handoff.state === "handed_back") {
    setBanner("Handed back to the bot. The assistant answers this customer again.", "done");
  } else if (handoff.state === "cancelled") {
    setBanner("The customer went back to the assistant before anyone claimed the chat.", "done");
  } else if (waiting) {
    setBanner("Preview: claim this chat to reply.", "info");
  }
  renderTurnTags();
  renderCard(card);
  Array.prototype.forEach.call(document.querySelectorAll(".entry"), function (node) {
    node.classList.toggle("is-selected", Number(node.getAttribute("data-handoff")) === chat.handoffId);
  });
  scrollToEnd();
}

/* ---------- transcript ---------- */

function placeInTimeline(node, time, order) {
  node.setAttribute("data-t", String(time));
  node.setAttribute("data-o", String(order));
  var log = $("transcript");
  var child = log.lastElementChild;
  while (child) {
    var t = Number(child.getAttribute("data-t"));
    var o = Number(child.getAttribute("data-o"));
    if (t < time || (t === time && o <= order)) break;
    child = child.previousElementSibling;
  }
  log.insertBefore(node, child ? child.nextSibling : log.firstChild);
}

function scrollToEnd() {
  var log = $("transcript-scroll");
  log.scrollTop = log.scrollHeight;
}

/* The hub writes a promised time in UTC and says where (meta.due_text):
   shown in the agent's own time zone, as the queue and the card show it. */
function localDue(message) {
  var meta = message.meta || {};
  if (typeof meta.due_text !== "string" || !meta.due_text || isNaN(Date.parse(meta.due_at))) {
    return message.text;
  }
  return message.text.split(meta.due_text).join(dateTime(meta.due_at));
}

function addMessage(message, live) {
  var chat = state.chat;
  if (!chat || chat.messages[message.seq]) return;
  var who = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "" }[message.role];
  if (message.role === "agent" && message.meta && message.meta.agent && message.meta.agent.name) {
    who = message.meta.agent.name;
  }
  if (message.role === "customer" && chat.card) who = customerName(chat.card);
  var danger = message.role === "system" && message.meta && message.meta.notice === "danger";
  var item = el("li", {
    class: "msg msg-" + message.role + (danger ? " msg-danger" : ""), "data-seq": message.seq
  });
  if (danger) {
    // What the customer was told to do now, marked as the queue marks the chat.
    item.appendChild(el("p", { class: "msg-who" },
      el("span", { class: "reason-tag reason-danger", text: "Help right now, shown to the customer" }),
      el("time", { datetime: message.at, text: clock(message.at) })));
    item.appendChild(el("p", { class: "msg-text", text: message.text }));
  } else if (message.role === "system") {
    item.appendChild(el("p", { class: "msg-text", text: localDue(message) }));
  } else {
    item.appendChild(el("p", { class: "msg-who" },
      el("span", { class: "msg-name", text: who }),
      el("time", { datetime: message.at, text: clock(message.at) })));
    item.appendChild(el("p", { class: "msg-text", text: message.text }));
    var chips = el("p", { class: "chips" });
    if (message.meta && typeof message.meta.article === "string") {
      chips.appendChild(el("span", {
        class: "chip chip-article", "data-article": message.meta.article,
        text: "article: " + articleTitle(message.meta.article)
      }));
    }
    if (message.buttons && message.buttons.length) {
      chips.appendChild(el("span", {
        class: "chip",
        text: "offered: " + message.buttons.map(function (b) { return b.title; }).join(" · ")
      }));
    }
    item.appendChild(chips);
  }
  chat.messages[message.seq] = item;
  chat.lastSeq = Math.max(chat.lastSeq, message.seq);
  placeInTimeline(item, Date.parse(message.at), message.seq);
  if (message.role === "customer") renderTurnTag(message.seq);
  scrollToEnd();
  if (live && message.role === "customer") announce("Customer: " + message.text);
}

function renderTurnTag(seq) {
  var chat = state.chat;
  var item = chat.messages[seq];
  var turn = chat.turns[seq];
  if (!item || !turn || item.querySelector(".chip-intent")) return;
  var chips = item.querySelector(".chips");
  if (turn.intent) {
    var confidence = typeof turn.confidence === "number" ? " · " + Math.round(turn.confidence * 100) + "%" : "";
    var low = typeof turn.confidence === "number" && turn.confidence < 0.5;
    chips.appendChild(el("span", {
      class: "chip chip-intent" + (low ? " is-low" : ""),
      title: "what the assistant understood",
      text: turn.intent + confidence
    }));
  } else {
    chips.appendChild(el("span", { class: "chip chip-intent is-people", text: "seen by people only" }));
  }
  if (turn.frustration && turn.frustration.frustrated) {
    chips.appendChild(el("span", { class: "chip chip-frustrated", text: "frustrated" }));
  }
}

function renderTurnTags() {
  Object.keys(state.chat.turns).forEach(function (seq) { renderTurnTag(Number(seq)); });
}

function addNote(note) {
  var chat = state.chat;
  if (!chat || chat.notes[note.id]) return;
  var author = note.agent && note.agent.name ? note.agent.name : "An agent";
  var item = el("li", { class: "msg msg-note", "data-note": note.id },
    el("p", { class: "msg-who" },
      el("span", { class: "msg-name", text: "Internal note · " + author }),
      el("time", { datetime: note.at, text: clock(note.at) })),
    el("p", { class: "msg-text", text: note.text }),
    el("p", { class: "note-flag", text: "Only agents see this" }));
  chat.notes[note.id] = item;
  // Notes sort after messages of the same instant.
  placeInTimeline(item, Date.parse(note.at), 1e12 + note.id);
  scrollToEnd();
}

/* A reminder, an escalation or the customer leaving the queue (promises.js). */
function addEvent(event) {
  var chat = state.chat;
  if (!chat || chat.events[event.id]) return;
  var item = el("li", { class: "msg msg-event msg-event-" + event.kind },
    el("p", { class: "msg-text", text: event.text }));
  chat.events[event.id] = item;
  // After the messages and notes of the same instant.
  placeInTimeline(item, event.time, 2e12 + event.id);
  scrollToEnd();
}

function showTyping() {
  var chat = state.chat;
  $("typing").textContent = (chat && chat.card ? customerName(chat.card) : "The customer") + " is typing…";
  if (state.typingTimer) window.clearTimeout(state.typingTimer);
  state.typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
}

function hideTyping() {
  if (state.typingTimer) window.clearTimeout(state.typingTimer);
  state.typingTimer = null;
  $("typing").textContent = "";
}

/* ---------- live frames ---------- */

function isOpen(frame) {
  return Boolean(state.chat) && frame.conversation_id === state.chat.conversationId;
}

function bindFrames() {
  onFrame("watching", function (frame) {
    if (isOpen(frame) && frame.after > state.chat.lastSeq) refreshCard();
  });
  onFrame("message", function (frame) {
    if (frame.role === "customer") customerWrote(frame.conversation_id);
    if (isOpen(frame)) {
      addMessage(frame, true);
      if (frame.role === "customer") hideTyping();
    } else {
      markUnread(frame.conversation_id);
    }
  });
  onFrame("typing", function (frame) {
    if (isOpen(frame) && frame.role === "customer") showTyping();
  });
  onFrame("status", function (frame) {
    if (isOpen(frame)) refreshCard();
  });
  onFrame("note", function (frame) {
    if (isOpen(frame)) addNote(frame);
  });
  onPromiseEvent(function (event) {
    if (isOpen({ conversation_id: event.conversationId })) addEvent(event);
  });
  // Someone else claimed, resolved or transferred the open chat.
  onQueueChange(function () {
    var chat = state.chat;
    if (chat && chat.card && ownerKey(liveEntry(chat.handoffId)) !== ownerKey(chat.card.handoff)) {
      refreshCard();
    }
  });
}

/* ---------- actions on a chat ---------- */

function chatFailed(error) {
  if (error.status === 401) return;
  setAlert($("chat-error"), error.message);
  announce(error.message);
}

export function claim(handoffId, conversationId) {
  setAlert($("chat-error"), "");
  return api("POST", "/api/handoffs/" + handoffId + "/claim").then(function () {
    return openHandoff(handoffId, conversationId, false).then(function () {
      announce("You have the chat. The customer has been told you joined.");
      $("compose-text").focus();
    });
  }).catch(function (error) {
    if (error.status === 401) return;
    return openHandoff(handoffId, conversationId, false).then(function () {
      chatFailed(error);
    });
  });
}

function transfer() {
  var chat = state.chat;
  var target = Number($("transfer-to").value);
  if (!chat || !target) {
    setAlert($("chat-error"), "Choose a colleague to transfer to.");
    return;
  }
  var name = $("transfer-to").selectedOptions[0].textContent;
  api("POST", "/api/handoffs/" + chat.handoffId + "/transfer", { agent_id: target })
    .then(function () {
      setAlert($("chat-error"), "");
      return refreshCard().then(function () {
        announce("Chat transferred to " + name.replace(/ \((online|away|offline)\)$/, "") + ".");
      });
    }).catch(chatFailed);
}

function handBack() {
  var chat = state.chat;
  if (!chat) return;
  api("POST", "/api/handoffs/" + chat.handoffId + "/handback").then(function () {
    setAlert($("chat-error"), "");
    return refreshCard().then(function () { announce("Handed back to the bot."); });
  }).catch(chatFailed);
}

/* Claim the open chat, if it waits (a keyboard shortcut). */
export function claimOpen() {
  var chat = state.chat;
  if (!chat || !chat.card || $("claim-button").hidden) {
    announce(chat ? "This chat is not waiting to be claimed." : "Open a chat first.");
    return;
  }
  claim(chat.handoffId, chat.conversationId);
}

/* Resolve the open chat with the outcome chosen (a keyboard shortcut). */
export function resolveOpen() {
  if (!state.chat || !state.chat.held) {
    announce(state.chat ? "You can resolve only a chat you hold." : "Open a chat first.");
    return;
  }
  resolve();
}

/* Put the cursor in the composer, writing a reply or an internal note. */
export function startWriting(mode) {
  if (!state.chat || !state.chat.held) {
    announce(state.chat ? "Claim the chat to write in it." : "Open a chat first.");
    return;
  }
  $(mode === "note" ? "mode-note" : "mode-reply").checked = true;
  onModeChange();
  $("compose-text").focus();
}

function resolve() {
  var chat = state.chat;
  if (!chat) return;
  var outcome = $("outcome").value;
  api("POST", "/api/handoffs/" + chat.handoffId + "/resolve", { outcome: outcome })
    .then(function () {
      setAlert($("chat-error"), "");
      return refreshCard().then(function () { announce("Chat resolved."); });
    }).catch(chatFailed);
}

/* ---------- the composer ---------- */

function composeMode() {
  return $("mode-note").checked ? "note" : "reply";
}

function onModeChange() {
  var note = composeMode() === "note";
  $("composer").classList.toggle("is-note", note);
  $("compose-label").textContent = note ? "Internal note (only agents see it)" : "Reply to the customer";
  $("compose-text").placeholder = note ? "Write an internal note… the customer never sees it" : "Write a reply…";
  $("compose-hint").textContent = note
    ? "Notes stay inside the team and are never sent to the customer."
    : "Enter sends, Shift+Enter adds a line. The customer sees your name.";
  $("send-button").textContent = note ? "Add note" : "Send";
}

function onSubmit(event) {
  event.preventDefault();
  var chat = state.chat;
  var box = $("compose-text");
  var text = box.value.trim();
  if (!chat || !text) return;
  var button = $("send-button");
  button.disabled = true;
  var path = "/api/conversations/" + encodeURIComponent(chat.conversationId);
  var request = composeMode() === "note"
    ? api("POST", path + "/notes", { text: text }).then(function (data) { addNote(data.note); })
    : api("POST", path + "/messages", { text: text, client_id: newClientId() })
      .then(function (data) { addMessage(data.message, false); });
  request.then(function () {
    box.value = "";
    setAlert($("chat-error"), "");
  }).catch(chatFailed).then(function () {
    button.disabled = false;
    box.focus();
  });
}

function onComposeKey(event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
}

function onComposeInput() {
  var chat = state.chat;
  if (!chat || !chat.held || composeMode() !== "reply") return;
  var now = Date.now();
  if (now - state.lastTypingSent < TYPING_EVERY_MS) return;
  state.lastTypingSent = now;
  sendFrame({ type: "typing", conversation_id: chat.conversationId });
}

/* Puts text in the reply box (after what is there), ready to edit and send. */
export function insertText(text) {
  var box = $("compose-text");
  $("mode-reply").checked = true;
  onModeChange();
  box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);
}

/* ---------- suggested articles ---------- */

function problemText() {
  var chat = state.chat;
  if (!chat || !chat.card) return "";
  var said = chat.card.transcript.filter(function (m) { return m.role === "customer"; })
    .map(function (m) { return m.text; });
  return said.slice(-3).join(" ").slice(0, 500);
}

/* Someone may be in danger: no help-center article fits (the words of a
 * crisis match articles about notes and outages), so none is suggested; the
 * agent is told what the customer was already given. */
var DANGER_SUGGESTION = "No article suggested: someone may be in danger. " +
  "The customer has been given the emergency number and crisis lines (the " +
  "red notice in the chat). Search if you need an article.";

function suggestArticles(query) {
  var chat = state.chat;
  var text = query || problemText();
  var list = $("kb-results");
  clear(list);
  if (chat && !query && chat.card && chat.card.handoff.reason === "danger") {
    list.appendChild(el("li", { class: "suggestion-note", text: DANGER_SUGGESTION }));
    return Promise.resolve();
  }
  if (!chat || !text) {
    list.appendChild(el("li", { class: "muted", text: "Nothing to search for yet" }));
    return Promise.resolve();
  }
  return api("GET", "/api/kb/articles?search=" + encodeURIComponent(text)).then(function (data) {
    if (state.chat !== chat) return;
    clear(list);
    var hits = data.hits.slice(0, 4);
    if (!hits.length) list.appendChild(el("li", { class: "muted", text: "No matching article" }));
    hits.forEach(function (hit) {
      list.appendChild(el("li", { class: "suggestion" },
        el("span", { class: "suggestion-title", text: hit.title }),
        el("button", {
          type: "button", class: "button small-button",
          "aria-label": "Insert article: " + hit.title,
          onclick: function () { insertArticle(hit.slug); },
          text: "Insert"
        })));
    });
  }).catch(function (error) {
    if (state.chat !== chat || error.status === 401) return;
    clear(list);
    list.appendChild(el("li", { class: "muted", text: error.message }));
  });
}

function insertArticle(slug) {
  api("GET", "/api/kb/articles/" + encodeURIComponent(slug)).then(function (data) {
    var article = data.article;
    var lines = [article.title + ": " + article.summary];
    (article.steps || []).forEach(function (step, index) { lines.push((index + 1) + ". " + step); });
    insertText(lines.join("\n"));
  }).catch(chatFailed);
}

/* ---------- start ---------- */

export function bindChat() {
  bindQueue({ open: openHandoff, claim: claim });
  bindFrames();
  $("claim-button").addEventListener("click", function () {
    if (state.chat) claim(state.chat.handoffId, state.chat.conversationId);
  });
  $("transfer-button").addEventListener("click", transfer);
  $("transfer-to").addEventListener("focus", loadColleagues);
  $("handback-button").addEventListener("click", handBack);
  $("resolve-button").addEventListener("click", resolve);
  $("composer").addEventListener("submit", onSubmit);
  $("compose-text").addEventListener("keydown", onComposeKey);
  $("compose-text").addEventListener("input", onComposeInput);
  $("mode-reply").addEventListener("change", onModeChange);
  $("mode-note").addEventListener("change", onModeChange);
  $("kb-search").addEventListener("submit", function (event) {
    event.preventDefault();
    suggestArticles($("kb-query").value.trim());
  });
}

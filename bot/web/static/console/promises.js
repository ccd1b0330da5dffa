/* Promises on the desk: the owner of a follow-up reminded shortly before it
 * is due (follow_up_reminder), an overdue follow-up escalated
 * (follow_up_overdue), a customer who stopped waiting in the live queue
 * (queue_left). The hub sends each once, as it happens: each is listed under
 * "Follow-up alerts" atop the chat lists, said to screen readers, and shown
 * in the timeline of its conversation while this page is open. */

import { $, announce, clear, el, show } from "./dom.js";
import { currentSnapshot } from "./queue.js";
import { onFrame } from "./socket.js";
import { clock, serverNow } from "./time.js";

var SHOWN = 20;
var state = { events: [], next: 1, listeners: [], opener: null };


/* The sentence an agent reads: what happened, when, and to which promise. */
function describe(frame, at) {
  if (frame.type === "queue_left") {
    return "Customer left the queue at " + clock(at) + " \u2014 " +
      (frame.kept_in_queue ? "someone may be in danger: still first in the queue" :
        frame.follow_up ? "kept as follow-up" : "no follow-up");
  }
  if (frame.type === "follow_up_reminder") {
    return "Reminder: your follow-up is due at " + clock(frame.due_at);
  }
  return "Follow-up overdue since " + clock(frame.due_at) + " \u2014 owner: " +
    (frame.agent_name || "nobody");
}

/* The handoff of a conversation in the lists, to open it from an alert. */
function handoffOf(conversationId) {
  var snapshot = currentSnapshot();
  if (!snapshot) return null;
  var all = snapshot.queue.concat(snapshot.claimed);
  return all.filter(function (entry) { return entry.conversation_id === conversationId; })[0] || null;
}

function render() {
  var list = $("event-list");
  clear(list);
  state.events.slice(0, SHOWN).forEach(function (event) {
    var entry = handoffOf(event.conversationId);
    var open = entry && el("button", {
      type: "button", class: "button small", text: "Open",
      "aria-label": "Open the conversation: " + event.text,
      onclick: function () { state.opener(entry.id, event.conversationId, true); }
    });
    var dismiss = el("button", {
      type: "button", class: "button ghost small", text: "Dismiss",
      "aria-label": "Dismiss: " + event.text,
      onclick: function () {
        state.events = state.events.filter(function (e) { return e !== event; });
        render();
        $("events-title").focus();
      }
    });
    list.appendChild(el("li", { class: "event event-" + event.kind, "data-conversation": event.conversationId },
      el("p", { class: "event-text", text: event.text }),
      event.summary ? el("p", { class: "event-summary muted small", text: event.summary }) : null,
      el("div", { class: "event-actions" }, open, dismiss)));
  });
  $("events-count").textContent = String(state.events.length);
  show($("events"), state.events.length > 0);
}

function received(frame) {
  var at = frame.at || new Date(serverNow()).toISOString();
  var event = {
    id: state.next++,
    kind: frame.type,
    conversationId: frame.conversation_id,
    time: Date.parse(at),
    text: describe(frame, at),
    summary: typeof frame.summary === "string" ? frame.summary : ""
  };
  state.events.unshift(event);
  render();
  announce(event.text + (event.summary ? ": " + event.summary : "") + ".");
  state.listeners.forEach(function (listener) { listener(event); });
}

/* Wire the alerts: ``opener(handoffId, conversationId, focus)`` opens a chat. */
export function bindPromiseEvents(opener) {
  state.opener = opener;
  ["follow_up_reminder", "follow_up_overdue", "queue_left"].forEach(function (type) {
    onFrame(type, received);
  });
  // The lists changed: an alert's conversation may be there to open now.
  onFrame("queue", function () { if (state.events.length) window.setTimeout(render, 0); });
}

export function resetPromiseEvents() {
  state.events = [];
  render();
}

/* This page's alerts about one conversation, oldest first. */
export function eventsOf(conversationId) {
  return state.events.filter(function (event) { return event.conversationId === conversationId; }).reverse();
}

export function onPromiseEvent(listener) {
  state.listeners.push(listener);
}

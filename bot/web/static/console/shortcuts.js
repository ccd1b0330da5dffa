/* Keyboard shortcuts for the frequent actions on the Chats tab, listed on a
 * help overlay opened with "?". A key typed into a text field, a list or an
 * editable area is text, never a shortcut; keys with Ctrl, Alt or Cmd are the
 * browser's. */

import { claimOpen, currentChat, openHandoff, resolveOpen, startWriting } from "./chat.js";
import { $, announce, clear, el } from "./dom.js";
import { nextEntry } from "./queue.js";
import { currentView } from "./views.js";

var SHORTCUTS = [
  { key: "j", label: "J", text: "Open the next chat in the lists", run: function () { step(1); } },
  { key: "k", label: "K", text: "Open the previous chat", run: function () { step(-1); } },
  { key: "c", label: "C", text: "Claim the open chat", run: claimOpen },
  { key: "r", label: "R", text: "Write a reply to the customer", run: function () { startWriting("reply"); } },
  { key: "n", label: "N", text: "Write an internal note", run: function () { startWriting("note"); } },
  { key: "e", label: "E", text: "Resolve the open chat with the chosen outcome", run: resolveOpen },
  { key: "?", label: "?", text: "Show or hide this list", run: toggleHelp }
];

function isTyping(target) {
  if (!target || !target.tagName) return false;
  var tag = target.tagName.toLowerCase();
  if (tag === "textarea" || tag === "select" || target.isContentEditable) return true;
  if (tag !== "input") return false;
  return ["button", "checkbox", "radio", "submit", "reset"].indexOf(target.type) < 0;
}

function step(direction) {
  var chat = currentChat();
  var entry = nextEntry(chat ? chat.handoffId : null, direction);
  if (!entry) {
    announce("No other chat in the lists.");
    return;
  }
  openHandoff(entry.id, entry.conversation_id, true);
}

function toggleHelp() {
  var dialog = $("shortcuts");
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (isTyping(event.target) || event.isComposing) return;
  var dialog = $("shortcuts");
  if (dialog.open && event.key !== "?") return;
  var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  var shortcut = SHORTCUTS.filter(function (s) { return s.key === key; })[0];
  if (!shortcut) return;
  if (shortcut.key !== "?" && ($("app-view").hidden || currentView() !== "desk")) return;
  if (shortcut.key === "?" && $("app-view").hidden) return;
  event.preventDefault();
  shortcut.run();
}

function renderHelp() {
  var list = $("shortcut-list");
  clear(list);
  SHORTCUTS.forEach(function (shortcut) {
    list.appendChild(el("dt", null, el("kbd", { text: shortcut.label })));
    list.appendChild(el("dd", { text: shortcut.text }));
  });
}

export function bindShortcuts() {
  renderHelp();
  document.addEventListener("keydown", onKey);
  $("shortcuts-open").addEventListener("click", toggleHelp);
  $("shortcuts-close").addEventListener("click", function () { $("shortcuts").close(); });
}

/* New chats get noticed: a desktop notification and a short sound for each
 * new waiting chat, and the number waiting in the tab title. Each is opted
 * into by the agent and remembered per account in this browser
 * (localStorage); the browser asks for permission to notify only when the
 * agent turns notifications on. */

import { $, announce } from "./dom.js";
import { onQueueChange } from "./queue.js";
import { session } from "./session.js";

var TITLE = document.title;
var OPTIONS = ["notify", "sound", "title"];
var settings = { notify: false, sound: false, title: false };
var opener = null;
var audio = null;

function storageKey() {
  return "baton:console:alerts:" + (session.me ? session.me.id : "");
}

function load() {
  var saved = {};
  try { saved = JSON.parse(window.localStorage.getItem(storageKey()) || "{}") || {}; } catch (ignored) { saved = {}; }
  OPTIONS.forEach(function (name) { settings[name] = saved[name] === true; });
}

function save() {
  try { window.localStorage.setItem(storageKey(), JSON.stringify(settings)); } catch (ignored) { /* private mode: kept for this page only */ }
}

function notificationsAllowed() {
  return "Notification" in window && window.Notification.permission === "granted";
}

function renderSettings() {
  OPTIONS.forEach(function (name) { $("alert-" + name).checked = settings[name]; });
  var hint = $("alert-notify-hint");
  if (!("Notification" in window)) {
    hint.textContent = "This browser cannot show notifications.";
  } else if (settings.notify && window.Notification.permission === "denied") {
    hint.textContent = "Notifications are blocked for this site in the browser's settings.";
  } else {
    hint.textContent = "Shown while the console is in the background.";
  }
}

function chime() {
  var Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  if (!audio) audio = new Context();
  if (audio.state === "suspended") audio.resume();
  var now = audio.currentTime;
  [0, 0.18].forEach(function (offset, index) {
    var tone = audio.createOscillator();
    var gain = audio.createGain();
    tone.frequency.value = index ? 880 : 660;
    gain.gain.setValueAtTime(0.0001, now + offset);
    gain.gain.exponentialRampToValueAtTime(0.2, now + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.16);
    tone.connect(gain).connect(audio.destination);
    tone.start(now + offset);
    tone.stop(now + offset + 0.18);
  });
}

/* How a chat is named in a notification: who, and what they asked. */
function describe(entry) {
  var customer = entry.customer || {};
  var who = customer.name || customer.email || "A customer";
  return who + ": " + (entry.question ? "\u201c" + entry.question + "\u201d" : entry.reason_text);
}

function notify(fresh) {
  if (!settings.notify || !notificationsAllowed()) return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  var title = fresh.length === 1 ? "New chat waiting" : fresh.length + " new chats waiting";
  // Someone may be in danger: said first, and kept on screen until seen.
  var danger = fresh.filter(function (e) { return e.reason === "danger"; });
  if (danger.length) {
    fresh = danger.concat(fresh.filter(function (e) { return e.reason !== "danger"; }));
    title = "Someone may be in danger \u2014 " + title.charAt(0).toLowerCase() + title.slice(1);
  }
  var body = fresh.slice(0, 3).map(describe).join("\n");
  var shown = new window.Notification(title, {
    body: body, tag: "baton-queue", lang: "en", requireInteraction: danger.length > 0
  });
  shown.onclick = function () {
    window.focus();
    if (fresh.length === 1 && opener) opener(fresh[0].id, fresh[0].conversation_id, true);
    shown.close();
  };
}

function updateTitle(snapshot) {
  var waiting = snapshot ? snapshot.queue.filter(function (e) { return e.state === "queued"; }).length : 0;
  document.title = settings.title && waiting ? "(" + waiting + ") " + TITLE : TITLE;
}

var lastSnapshot = null;

function onChange(snapshot, fresh) {
  lastSnapshot = snapshot;
  updateTitle(snapshot);
  var arrived = fresh.filter(function (e) { return e.state === "queued"; });
  if (!arrived.length) return;
  notify(arrived);
  if (settings.sound) chime();
}

function onToggle(name) {
  var box = $("alert-" + name);
  settings[name] = box.checked;
  save();
  if (name === "notify" && box.checked && "Notification" in window &&
      window.Notification.permission === "default") {
    window.Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") announce("The browser will not show notifications: permission was not given.");
      renderSettings();
    });
  }
  // The click is the gesture browsers want before a page may play sound.
  if (name === "sound" && box.checked) chime();
  updateTitle(lastSnapshot);
  renderSettings();
}

/* Called once the agent is known: their own choices apply. */
export function startAlerts() {
  load();
  renderSettings();
  updateTitle(lastSnapshot);
}

export function stopAlerts() {
  lastSnapshot = null;
  OPTIONS.forEach(function (name) { settings[name] = false; });
  document.title = TITLE;
}

export function bindAlerts(open) {
  opener = open;
  onQueueChange(onChange);
  OPTIONS.forEach(function (name) {
    $("alert-" + name).addEventListener("change", function () { onToggle(name); });
  });
  // The panel closes like a menu: a click elsewhere, or Esc inside it.
  document.addEventListener("click", function (event) {
    var panel = $("alerts");
    if (panel.open && !panel.contains(event.target)) panel.open = false;
  });
  $("alerts").addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    $("alerts").open = false;
    $("alerts").querySelector("summary").focus();
  });
}

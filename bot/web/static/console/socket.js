/* The live socket WS /api/agent/ws (see bot/web/agent_api.py).
 *
 * Modules subscribe to frame types with onFrame(type, handler): "queue"
 * frames replace the lists; "watching" says from which seq a conversation's
 * messages arrive on the socket (earlier ones are in the handoff card);
 * "message", "typing", "status" and "note" frames update the open chat.
 */

import { api } from "./api.js";
import { $ } from "./dom.js";
import { expiredMessage, session, sessionEnded } from "./session.js";

var ws = null;
var retry = 0;
var retryTimer = null;
var handlers = {};

export function onFrame(type, handler) {
  (handlers[type] = handlers[type] || []).push(handler);
}

function dispatch(frame) {
  (handlers[frame.type] || []).forEach(function (handler) { handler(frame); });
}

function setConnection(text, ok) {
  var node = $("connection");
  node.textContent = text;
  node.className = "connection " + (ok ? "is-live" : "is-down");
}

export function connectSocket() {
  closeSocket();
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var socket = new WebSocket(scheme + location.host + "/api/agent/ws");
  ws = socket;
  setConnection("Connecting…", false);
  socket.onopen = function () {
    retry = 0;
    setConnection("Live", true);
  };
  socket.onmessage = function (event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (ignored) { return; }
    dispatch(frame);
  };
  socket.onclose = function (event) {
    if (ws !== socket) return;
    ws = null;
    if (!session.signedIn) return;
    if (event.code === 4401) {
      sessionEnded(expiredMessage(event.reason));
      return;
    }
    if (event.code === 4403) {
      setConnection("Not allowed", false);
      return;
    }
    // Check the session over HTTP (a 401 signs out), then reconnect.
    setConnection("Reconnecting…", false);
    var delay = Math.min(10000, 500 * Math.pow(2, retry++));
    retryTimer = window.setTimeout(function () {
      api("GET", "/api/auth/me").then(function (data) {
        session.csrf = data.csrf_token;
        if (session.signedIn) connectSocket();
      }).catch(function (error) {
        if (error.status !== 401 && session.signedIn) connectSocket();
      });
    }, delay);
  };
}

export function closeSocket() {
  if (retryTimer) window.clearTimeout(retryTimer);
  retryTimer = null;
  var socket = ws;
  ws = null;
  if (socket) {
    try { socket.close(1000); } catch (ignored) { /* already closed */ }
  }
}

export function sendFrame(frame) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
}

/* Baton agent console: sign-in, then the tabs (chats, outbox, articles,
 * training, accounts). Plain ES modules, no build step; each screen lives in
 * its own module and is wired up here. */

import { bindAdmin, loadAccounts } from "./admin.js";
import { api } from "./api.js";
import { bindCanned, loadCanned } from "./canned.js";
import { bindChat, closeChat, openHandoff } from "./chat.js";
import { loadColleagues } from "./colleagues.js";
import { $, announce, setAlert, show } from "./dom.js";
import { bindHistory } from "./history.js";
import { bindKb, loadArticles, mayLeaveArticle, resetArticles } from "./kb.js";
import { bindAlerts, startAlerts, stopAlerts } from "./notify.js";
import { bindOutbox, loadOutbox } from "./outbox.js";
import { bindPromiseEvents, resetPromiseEvents } from "./promises.js";
import { resetQueue } from "./queue.js";
import { startPasswordReset } from "./reset.js";
import { ROLE_NAMES, handlesChats, onSessionEnded, session, sessionEnded } from "./session.js";
import { bindShortcuts } from "./shortcuts.js";
import { closeSocket, connectSocket, onFrame } from "./socket.js";
import { bindTraining, loadTraining } from "./training.js";
import { mayLeaveView, registerView, resetView, switchView } from "./views.js";

/* ---------- sign in / out ---------- */

function minutesText(seconds) {
  var s = Number(seconds) || 0;
  if (s < 90) return Math.max(1, Math.round(s)) + " seconds";
  return Math.ceil(s / 60) + " minutes";
}

function signInMessage(error) {
  if (error.code === "invalid_credentials") return "Wrong email or password.";
  if (error.code === "locked_out") {
    return "Too many failed sign-ins: this account is locked. Try again in " +
      minutesText(error.retryAfter) + ".";
  }
  if (error.status === 429) {
    return "Too many sign-in attempts from here. Wait " +
      minutesText(error.retryAfter) + " and try again.";
  }
  if (error.status === 400) return "Enter your email and password.";
  return error.message;
}

function showSignIn(message) {
  session.signedIn = false;
  show($("app-view"), false);
  show($("signin-view"), true);
  setAlert($("signin-error"), message || "");
  $("signin-password").value = "";
  $("signin-email").focus();
}

function onSignIn(event) {
  event.preventDefault();
  var email = $("signin-email").value.trim();
  var password = $("signin-password").value;
  if (!email || !password) {
    setAlert($("signin-error"), "Enter your email and password.");
    (email ? $("signin-password") : $("signin-email")).focus();
    return;
  }
  var button = $("signin-submit");
  setAlert($("signin-error"), "");
  button.disabled = true;
  api("POST", "/api/auth/login", { email: email, password: password })
    .then(function (data) {
      $("signin-password").value = "";
      enterApp(data.agent, data.csrf_token);
    })
    .catch(function (error) {
      setAlert($("signin-error"), signInMessage(error));
      $("signin-password").value = "";
      $("signin-password").focus();
    })
    .then(function () { button.disabled = false; });
}

function signOut() {
  if (!mayLeaveView()) return;
  var csrf = session.csrf;
  closeSocket();
  fetch("/api/auth/logout", {
    method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
  }).catch(function () { return null; }).then(function () {
    resetApp();
    showSignIn("You have signed out.");
  });
}

/* The server ended the session (expired, signed out elsewhere, disabled). */
function endSession(message) {
  closeSocket();
  resetApp();
  showSignIn(message);
}

function resetApp() {
  session.signedIn = false;
  session.me = null;
  session.csrf = "";
  resetView();
  resetArticles();
  resetQueue();
  resetPromiseEvents();
  closeChat();
  stopAlerts();
}

function enterApp(agent, csrf) {
  session.me = agent;
  session.csrf = csrf;
  session.signedIn = true;
  show($("signin-view"), false);
  show($("app-view"), true);
  setAlert($("signin-error"), "");
  $("me").textContent = agent.name + " · " + (ROLE_NAMES[agent.role] || agent.role);
  var chats = handlesChats(agent);
  show($("tab-desk"), chats);
  show($("tab-outbox"), chats);
  show($("tab-history"), chats);
  show($("tab-admin"), agent.role === "admin");
  show($("tab-kb"), agent.role === "agent" || agent.role === "trainer" || agent.role === "admin");
  show($("tab-training"), agent.role === "trainer" || agent.role === "admin");
  show($("presence").parentNode, chats);
  show($("connection"), chats);
  show($("alerts"), chats);
  show($("shortcuts-open"), chats);
  if (chats) {
    loadCanned();
    startAlerts();
    connectSocket();
    loadColleagues();
    switchView("desk", false);
  } else {
    switchView("kb", true);
  }
}

/* ---------- start ---------- */

function registerViews() {
  registerView("desk", {});
  registerView("outbox", { heading: "outbox-title", enter: loadOutbox });
  registerView("kb", {
    heading: "kb-title",
    enter: function (entering) { if (entering) loadArticles(); },
    mayLeave: mayLeaveArticle
  });
  registerView("training", { heading: "training-title", enter: loadTraining });
  registerView("admin", { heading: "admin-title", enter: loadAccounts });
}

function bind() {
  onSessionEnded(endSession);
  registerViews();
  $("signin-form").addEventListener("submit", onSignIn);
  $("signout").addEventListener("click", signOut);
  Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (tab) {
    tab.addEventListener("click", function () { switchView(tab.getAttribute("data-view"), true); });
  });
  $("presence").addEventListener("change", function () {
    api("POST", "/api/auth/presence", { presence: $("presence").value }).then(function (data) {
      announce("Your status is now " + data.presence + ".");
    }).catch(function (error) {
      if (error.status !== 401) announce(error.message);
    });
  });
  onFrame("error", function (frame) {
    if (frame.code === "session_expired" || frame.code === "unauthorized") {
      sessionEnded("Your session has expired. Please sign in again.");
    } else if (frame.message) {
      announce(frame.message);
    }
  });
  bindChat();
  bindAlerts(openHandoff);
  bindPromiseEvents(openHandoff);
  bindShortcuts();
  bindCanned();
  bindOutbox();
  bindKb();
  bindTraining();
  bindAdmin();
  bindHistory();
}

function start() {
  bind();
  if (startPasswordReset()) return;
  // No session cookie came with the page (pages.py): nobody to ask about.
  if (document.documentElement.dataset.session === "none") {
    showSignIn("");
    return;
  }
  fetch("/api/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      return response.json().then(function (data) { return [response.status, data]; });
    })
    .then(function (answer) {
      if (answer[0] === 200) {
        enterApp(answer[1].agent, answer[1].csrf_token);
      } else {
        var code = answer[1] && answer[1].error && answer[1].error.code;
        showSignIn(code === "session_expired" ? "Your session has expired. Please sign in again." : "");
      }
    })
    .catch(function () {
      showSignIn("The console cannot reach the server. Reload the page to try again.");
    });
}

// Module scripts run after the document is parsed.
start();

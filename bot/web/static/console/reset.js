/* Choosing a new password from the one-time link an admin sent:
 * /console#reset=TOKEN (the token stays in the fragment, which browsers never
 * send to a server or put in its logs). */

import { api } from "./api.js";
import { $, el, setAlert, show } from "./dom.js";

function resetCard(token) {
  var form = el("form", { id: "reset-form", class: "signin-card", novalidate: true },
    el("p", { class: "brand brand-large" }, el("span", { class: "brand-mark", "aria-hidden": "true", text: "B" }), " Baton"),
    el("h1", { id: "reset-title", text: "Choose a new password" }),
    el("p", { class: "muted", text: "At least 10 characters. Setting it signs you out everywhere." }),
    el("p", { id: "reset-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("p", { id: "reset-done", class: "banner banner-done", role: "status", hidden: true }),
    el("label", { for: "reset-password", text: "New password" }),
    el("input", { id: "reset-password", type: "password", autocomplete: "new-password", required: true }),
    el("label", { for: "reset-again", text: "The same again" }),
    el("input", { id: "reset-again", type: "password", autocomplete: "new-password", required: true }),
    el("button", { type: "submit", id: "reset-submit", class: "button primary wide", text: "Set password" }),
    el("a", { id: "reset-signin", class: "button wide", href: "/console", text: "Go to sign-in", hidden: true }));
  var section = el("section", { id: "reset-view", class: "signin", "aria-labelledby": "reset-title" }, form);
  document.body.appendChild(section);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var password = $("reset-password").value;
    if (password !== $("reset-again").value) {
      setAlert($("reset-error"), "The two passwords are not the same.");
      $("reset-again").focus();
      return;
    }
    $("reset-submit").disabled = true;
    api("POST", "/api/auth/password-reset", { token: token, password: password }).then(function (data) {
      setAlert($("reset-error"), "");
      $("reset-done").textContent = "Your password is set, " + data.agent.name + ". Sign in with it.";
      show($("reset-done"), true);
      show($("reset-submit"), false);
      show($("reset-signin"), true);
      $("reset-password").value = "";
      $("reset-again").value = "";
      history.replaceState(null, "", "/console");
      $("reset-signin").focus();
    }).catch(function (error) {
      setAlert($("reset-error"), error.message);
      $("reset-password").focus();
    }).then(function () { $("reset-submit").disabled = false; });
  });
  $("reset-password").focus();
}

/* True when the page was opened from a reset link (the form is shown). */
export function startPasswordReset() {
  var found = /^#reset=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  if (!found) return false;
  show($("signin-view"), false);
  show($("app-view"), false);
  resetCard(found[1]);
  return true;
}

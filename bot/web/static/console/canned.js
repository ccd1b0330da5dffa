/* Canned replies: the team's shared answers, stored on the server.
 * In the reply box, "/" and a few letters list the matching replies;
 * Enter, Tab or a click inserts one (arrows move, Esc closes). The card's
 * select offers the same replies. Admins edit them on the Accounts tab. */

import { api } from "./api.js";
import { insertText } from "./chat.js";
import { $, announce, clear, el, setAlert, show } from "./dom.js";

var replies = [];
var loaded = false;
var matches = [];
var active = 0;
/* Where the "/shortcut" being typed starts in the reply box, or -1. */
var slashAt = -1;

export function loadCanned() {
  return api("GET", "/api/canned-replies").then(function (data) {
    replies = data.replies;
    loaded = true;
    fillSelect();
    return replies;
  }).catch(function (error) {
    if (error.status !== 401) announce("Canned replies could not be loaded: " + error.message);
    return replies;
  });
}

function fillSelect() {
  var canned = $("canned");
  clear(canned);
  canned.appendChild(el("option", {
    value: "", text: replies.length ? "Canned replies…" : "No canned replies yet"
  }));
  replies.forEach(function (reply, index) {
    canned.appendChild(el("option", { value: String(index), text: "/" + reply.shortcut + " · " + reply.title }));
  });
}

/* ---------- "/" in the reply box ---------- */

function popup() {
  var list = $("canned-popup");
  if (!list) {
    list = el("ul", { id: "canned-popup", class: "canned-popup", role: "listbox", "aria-label": "Canned replies", hidden: true });
    $("compose-text").parentNode.insertBefore(list, $("compose-text"));
  }
  return list;
}

function closePopup() {
  slashAt = -1;
  matches = [];
  show(popup(), false);
}

/* The "/word" right before the cursor, if the reply box is in reply mode. */
function typedShortcut() {
  var box = $("compose-text");
  if (!$("mode-reply").checked) return null;
  var before = box.value.slice(0, box.selectionStart);
  var found = /(^|\s)\/([a-z0-9_-]*)$/i.exec(before);
  if (!found) return null;
  return { at: before.length - found[2].length - 1, text: found[2].toLowerCase() };
}

function render() {
  var list = popup();
  clear(list);
  if (!matches.length) {
    list.appendChild(el("li", { class: "canned-empty", text: replies.length
      ? "No canned reply starts with that." : "No canned replies yet: an admin adds them on the Accounts tab." }));
  }
  matches.forEach(function (reply, index) {
    list.appendChild(el("li", {
      id: "canned-option-" + index,
      role: "option",
      class: "canned-option" + (index === active ? " is-active" : ""),
      "aria-selected": index === active ? "true" : "false",
      onmousedown: function (event) { event.preventDefault(); choose(index); }
    }, el("span", { class: "canned-shortcut", text: "/" + reply.shortcut }),
       el("span", { class: "canned-title", text: reply.title }),
       el("span", { class: "canned-body", text: reply.body })));
  });
  show(list, true);
}

function matching(text) {
  var starts = replies.filter(function (r) { return r.shortcut.indexOf(text) === 0; });
  var inside = replies.filter(function (r) {
    return r.shortcut.indexOf(text) > 0 || (text && r.title.toLowerCase().indexOf(text) >= 0 && r.shortcut.indexOf(text) !== 0);
  });
  return starts.concat(inside).slice(0, 8);
}

function onInput() {
  var typed = typedShortcut();
  if (!typed) { closePopup(); return; }
  slashAt = typed.at;
  var update = function () {
    if (slashAt < 0) return;
    matches = matching(typed.text);
    active = 0;
    render();
    if (matches.length) {
      announce(matches.length + " canned " + (matches.length === 1 ? "reply" : "replies") +
        ": /" + matches[0].shortcut + ". Enter inserts, arrows choose, Esc closes.");
    }
  };
  if (loaded) update(); else loadCanned().then(update);
}

function choose(index) {
  var reply = matches[index];
  if (!reply) return;
  var box = $("compose-text");
  var end = box.selectionStart;
  var before = box.value.slice(0, slashAt);
  box.value = before + reply.body + box.value.slice(end);
  var cursor = (before + reply.body).length;
  closePopup();
  box.focus();
  box.setSelectionRange(cursor, cursor);
  box.dispatchEvent(new Event("input", { bubbles: true }));
  announce("Inserted the canned reply " + reply.title + ".");
}

/* Runs before the reply box's own keys (Enter sends): capture on the form. */
function onKey(event) {
  if (event.target !== $("compose-text") || slashAt < 0 || popup().hidden) return;
  var keys = { ArrowDown: 1, ArrowUp: -1 };
  if (event.key in keys && matches.length) {
    active = (active + keys[event.key] + matches.length) % matches.length;
    render();
    announce("/" + matches[active].shortcut + ": " + matches[active].title);
  } else if ((event.key === "Enter" || event.key === "Tab") && !event.shiftKey && matches.length) {
    choose(active);
  } else if (event.key === "Escape") {
    closePopup();
  } else {
    return;
  }
  event.preventDefault();
  event.stopPropagation();
}

/* ---------- admins: the list of replies, on the Accounts tab ---------- */

function cannedAdmin() {
  var section = $("canned-admin");
  if (section) return section;
  section = el("section", { id: "canned-admin", class: "canned-admin", "aria-labelledby": "canned-admin-title" },
    el("h3", { id: "canned-admin-title", text: "Canned replies" }),
    el("p", { class: "muted small", text: "Shared by the whole team: agents type / and the shortcut in the reply box." }),
    el("p", { id: "canned-admin-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("ul", { id: "canned-admin-list", class: "canned-admin-list" }),
    el("form", { id: "canned-form", class: "create-form", novalidate: true },
      el("h3", { id: "canned-form-title", text: "Add a canned reply" }),
      el("div", { class: "create-grid" },
        el("div", null, el("label", { for: "canned-shortcut", text: "Shortcut (after /)" }),
          el("input", { id: "canned-shortcut", required: true, autocomplete: "off", maxlength: "40", pattern: "[a-z0-9_-]+" })),
        el("div", null, el("label", { for: "canned-title", text: "Title" }),
          el("input", { id: "canned-title", required: true, autocomplete: "off", maxlength: "120" }))),
      el("label", { for: "canned-body", text: "Reply" }),
      el("textarea", { id: "canned-body", rows: "3", maxlength: "4000", required: true }),
      el("div", { class: "form-actions" },
        el("button", { type: "submit", id: "canned-save", class: "button primary", text: "Add reply" }),
        el("button", { type: "button", id: "canned-cancel", class: "button ghost", text: "Cancel", hidden: true }))));
  $("admin-view").appendChild(section);
  $("canned-form").addEventListener("submit", onSave);
  $("canned-cancel").addEventListener("click", resetForm);
  return section;
}

var editing = null;

function resetForm() {
  editing = null;
  ["canned-shortcut", "canned-title", "canned-body"].forEach(function (id) { $(id).value = ""; });
  $("canned-form-title").textContent = "Add a canned reply";
  $("canned-save").textContent = "Add reply";
  show($("canned-cancel"), false);
}

function edit(reply) {
  editing = reply;
  $("canned-shortcut").value = reply.shortcut;
  $("canned-title").value = reply.title;
  $("canned-body").value = reply.body;
  $("canned-form-title").textContent = "Change /" + reply.shortcut;
  $("canned-save").textContent = "Save changes";
  show($("canned-cancel"), true);
  $("canned-shortcut").focus();
}

function onSave(event) {
  event.preventDefault();
  var body = {
    shortcut: $("canned-shortcut").value.trim(),
    title: $("canned-title").value.trim(),
    body: $("canned-body").value.trim()
  };
  var request = editing
    ? api("PATCH", "/api/canned-replies/" + editing.id, body)
    : api("POST", "/api/canned-replies", body);
  request.then(function (data) {
    setAlert($("canned-admin-error"), "");
    announce((editing ? "Saved /" : "Added /") + data.reply.shortcut + ".");
    resetForm();
    return loadCannedAdmin();
  }).catch(function (error) {
    if (error.status === 401) return;
    setAlert($("canned-admin-error"), error.message);
    var field = { bad_shortcut: "canned-shortcut", shortcut_taken: "canned-shortcut",
      bad_title: "canned-title", bad_body: "canned-body", missing_fields: "canned-shortcut" }[error.code];
    if (field) $(field).focus();
  });
}

function remove(reply) {
  if (!window.confirm("Delete the canned reply /" + reply.shortcut + " for the whole team?")) return;
  api("DELETE", "/api/canned-replies/" + reply.id).then(function () {
    announce("Deleted /" + reply.shortcut + ".");
    return loadCannedAdmin();
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("canned-admin-error"), error.message);
  });
}

export function loadCannedAdmin() {
  cannedAdmin();
  return loadCanned().then(function () {
    var list = $("canned-admin-list");
    clear(list);
    if (!replies.length) list.appendChild(el("li", { class: "empty", text: "No canned replies yet." }));
    replies.forEach(function (reply) {
      list.appendChild(el("li", { class: "canned-admin-item" },
        el("div", null,
          el("strong", { text: "/" + reply.shortcut }), " ",
          el("span", { text: reply.title }),
          el("p", { class: "muted small canned-admin-body", text: reply.body })),
        el("div", { class: "row-actions" },
          el("button", { type: "button", class: "button small-button", text: "Edit",
            "aria-label": "Edit /" + reply.shortcut, onclick: function () { edit(reply); } }),
          el("button", { type: "button", class: "button small-button danger", text: "Delete",
            "aria-label": "Delete /" + reply.shortcut, onclick: function () { remove(reply); } }))));
    });
  });
}

export function bindCanned() {
  fillSelect();
  $("canned-insert").addEventListener("click", function () {
    var canned = $("canned");
    if (canned.value !== "") insertText(replies[Number(canned.value)].body);
  });
  var box = $("compose-text");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", "canned-popup");
  popup();
  box.addEventListener("input", onInput);
  box.addEventListener("blur", function () { window.setTimeout(closePopup, 150); });
  $("composer").addEventListener("keydown", onKey, true);
}

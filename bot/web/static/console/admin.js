/* The Accounts tab (admins): roles, enable/disable (after saying what happens
 * to the person's chats), names and e-mails, password-reset links, last
 * sign-in, new accounts, the team's canned replies and the audit log. */

import { api } from "./api.js";
import { loadCannedAdmin } from "./canned.js";
import { loadColleagues } from "./colleagues.js";
import { $, announce, clear, el, setAlert, show } from "./dom.js";
import { ROLE_NAMES, session } from "./session.js";
import { dateTime } from "./time.js";

var CHAT_ROLES = ["agent", "admin"];

export function loadAccounts() {
  setAlert($("admin-error"), "");
  accountsHead();
  auditSection();
  loadCannedAdmin();
  loadAudit(false);
  return api("GET", "/api/admin/agents").then(function (data) {
    var rows = $("admin-rows");
    clear(rows);
    data.agents.forEach(function (account) { rows.appendChild(accountRow(account, data.roles)); });
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("admin-error"), error.message);
  });
}

function accountsHead() {
  var table = $("admin-rows").parentNode;
  if (table.getAttribute("data-columns") === "full") return;
  table.setAttribute("data-columns", "full");
  var head = table.querySelector("thead");
  clear(head);
  head.appendChild(el("tr", null,
    ...["Name", "Email", "Role", "Status", "Last sign-in", "Presence"].map(function (name) {
      return el("th", { scope: "col", text: name });
    }).concat([el("th", { scope: "col" }, el("span", { class: "visually-hidden", text: "Actions" }))])));
  if (!table.parentNode.classList.contains("table-scroll")) {
    var scroll = el("div", { class: "table-scroll" });
    table.parentNode.insertBefore(scroll, table);
    scroll.appendChild(table);
  }
}

/* ---------- confirmation ---------- */

/* A modal dialog; resolves with the fields' values on confirm, null otherwise. */
function ask(options) {
  var dialog = el("dialog", { class: "confirm-dialog", "aria-labelledby": "confirm-title" });
  var form = el("form", { method: "dialog", novalidate: true },
    el("h3", { id: "confirm-title", text: options.title }),
    ...options.lines.map(function (line) { return el("p", { text: line }); }),
    ...(options.fields || []).map(function (field) {
      return el("div", null,
        el("label", { for: "confirm-" + field.name, text: field.label }),
        el("input", { id: "confirm-" + field.name, name: field.name, type: field.type || "text", value: field.value || "", autocomplete: "off" }));
    }),
    el("p", { id: "confirm-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("div", { class: "form-actions" },
      el("button", { type: "button", id: "confirm-cancel", class: "button", text: "Cancel" }),
      el("button", { type: "submit", id: "confirm-ok", class: "button " + (options.danger ? "danger-solid" : "primary"), text: options.confirm })));
  dialog.appendChild(form);
  document.body.appendChild(dialog);
  return new Promise(function (resolve) {
    var answered = false;
    function finish(value) {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var values = {};
      (options.fields || []).forEach(function (field) { values[field.name] = $("confirm-" + field.name).value; });
      finish(values);
    });
    $("confirm-cancel").addEventListener("click", function () { finish(null); });
    dialog.addEventListener("cancel", function () { finish(null); });
    dialog.showModal();
    (options.fields && options.fields.length ? $("confirm-" + options.fields[0].name) : $("confirm-cancel")).focus();
  });
}

function plural(count, one, many) {
  return count + " " + (count === 1 ? one : many);
}

/* What stopping to take chats does to the account's open work, in words. */
function consequences(account) {
  var lines = [];
  if (account.open_chats) {
    lines.push(plural(account.open_chats, "chat", "chats") + " " + account.name +
      (account.open_chats === 1 ? " holds goes" : " holds go") +
      " back to the queue now; the customers are told, and another agent can claim them.");
  } else {
    lines.push(account.name + " holds no chats right now.");
  }
  if (account.open_follow_ups) {
    lines.push(plural(account.open_follow_ups, "follow-up", "follow-ups") + " " + account.name +
      " owns " + (account.open_follow_ups === 1 ? "goes" : "go") + " to the colleague with the fewest.");
  }
  return lines;
}

function accountRow(account, roles) {
  var self = session.me && account.id === session.me.id;
  var select = el("select", {
    id: "role-" + account.id,
    "aria-label": "Role of " + account.name,
    disabled: self || !account.active
  });
  roles.forEach(function (role) {
    select.appendChild(el("option", { value: role, text: ROLE_NAMES[role] || role }));
  });
  select.value = account.role;
  select.addEventListener("change", function () {
    var role = select.value;
    var roleName = ROLE_NAMES[role] || role;
    var stopsChats = CHAT_ROLES.indexOf(account.role) >= 0 && CHAT_ROLES.indexOf(role) < 0;
    var lines = stopsChats
      ? [roleName + "s do not take chats."].concat(consequences(account))
      : [account.name + "'s chats and follow-ups stay with " + account.name + "."];
    ask({
      title: "Make " + account.name + " " + (/^[AEIOU]/.test(roleName) ? "an " : "a ") + roleName.toLowerCase() + "?",
      lines: lines,
      confirm: "Change role"
    }).then(function (ok) {
      if (!ok) { select.value = account.role; return; }
      changeAccount(account, { role: role }, account.name + " is now " + roleName + ".",
        function () { select.value = account.role; });
    });
  });
  var toggle = el("button", {
    type: "button",
    class: "button small-button" + (account.active ? " danger" : ""),
    disabled: self,
    "aria-label": (account.active ? "Disable " : "Enable ") + account.name,
    text: account.active ? "Disable" : "Enable",
    onclick: function () {
      if (!account.active) {
        changeAccount(account, { active: true }, account.name + " is enabled again.");
        return;
      }
      ask({
        title: "Disable " + account.name + "?",
        lines: [account.name + " is signed out everywhere at once and can no longer sign in."]
          .concat(CHAT_ROLES.indexOf(account.role) >= 0 ? consequences(account) : []),
        confirm: "Disable " + account.name,
        danger: true
      }).then(function (ok) {
        if (ok) changeAccount(account, { active: false }, account.name + " is disabled and signed out.");
      });
    }
  });
  var edit = el("button", {
    type: "button", class: "button small-button", text: "Edit",
    "aria-label": "Edit the name or e-mail of " + account.name,
    onclick: function () { editAccount(account); }
  });
  var reset = el("button", {
    type: "button", class: "button small-button", text: "Reset password",
    disabled: !account.active,
    "aria-label": "Reset password of " + account.name + " (e-mails a one-time link)",
    onclick: function () { sendReset(account); }
  });
  return el("tr", { class: account.active ? "" : "is-disabled" },
    el("td", null, el("span", { text: account.name }), self ? el("span", { class: "muted small", text: " (you)" }) : null),
    el("td", { text: account.email }),
    el("td", null, select),
    el("td", null, el("span", {
      class: "badge " + (account.active ? "badge-verified" : "badge-unverified"),
      text: account.active ? "Enabled" : "Disabled"
    })),
    el("td", { class: "small", text: account.last_login_at ? dateTime(account.last_login_at) : "Never" }),
    el("td", null, el("span", { class: "presence-dot presence-" + account.presence, text: account.presence })),
    el("td", null, el("div", { class: "row-actions" }, edit, reset, toggle)));
}

function editAccount(account) {
  ask({
    title: "Edit " + account.name,
    lines: ["A new e-mail is the one to sign in with from now on."],
    fields: [
      { name: "name", label: "Name", value: account.name },
      { name: "email", label: "Email", type: "email", value: account.email }
    ],
    confirm: "Save"
  }).then(function (values) {
    if (!values) return;
    var change = {};
    if (values.name.trim() !== account.name) change.name = values.name;
    if (values.email.trim().toLowerCase() !== account.email) change.email = values.email;
    if (!Object.keys(change).length) return;
    changeAccount(account, change, "Saved " + (values.name.trim() || account.name) + ".");
  });
}

function sendReset(account) {
  ask({
    title: "Send " + account.name + " a password-reset link?",
    lines: [
      "We e-mail " + account.email + " a link to choose a new password. It works once, for 24 hours; a newer link replaces it.",
      "Setting the new password signs " + account.name + " out everywhere."
    ],
    confirm: "Send link"
  }).then(function (ok) {
    if (!ok) return;
    setAlert($("admin-error"), "");
    api("POST", "/api/admin/agents/" + account.id + "/password-reset").then(function (data) {
      var status = $("admin-status");
      status.textContent = data.demo_mode
        ? "No mail server is set up: the link for " + account.name + " is kept in the Outbox. Pass it on safely."
        : data.mail.status === "failed"
          ? "The mail to " + account.name + " could not be sent; see the Outbox."
          : "Sent " + account.name + " a link to set a new password (" + data.mail.email + ").";
      show(status, true);
      loadAudit(false);
    }).catch(function (error) {
      if (error.status !== 401) setAlert($("admin-error"), error.message);
    });
  });
}

/* ---------- the audit log ---------- */

var auditBefore = null;

function auditSection() {
  if ($("audit")) return;
  var section = el("section", { id: "audit", class: "audit", "aria-labelledby": "audit-title" },
    el("h3", { id: "audit-title", text: "Audit log" }),
    el("form", { id: "audit-filter", class: "audit-filter", role: "search", novalidate: true },
      el("div", null, el("label", { for: "audit-actor", text: "Who (e-mail)" }), el("input", { id: "audit-actor", type: "email", autocomplete: "off" })),
      el("div", null, el("label", { for: "audit-action", text: "Action" }),
        el("select", { id: "audit-action" },
          ...[["", "Any action"], ["agent.", "Accounts"], ["agent.change", "Account changes"], ["agent.create", "New accounts"],
            ["agent.password_reset_sent", "Reset links sent"], ["agent.password_reset", "Passwords reset"], ["canned.", "Canned replies"]]
            .map(function (option) { return el("option", { value: option[0], text: option[1] }); }))),
      el("button", { type: "submit", class: "button", text: "Filter" })),
    el("p", { id: "audit-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("div", { class: "table-scroll" },
      el("table", { class: "table" },
        el("caption", { class: "visually-hidden", text: "Audit log, newest first" }),
        el("thead", null, el("tr", null, ...["When", "Who", "Action", "About", "Details"].map(function (name) {
          return el("th", { scope: "col", text: name });
        }))),
        el("tbody", { id: "audit-rows" }))),
    el("button", { type: "button", id: "audit-more", class: "button", text: "Older entries", hidden: true }));
  $("create-agent").parentNode.insertBefore(section, $("create-agent").nextSibling);
  $("audit-filter").addEventListener("submit", function (event) {
    event.preventDefault();
    loadAudit(false);
  });
  $("audit-more").addEventListener("click", function () { loadAudit(true); });
}

function details(detail) {
  return Object.keys(detail || {}).map(function (key) {
    var value = detail[key];
    return key + ": " + (typeof value === "object" ? JSON.stringify(value) : String(value));
  }).join(", ");
}

function loadAudit(more) {
  var query = { limit: "25" };
  if ($("audit-actor").value.trim()) query.actor = $("audit-actor").value.trim();
  if ($("audit-action").value) query.action = $("audit-action").value;
  if (more && auditBefore) query.before = String(auditBefore);
  return api("GET", "/api/admin/audit?" + new URLSearchParams(query).toString()).then(function (data) {
    var rows = $("audit-rows");
    if (!more) clear(rows);
    data.entries.forEach(function (entry) {
      rows.appendChild(el("tr", null,
        el("td", { class: "small", text: dateTime(entry.at) }),
        el("td", { text: entry.actor }),
        el("td", { text: entry.action }),
        el("td", { text: entry.subject || "" }),
        el("td", { class: "small", text: details(entry.detail) })));
    });
    if (!rows.children.length) rows.appendChild(el("tr", null, el("td", { colspan: "5", class: "empty", text: "Nothing logged yet." })));
    auditBefore = data.next_before;
    show($("audit-more"), Boolean(auditBefore));
    setAlert($("audit-error"), "");
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("audit-error"), error.message);
  });
}

function changeAccount(account, change, done, undo) {
  setAlert($("admin-error"), "");
  api("PATCH", "/api/admin/agents/" + account.id, change).then(function (data) {
    var status = $("admin-status");
    status.textContent = done + (data.released_chats
      ? " " + plural(data.released_chats, "chat", "chats") + " went back to the queue." : "");
    announce(status.textContent);
    loadAudit(false);
    show(status, true);
    loadColleagues();
    return loadAccounts();
  }).catch(function (error) {
    if (undo) undo();
    if (error.status !== 401) setAlert($("admin-error"), error.message);
  });
}

function onCreateAccount(event) {
  event.preventDefault();
  var body = {
    name: $("new-name").value.trim(),
    email: $("new-email").value.trim(),
    role: $("new-role").value,
    password: $("new-password").value
  };
  var problem = !body.name ? ["new-name", "Enter a name."]
    : !body.email ? ["new-email", "Enter an email address."]
    : !body.password ? ["new-password", "Enter a password."] : null;
  if (problem) {
    setAlert($("create-error"), problem[1]);
    $(problem[0]).focus();
    return;
  }
  api("POST", "/api/admin/agents", body).then(function (data) {
    setAlert($("create-error"), "");
    ["new-name", "new-email", "new-password"].forEach(function (id) { $(id).value = ""; });
    var status = $("admin-status");
    status.textContent = "Created " + (ROLE_NAMES[data.agent.role] || data.agent.role).toLowerCase() +
      " account for " + data.agent.name + " (" + data.agent.email + ").";
    show(status, true);
    loadColleagues();
    return loadAccounts();
  }).catch(function (error) {
    if (error.status === 401) return;
    setAlert($("create-error"), error.message);
    var field = { bad_email: "new-email", email_taken: "new-email", bad_name: "new-name",
      weak_password: "new-password", bad_password: "new-password" }[error.code];
    if (field) $(field).focus();
  });
}

export function bindAdmin() {
  $("create-agent").addEventListener("submit", onCreateAccount);
}

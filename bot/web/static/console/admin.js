/* The Accounts tab (admins): roles, enable/disable, new accounts. */

import { api } from "./api.js";
import { loadColleagues } from "./colleagues.js";
import { $, clear, el, setAlert, show } from "./dom.js";
import { ROLE_NAMES, session } from "./session.js";

export function loadAccounts() {
  setAlert($("admin-error"), "");
  return api("GET", "/api/admin/agents").then(function (data) {
    var rows = $("admin-rows");
    clear(rows);
    data.agents.forEach(function (account) { rows.appendChild(accountRow(account, data.roles)); });
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("admin-error"), error.message);
  });
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
    changeAccount(account, { role: select.value },
      account.name + " is now " + (ROLE_NAMES[select.value] || select.value) + ".",
      function () { select.value = account.role; });
  });
  var toggle = el("button", {
    type: "button",
    class: "button small-button" + (account.active ? " danger" : ""),
    disabled: self,
    "aria-label": (account.active ? "Disable " : "Enable ") + account.name,
    text: account.active ? "Disable" : "Enable",
    onclick: function () {
      changeAccount(account, { active: !account.active },
        account.name + (account.active ? " is disabled and signed out." : " is enabled again."));
    }
  });
  return el("tr", { class: account.active ? "" : "is-disabled" },
    el("td", null, el("span", { text: account.name }), self ? el("span", { class: "muted small", text: " (you)" }) : null),
    el("td", { text: account.email }),
    el("td", null, select),
    el("td", null, el("span", {
      class: "badge " + (account.active ? "badge-verified" : "badge-unverified"),
      text: account.active ? "Enabled" : "Disabled"
    })),
    el("td", null, el("span", { class: "presence-dot presence-" + account.presence, text: account.presence })),
    el("td", null, toggle));
}

function changeAccount(account, change, done, undo) {
  setAlert($("admin-error"), "");
  api("PATCH", "/api/admin/agents/" + account.id, change).then(function () {
    var status = $("admin-status");
    status.textContent = done;
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

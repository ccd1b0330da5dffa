/* The Outbox tab: mail to customers (recaps, follow-ups), newest first. */

import { api } from "./api.js";
import { $, clear, el, setAlert, show } from "./dom.js";
import { dateTime } from "./time.js";

export function loadOutbox() {
  setAlert($("outbox-error"), "");
  return api("GET", "/api/outbox?limit=100").then(function (data) {
    var rows = $("outbox-rows");
    clear(rows);
    var mode = $("outbox-mode");
    mode.textContent = data.demo_mode
      ? "Demo mode: no mail server is set up, so mail is kept here instead of being sent."
      : "Mail is sent through the configured mail server.";
    show(mode, true);
    data.mails.forEach(function (mail) {
      rows.appendChild(el("tr", null,
        el("td", { text: dateTime(mail.created_at) }),
        el("td", { text: mail.recipient }),
        el("td", { text: mail.subject }),
        el("td", null, el("span", { class: "badge badge-" + mail.status, text: mail.status }),
          mail.error ? el("span", { class: "muted small", text: " " + mail.error }) : null),
        el("td", null, el("details", null,
          el("summary", { text: "Show" }),
          el("pre", { class: "mail-body", text: mail.body })))));
    });
    show($("outbox-empty"), data.mails.length === 0);
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("outbox-error"), error.message);
  });
}

export function bindOutbox() {
  $("outbox-refresh").addEventListener("click", loadOutbox);
}

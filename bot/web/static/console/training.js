/* The Training tab (trainers and admins): the inbox of messages the bot
 * struggled with, similar ones grouped, and one decision per group (an
 * article, out of scope, dismiss) with undo. Every text goes on the page as text.
 */

import { api } from "./api.js";
import { $, clear, el, setAlert, show } from "./dom.js";
import { dateTime } from "./time.js";

var REASONS = {
  fallback: "not understood", low_confidence: "unsure", handoff: "before a handoff",
  kb_rejected: "article did not help", low_rating: "rated 1–2"
};
var ROLES = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "" };

function query() {
  var args = ["sort=" + encodeURIComponent($("training-sort").value)];
  if ($("training-reason").value) args.push("reason=" + encodeURIComponent($("training-reason").value));
  return "/api/training/inbox?" + args.join("&");
}

export function loadTraining() {
  setAlert($("training-error"), "");
  return api("GET", query()).then(function (data) {
    var list = $("training-groups");
    clear(list);
    data.groups.forEach(function (group) { list.appendChild(groupItem(group)); });
    $("training-count").textContent = String(data.groups.length);
    show($("training-empty"), data.groups.length === 0);
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("training-error"), error.message);
  });
}

function status(message) {
  $("training-status").textContent = message;
  show($("training-status"), Boolean(message));
}

function decide(group, label, description, node) {
  var body = { group_id: group.group_id };
  Object.keys(label).forEach(function (key) { body[key] = label[key]; });
  setAlert($("training-error"), "");
  return api("POST", "/api/training/annotations", body).then(function (data) {
    var ids = data.annotations.map(function (annotation) { return annotation.id; });
    var shown = node.querySelector(".training-actions");
    clear(shown);
    shown.appendChild(el("span", { class: "training-done", text: description }));
    shown.appendChild(el("button", {
      type: "button", class: "button ghost", text: "Undo",
      onclick: function () { undo(ids); }
    }));
    node.classList.add("is-decided");
    status(description + " (" + group.count + (group.count === 1 ? " message)" : " messages)"));
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("training-error"), error.message);
  });
}

function undo(ids) {
  return Promise.all(ids.map(function (id) {
    return api("DELETE", "/api/training/annotations/" + id);
  })).then(function () {
    status("Undone.");
    return loadTraining();
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("training-error"), error.message);
  });
}

function contextList(item) {
  var list = el("ol", { class: "training-context" });
  item.context.forEach(function (turn) {
    list.appendChild(el("li", { class: "msg msg-" + turn.role + (turn.current ? " is-current" : "") },
      el("span", { class: "msg-who", text: ROLES[turn.role] || turn.role }),
      el("span", { class: "msg-text", text: turn.text })));
  });
  return list;
}

function itemDetails(item) {
  var intents = el("span", { class: "chips" });
  item.intents.forEach(function (intent) {
    var confidence = typeof intent.confidence === "number" ? " " + Math.round(intent.confidence * 100) + "%" : "";
    intents.appendChild(el("span", { class: "chip chip-intent is-low", text: intent.name + confidence }));
  });
  item.reasons.forEach(function (reason) {
    intents.appendChild(el("span", { class: "chip", text: REASONS[reason] || reason }));
  });
  return el("li", { class: "training-item" },
    el("p", { class: "training-meta" }, el("span", { class: "muted small", text: dateTime(item.at) }), intents),
    contextList(item),
    item.outcome.length ? el("p", { class: "muted small", text: "Then: " + item.outcome.join("; ") }) : null);
}

function groupItem(group) {
  var node = el("li", { class: "training-group" });
  var reasons = Object.keys(group.reasons).map(function (reason) {
    return (REASONS[reason] || reason) + " ×" + group.reasons[reason];
  }).join(", ");
  node.appendChild(el("div", { class: "training-head" },
    el("p", { class: "training-text", text: group.text }),
    el("span", { class: "count", title: "messages in this group", text: String(group.count) })));
  node.appendChild(el("p", { class: "muted small", text: reasons + " · latest " + dateTime(group.latest_at) }));
  var actions = el("div", { class: "training-actions" });
  group.articles.forEach(function (article) {
    actions.appendChild(el("button", {
      type: "button", class: "button primary",
      title: "Answer with this article (search score " + Math.round(article.score * 100) + "%)",
      text: article.title,
      onclick: function () { decide(group, { article: article.slug }, "Labelled: " + article.title, node); }
    }));
  });
  actions.appendChild(el("button", {
    type: "button", class: "button",
    text: "Out of scope",
    onclick: function () { decide(group, { out_of_scope: true }, "Marked out of scope", node); }
  }));
  actions.appendChild(el("button", {
    type: "button", class: "button ghost",
    text: "Dismiss",
    onclick: function () { decide(group, { dismiss: true }, "Dismissed", node); }
  }));
  node.appendChild(actions);
  var items = el("ol", { class: "training-items" });
  group.items.forEach(function (item) { items.appendChild(itemDetails(item)); });
  node.appendChild(el("details", { class: "training-details", open: group.count === 1 },
    el("summary", { text: group.count === 1 ? "Conversation" : "All " + group.count + " messages, in their conversations" }),
    items));
  return node;
}

export function bindTraining() {
  $("training-refresh").addEventListener("click", function () { status(""); loadTraining(); });
  $("training-reason").addEventListener("change", loadTraining);
  $("training-sort").addEventListener("change", loadTraining);
}

/* The handoff card: who the customer is, why a person, what the bot did. */

import { $, clear, el } from "./dom.js";
import { showEarlier } from "./history.js";
import { clock, dateTime, duration, serverNow } from "./time.js";

export function customerName(card) {
  var c = card.customer;
  return c.name || c.email || "Anonymous customer";
}

export function fact(list, term, value, extra) {
  if (value === null || value === undefined || value === "") return;
  var dd = el("dd", null, value);
  if (extra) dd.appendChild(extra);
  list.appendChild(el("dt", { text: term }));
  list.appendChild(dd);
}

export function renderCard(card) {
  var customer = card.customer;
  var handoff = card.handoff;
  var who = $("card-customer");
  clear(who);
  var badge = el("span", {
    class: "badge " + (customer.verified ? "badge-verified" : "badge-unverified"),
    text: customer.verified ? "Verified" : "Not verified"
  });
  fact(who, "Name", customer.name || "Not given", badge);
  fact(who, "Email", customer.email);
  fact(who, "User id", customer.user_id);
  fact(who, "Page", customer.page_url);
  fact(who, "Locale", customer.locale);
  fact(who, "Started", dateTime(customer.started_at));
  showEarlier(customer.conversation_id);

  $("card-reason").textContent = handoff.reason_text;
  $("card-reason").className = "reason reason-tag reason-" + handoff.reason;
  $("card-summary").textContent = card.summary;
  var facts = $("card-handoff");
  clear(facts);
  var since = handoff.state === "queued" || handoff.state === "follow_up"
    ? el("span", { "data-since": handoff.created_at, "data-prefix": "", text: duration(serverNow() - Date.parse(handoff.created_at)) })
    : el("span", { text: duration(handoff.waited_s * 1000) });
  fact(facts, "Waited", since);
  fact(facts, "Priority", String(handoff.priority));
  if (handoff.follow_up) {
    fact(facts, "Follow-up due", dateTime(handoff.follow_up.due_at) + (handoff.follow_up.overdue ? " (overdue)" : ""));
  }
  if (handoff.agent) fact(facts, "Agent", handoff.agent.name);

  var articles = $("card-articles");
  clear(articles);
  if (!card.articles.length) articles.appendChild(el("li", { class: "muted", text: "None" }));
  card.articles.forEach(function (article) {
    var verdict = article.helped === true ? ["helped", "Helped"]
      : article.helped === false ? ["not-helped", "Did not help"] : ["unknown", "No answer"];
    articles.appendChild(el("li", null,
      el("span", { class: "slug", text: article.slug }), " ",
      el("span", { class: "verdict verdict-" + verdict[0], text: verdict[1] }),
      el("span", { class: "muted small", text: " at " + clock(article.shown_at) })));
  });

  var actions = $("card-actions");
  clear(actions);
  if (!card.actions.length) actions.appendChild(el("li", { class: "muted", text: "Nothing yet" }));
  card.actions.forEach(function (action) {
    actions.appendChild(el("li", null,
      el("code", { text: action.action }),
      el("span", { class: "muted small", text: " at " + clock(action.at) })));
  });

  var slots = $("card-slots");
  clear(slots);
  var shown = 0;
  Object.keys(card.slots).forEach(function (name) {
    var value = card.slots[name];
    if (value === null || value === undefined || value === false || value === "") return;
    if (name === "session_started_metadata") return; // Rasa's own bookkeeping
    shown += 1;
    fact(slots, name, typeof value === "string" ? value : JSON.stringify(value));
  });
  card.entities.forEach(function (entity) {
    shown += 1;
    fact(slots, "entity " + entity.entity, String(entity.value));
  });
  if (!shown) slots.appendChild(el("dd", { class: "muted", text: "None" }));

  renderSentiment(card.sentiment);
}

function renderSentiment(points) {
  var box = $("card-sentiment");
  clear(box);
  if (!points.length) {
    box.appendChild(el("p", { class: "muted", text: "No reading yet" }));
    return;
  }
  var ns = "http://www.w3.org/2000/svg";
  var width = 260;
  var height = 48;
  var bar = Math.max(6, Math.min(28, Math.floor(width / points.length) - 4));
  var svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  var frustrated = points.filter(function (p) { return p.frustrated; }).length;
  svg.setAttribute("aria-label", points.length + " readings, " + frustrated + " frustrated");
  points.forEach(function (point, index) {
    var score = Math.max(0.05, Math.min(1, Number(point.score) || 0));
    var rect = document.createElementNS(ns, "rect");
    var h = Math.round(score * (height - 4));
    rect.setAttribute("x", String(index * (bar + 4)));
    rect.setAttribute("y", String(height - h));
    rect.setAttribute("width", String(bar));
    rect.setAttribute("height", String(h));
    rect.setAttribute("rx", "2");
    rect.setAttribute("class", point.frustrated ? "bar bar-bad" : "bar");
    var title = document.createElementNS(ns, "title");
    title.textContent = "message " + point.seq + ": frustration " + (Number(point.score) || 0).toFixed(2);
    rect.appendChild(title);
    svg.appendChild(rect);
  });
  box.appendChild(svg);
  box.appendChild(el("p", { class: "muted small", text: "Frustration per customer message, oldest first" + (frustrated ? "; " + frustrated + " frustrated" : "") + "." }));
}

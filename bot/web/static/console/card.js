/* The handoff card, in people's words: who the customer is, why a person,
 * what the bot did as sentences (articles by their titles, with whether they
 * helped), what it noted, and a labelled sentiment chart with a table of the
 * same readings behind it. */

import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { showEarlier } from "./history.js";
import { clock, dateTime, duration, serverNow } from "./time.js";

/* What each step of the bot did, said as a person would. */
var ACTION_TEXT = {
  action_answer_from_kb: "answered from the help center",
  action_answer_if_known: "looked for an answer in the help center",
  action_kb_choose_article: "offered a choice of articles",
  action_kb_feedback: "took note of the answer about the article",
  action_default_ask_affirmation: "asked the customer to confirm what they meant",
  action_default_ask_rephrase: "asked the customer to say it in other words",
  action_default_fallback: "said it did not understand",
  action_handoff: "handed the chat to the team",
  action_account_reset_start: "started a password reset",
  account_reset_form: "asked for the account's e-mail or the code",
  validate_account_reset_form: null,
  action_account_consent_ask: "named the changes and asked for a yes",
  action_account_reset_act: "acted on the customer's yes",
  action_account_reset_decline: "took note of the customer's no",
  action_check_frustration: null,
  utter_handoff: null,
  action_listen: null,
  action_session_start: null,
  action_restart: null
};
/* Steps whose article is told by the article's own sentence. */
var ANSWERING = ["action_answer_from_kb", "action_answer_if_known", "action_kb_choose_article"];
/* What the bot noted (Rasa slots), by name; each value is shown as text. */
var SLOT_TEXT = {
  kb_article: ["Last article shown", "article"],
  kb_query: ["What it searched for", "text"],
  kb_rejected: ["Articles that did not help", "articles"],
  kb_offered: ["Articles offered as choices", "articles"],
  frustrated: ["Sounded frustrated", "yes-no"],
  handed_back: ["Handed back by an agent before", "yes-no"],
  account_email: ["Account e-mail (masked)", "text"],
  account_code: ["One-time code", "text"],
  account_progress: ["How far the reset got", "text"],
  account_reset_outcome: ["Reset outcome", "text"]
};

var titles = {};
var titlesLoaded = null;
var currentCard = null;

/* Article titles by slug, loaded once (and again when a new slug turns up). */
function loadTitles(slugs) {
  var missing = slugs.some(function (slug) { return !titles[slug]; });
  if (titlesLoaded && !missing) return titlesLoaded;
  titlesLoaded = api("GET", "/api/kb/articles").then(function (data) {
    data.articles.forEach(function (article) { titles[article.slug] = article.title; });
  }).catch(function () { return null; });
  return titlesLoaded;
}

/* An article's title; its slug as words until the titles are loaded. */
export function articleTitle(slug) {
  return titles[slug] || String(slug).replace(/[-_]+/g, " ");
}

/* Article chips in the transcript, named again once the titles are known. */
function retitleChips() {
  Array.prototype.forEach.call(document.querySelectorAll("[data-article]"), function (chip) {
    chip.textContent = "article: " + articleTitle(chip.getAttribute("data-article"));
  });
}

function quoted(text) {
  return "\u2018" + text + "\u2019";
}

function humanize(name) {
  var words = String(name).replace(/^utter_/, "").replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

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

function verdictText(article) {
  if (article.helped === true) return "the customer said it helped";
  if (article.helped === false) return "the customer said it did not help";
  return "the customer did not say whether it helped";
}

function actionSentence(name) {
  if (Object.prototype.hasOwnProperty.call(ACTION_TEXT, name)) return ACTION_TEXT[name];
  if (name.indexOf("utter_") === 0) return "gave its prepared answer about " + quoted(humanize(name).toLowerCase());
  return "ran the step " + quoted(humanize(name).toLowerCase());
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/* The bot's steps as sentences, in order: [{at, seq, text, verdict}]. */
export function botSteps(card) {
  var said = {};
  card.turns.forEach(function (turn) { said[turn.seq] = turn.text; });
  var steps = [];
  card.articles.forEach(function (article) {
    steps.push({
      at: article.shown_at,
      order: article.seq,
      text: "Showed the article " + quoted(articleTitle(article.slug)) + " \u2014 " + verdictText(article) + ".",
      verdict: article.helped === true ? "helped" : article.helped === false ? "not-helped" : "unknown"
    });
  });
  var answered = {};
  card.articles.forEach(function (article) { answered[article.seq] = true; });
  card.actions.forEach(function (action) {
    var sentence = actionSentence(action.action);
    if (!sentence) return;
    // An answer that showed an article is told by the article's sentence.
    var next = action.after_seq + 1;
    if (ANSWERING.indexOf(action.action) >= 0 && (answered[next] || answered[next + 1])) return;
    var after = said[action.after_seq];
    steps.push({
      at: action.at,
      order: action.after_seq + 0.5,
      text: (after ? "After " + quoted(after) + ", " + sentence : capitalized(sentence)) + ".",
      verdict: null
    });
  });
  steps.sort(function (a, b) { return a.order - b.order; });
  return steps;
}

function slotValue(value, kind) {
  if (kind === "yes-no") return value ? "Yes" : "No";
  if (kind === "article") return articleTitle(String(value));
  if (kind === "articles") return [].concat(value).map(function (slug) { return articleTitle(String(slug)); }).join("; ");
  return plainValue(value);
}

/* A value as words: lists joined, records as "name: value", never JSON. */
function plainValue(value) {
  if (value === true) return "Yes";
  if (value === false) return "No";
  if (Array.isArray(value)) return value.map(plainValue).join(", ");
  if (value && typeof value === "object") {
    return Object.keys(value).map(function (key) { return humanize(key) + ": " + plainValue(value[key]); }).join("; ");
  }
  return String(value);
}

function renderSteps(card) {
  var list = $("card-actions");
  clear(list);
  var steps = botSteps(card);
  if (!steps.length) list.appendChild(el("li", { class: "muted", text: "Nothing yet: the bot has not answered." }));
  steps.forEach(function (step) {
    list.appendChild(el("li", { class: "step" + (step.verdict ? " step-" + step.verdict : "") },
      el("time", { class: "muted small", datetime: step.at, text: clock(step.at) }), " ",
      el("span", { text: step.text })));
  });
}

/* What the assistant did about the account (the audit log), oldest first. */
function renderAccount(card) {
  var steps = card.account_steps || [];
  var list = $("card-account");
  clear(list);
  $("card-account-section").hidden = !steps.length;
  steps.forEach(function (step) {
    var failed = step.action === "account.reset" && step.detail.result !== "ok";
    list.appendChild(el("li", { class: "step" + (failed ? " step-not-helped" : "") },
      el("time", { class: "muted small", datetime: step.at, text: clock(step.at) }), " ",
      el("span", { text: step.text + "." })));
  });
}

function renderNoted(card) {
  var slots = $("card-slots");
  clear(slots);
  var shown = 0;
  Object.keys(card.slots).forEach(function (name) {
    var value = card.slots[name];
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
    if (name === "session_started_metadata") return; // Rasa's own bookkeeping
    var known = SLOT_TEXT[name];
    if (!known && value === false) return;
    shown += 1;
    fact(slots, known ? known[0] : humanize(name), slotValue(value, known ? known[1] : "text"));
  });
  card.entities.forEach(function (entity) {
    shown += 1;
    fact(slots, "Mentioned " + humanize(entity.entity).toLowerCase(), plainValue(entity.value));
  });
  // A <dl> may hold only dt/dd pairs: "Nothing noted" is a paragraph beside it.
  var empty = $("card-slots-empty");
  slots.hidden = !shown;
  if (!shown && !empty) slots.after(el("p", { id: "card-slots-empty", class: "muted", text: "Nothing noted" }));
  if (shown && empty) empty.remove();
}

/* The stored one-line summary names articles by slug: say their titles. It
 * ends with the reason, which the tag above it says already. */
function summaryText(card) {
  var text = card.summary || "";
  var reason = "; " + card.handoff.reason_text;
  if (text.slice(-reason.length) === reason) text = text.slice(0, -reason.length);
  var slugs = card.articles.map(function (article) { return article.slug; });
  // Longest first: one slug may start another.
  slugs.sort(function (a, b) { return b.length - a.length; }).forEach(function (slug) {
    text = text.split(slug).join(quoted(articleTitle(slug)));
  });
  return text;
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

  $("card-reason").textContent = capitalized(handoff.reason_text) + ".";
  $("card-reason").className = "reason reason-tag reason-" + handoff.reason;
  $("card-summary").textContent = summaryText(card);
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

  var slugs = card.articles.map(function (a) { return a.slug; });
  Object.keys(SLOT_TEXT).forEach(function (name) {
    var value = card.slots[name];
    if (SLOT_TEXT[name][1] === "article" && typeof value === "string") slugs.push(value);
    if (SLOT_TEXT[name][1] === "articles" && Array.isArray(value)) slugs = slugs.concat(value.map(String));
  });
  renderSteps(card);
  renderAccount(card);
  renderNoted(card);
  renderSentiment(card);
  if (slugs.length) {
    // Titles come from the knowledge base; until then slugs read as words.
    loadTitles(slugs).then(function () {
      retitleChips();
      if (card === currentCard) {
        $("card-summary").textContent = summaryText(card);
        renderSteps(card);
        renderNoted(card);
      }
    });
  }
  currentCard = card;
}

var CHART = { width: 300, height: 120, left: 34, bottom: 22, top: 8, right: 6 };

function svgNode(tag, attrs, text) {
  var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(score) {
  return Math.round(Math.max(0, Math.min(1, Number(score) || 0)) * 100) + "%";
}

/* Frustration per customer message: a bar chart with labelled axes, and the
 * same readings as a table for screen readers and exact values. */
function renderSentiment(card) {
  var points = card.sentiment;
  var box = $("card-sentiment");
  clear(box);
  if (!points.length) {
    box.appendChild(el("p", { class: "muted", text: "No reading yet: the bot has not read a customer message." }));
    return;
  }
  var said = {};
  card.turns.forEach(function (turn) { said[turn.seq] = turn.text; });
  var frustrated = points.filter(function (p) { return p.frustrated; }).length;
  var c = CHART;
  var plotW = c.width - c.left - c.right;
  var plotH = c.height - c.top - c.bottom;
  var slot = plotW / points.length;
  var bar = Math.max(4, Math.min(28, slot - 6));
  var svg = svgNode("svg", {
    viewBox: "0 0 " + c.width + " " + c.height, class: "sentiment-chart",
    role: "img", "aria-labelledby": "sentiment-caption"
  });
  [0, 0.5, 1].forEach(function (level) {
    var y = c.top + plotH * (1 - level);
    svg.appendChild(svgNode("line", { x1: c.left, x2: c.width - c.right, y1: y, y2: y, class: "grid" }));
    svg.appendChild(svgNode("text", { x: c.left - 4, y: y + 3, class: "axis-label", "text-anchor": "end" }, Math.round(level * 100) + "%"));
  });
  var threshold = c.top + plotH * (1 - 0.6);
  svg.appendChild(svgNode("line", { x1: c.left, x2: c.width - c.right, y1: threshold, y2: threshold, class: "threshold" }));
  points.forEach(function (point, index) {
    var score = Math.max(0.02, Math.min(1, Number(point.score) || 0));
    var h = score * plotH;
    var x = c.left + index * slot + (slot - bar) / 2;
    svg.appendChild(svgNode("rect", {
      x: x, y: c.top + plotH - h, width: bar, height: h, rx: 2,
      class: point.frustrated ? "bar bar-bad" : "bar"
    }));
    svg.appendChild(svgNode("text", { x: x + bar / 2, y: c.height - 8, class: "axis-label", "text-anchor": "middle" }, String(index + 1)));
  });
  var caption = el("figcaption", {
    id: "sentiment-caption",
    text: "Frustration of each customer message, oldest first (1 to " + points.length + "); " +
      (frustrated ? frustrated + " of " + points.length + " sounded frustrated (60% or more)." : "none sounded frustrated.")
  });
  var rows = el("tbody");
  points.forEach(function (point, index) {
    rows.appendChild(el("tr", { class: point.frustrated ? "is-frustrated" : "" },
      el("th", { scope: "row", text: String(index + 1) }),
      el("td", null, el("time", { datetime: point.at, text: clock(point.at) })),
      el("td", { text: said[point.seq] || "" }),
      el("td", { text: percent(point.score) }),
      el("td", { text: point.frustrated ? "Yes" : "No" })));
  });
  var table = el("table", { class: "table sentiment-table" },
    el("caption", { class: "visually-hidden", text: "Frustration per customer message" }),
    el("thead", null, el("tr", null,
      el("th", { scope: "col", text: "#" }),
      el("th", { scope: "col", text: "Time" }),
      el("th", { scope: "col", text: "The customer wrote" }),
      el("th", { scope: "col", text: "Frustration" }),
      el("th", { scope: "col", text: "Frustrated" }))),
    rows);
  box.appendChild(el("figure", { class: "sentiment" }, svg, caption));
  box.appendChild(el("details", { class: "sentiment-details" }, el("summary", { text: "Readings as a table" }), table));
}

/* A model's evaluation, side by side with the live model's (Train & deploy).
 * Both were measured on the same held-out set (bot/training/evaluation.py):
 * a summary table, a bar chart of each intent's F1 (SVG drawn with
 * attributes, no inline styles or scripts: CSP-safe), and the most confused
 * pairs. Every text goes on the page as text.
 */

import { el } from "./dom.js";
import { dateTime } from "./time.js";

/* The live model when no trained one was deployed, in a trainer's words
 * (the model file under models/ that the installation came with). */
export var INSTALLED_MODEL = "the model that came with this installation";

var SVG = "http://www.w3.org/2000/svg";
var ROW = 22;
var LABEL = 170;
var BAR = 260;

function svg(tag, attrs, text) {
  var node = document.createElementNS(SVG, tag);
  Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(value) {
  return typeof value === "number" ? (Math.round(value * 1000) / 10).toFixed(1) + " %" : "–";
}

function passedStories(report) {
  return report ? report.stories.passed.length : null;
}

function stories(report) {
  if (!report) return "–";
  var passed = report.stories.passed.length;
  return passed + " of " + (passed + report.stories.failed.length);
}

function summary(evaluation) {
  var candidate = evaluation.candidate;
  var live = evaluation.live;
  var liveName = live ? (live.version || INSTALLED_MODEL) : "no live model";
  // Compared as numbers: "100.0 %" is less than "95.1 %" as text.
  function row(label, a, b, aValue, bValue) {
    var compared = typeof aValue === "number" && typeof bValue === "number" && aValue !== bValue;
    var better = compared ? (aValue > bValue ? " is-better" : " is-worse") : "";
    return el("tr", {}, el("th", { scope: "row", text: label }),
      el("td", { class: "eval-candidate" + better, text: a }), el("td", { text: b }));
  }
  return el("table", { class: "eval-table" },
    el("caption", { class: "visually-hidden", text: "Candidate and live model on the held-out set" }),
    el("thead", {}, el("tr", {}, el("th", { text: "" }),
      el("th", { scope: "col", text: "Candidate" }), el("th", { scope: "col", text: "Live: " + liveName }))),
    el("tbody", {},
      row("Accuracy", percent(candidate.accuracy), live ? percent(live.accuracy) : "–",
        candidate.accuracy, live ? live.accuracy : null),
      row("Macro F1", percent(candidate.macro_f1), live ? percent(live.macro_f1) : "–",
        candidate.macro_f1, live ? live.macro_f1 : null),
      row("Test stories passed", stories(candidate), stories(live),
        passedStories(candidate), passedStories(live))));
}

/* Horizontal bars: per intent, the candidate's F1 above the live model's. */
function chart(evaluation) {
  var candidate = evaluation.candidate.per_intent;
  var live = evaluation.live ? evaluation.live.per_intent : {};
  var intents = Object.keys(candidate).sort();
  var height = intents.length * ROW * 1.5 + 24;
  var width = LABEL + BAR + 60;
  var drawing = svg("svg", {
    class: "eval-chart", viewBox: "0 0 " + width + " " + height, role: "img",
    "aria-labelledby": "eval-chart-title"
  });
  drawing.appendChild(svg("title", { id: "eval-chart-title" }, "F1 per intent: candidate and live model"));
  drawing.appendChild(svg("rect", { x: LABEL, y: 2, width: 10, height: 10, class: "bar-candidate" }));
  drawing.appendChild(svg("text", { x: LABEL + 14, y: 11, class: "legend" }, "candidate"));
  drawing.appendChild(svg("rect", { x: LABEL + 100, y: 2, width: 10, height: 10, class: "bar-live" }));
  drawing.appendChild(svg("text", { x: LABEL + 114, y: 11, class: "legend" }, "live"));
  intents.forEach(function (intent, index) {
    var top = 22 + index * ROW * 1.5;
    var mine = candidate[intent].f1;
    var theirs = live[intent] ? live[intent].f1 : null;
    var name = intent.length > 24 ? intent.slice(0, 23) + "…" : intent;
    drawing.appendChild(svg("text", { x: LABEL - 6, y: top + 14, class: "label", "text-anchor": "end" }, name));
    drawing.appendChild(svg("rect", { x: LABEL, y: top, width: Math.max(1, mine * BAR), height: 9, class: "bar-candidate" }));
    drawing.appendChild(svg("text", { x: LABEL + mine * BAR + 4, y: top + 8, class: "value" }, percent(mine)));
    if (theirs !== null) {
      drawing.appendChild(svg("rect", { x: LABEL, y: top + 10, width: Math.max(1, theirs * BAR), height: 9, class: "bar-live" }));
      drawing.appendChild(svg("text", { x: LABEL + theirs * BAR + 4, y: top + 19, class: "value" }, percent(theirs)));
    }
  });
  return drawing;
}

function confusions(evaluation) {
  var pairs = evaluation.candidate.confused;
  if (!pairs.length) return el("p", { class: "small muted", text: "No message of the held-out set was taken for another intent." });
  var list = el("ol", { class: "eval-confused small" });
  pairs.forEach(function (pair) {
    list.appendChild(el("li", { text: pair.intent + " taken for " + pair.predicted + " × " + pair.count }));
  });
  return list;
}

function failedStories(evaluation) {
  var failed = evaluation.candidate.stories.failed;
  var livePassed = evaluation.live ? evaluation.live.stories.passed : [];
  if (!failed.length) return null;
  var list = el("ul", { class: "eval-stories small" });
  failed.forEach(function (name) {
    list.appendChild(el("li", { text: name + (livePassed.indexOf(name) >= 0 ? " (the live model passes it)" : "") }));
  });
  return el("div", {}, el("h4", { text: "Test stories the candidate fails" }), list);
}

/* What the evaluation was measured against, and when. */
function measured(version, evaluation, options) {
  var live = evaluation.live;
  var against = !live ? "with no live model"
    : live.version === version ? "as the live model"
    : "beside " + (live.version || INSTALLED_MODEL);
  return "Evaluated " + dateTime(evaluation.evaluated_at) + ", " + against + ", on the same held-out set (" +
    evaluation.held_out.messages + " messages the models did not learn from, and the test stories)." +
    (options.stale ? " The live model is " + (options.live || INSTALLED_MODEL) +
      " now: re-evaluate before deploying." : "");
}

/* The evaluation of model `version`, or a note when it has none.
 * options: live (the live version now, null: the installed one), stale (evaluated
 * against another live model), busy (a job runs), reevaluate (starts one). */
export function evaluationView(version, evaluation, options) {
  options = options || {};
  var box = el("section", { id: "model-evaluation", class: "eval-box", "aria-labelledby": "eval-title" });
  var head = el("div", { class: "eval-head" }, el("h3", { id: "eval-title", text: "Evaluation of " + version }));
  if (options.reevaluate) {
    head.appendChild(el("button", {
      type: "button", id: "model-reevaluate", class: "button" + (options.stale || !evaluation ? " primary" : ""),
      text: "Re-evaluate", disabled: options.busy || null,
      title: options.busy ? "A job is running: wait for it to finish"
        : "Evaluate " + version + " again against the live model, on the held-out set as the data stands now",
      onclick: options.reevaluate
    }));
  }
  box.appendChild(head);
  if (!evaluation) {
    box.appendChild(el("p", { class: "small", text: "Not evaluated against the live model: press Re-evaluate (or run baton evaluate " + version + ")." }));
    return box;
  }
  box.appendChild(el("p", { id: "eval-measured", class: "small" + (options.stale ? " eval-stale" : " muted"),
    text: measured(version, evaluation, options) }));
  box.appendChild(summary(evaluation));
  box.appendChild(el("h4", { text: "F1 per intent" }));
  box.appendChild(el("div", { class: "eval-chart-box" }, chart(evaluation)));
  box.appendChild(el("h4", { text: "Most confused (candidate)" }));
  box.appendChild(confusions(evaluation));
  var failed = failedStories(evaluation);
  if (failed) box.appendChild(failed);
  return box;
}

/* The Training tab (trainers and admins), three panels:
 * - Inbox: messages the bot struggled with, similar ones grouped, and one
 *   decision per group (an article, an intent, out of scope, dismiss) with undo;
 * - Intents: every intent with its examples; add, remove, create;
 * - Train & deploy: a training job's live progress, the trained models with
 *   their evaluation against the live model (evaluation.js), re-evaluate a
 *   model against the model live now (a job too, followed the same way),
 *   deploy (an admin may override the regression guard with a reason) and
 *   roll back.
 * Every text goes on the page as text.
 */

import { api } from "./api.js";
import { $, clear, el, setAlert, show } from "./dom.js";
import { INSTALLED_MODEL, evaluationView } from "./evaluation.js";
import { session } from "./session.js";
import { dateTime } from "./time.js";

var REASONS = {
  fallback: "not understood", low_confidence: "unsure", handoff: "before a handoff",
  kb_rejected: "article did not help", low_rating: "rated 1–2",
  agent_resolved: "resolved by an agent"
};
var ROLES = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "" };

function query() {
  var args = ["sort=" + encodeURIComponent($("training-sort").value)];
  if ($("training-reason").value) args.push("reason=" + encodeURIComponent($("training-reason").value));
  return "/api/training/inbox?" + args.join("&");
}

export function loadTraining() {
  setAlert($("training-error"), "");
  if (panel !== "inbox") return panel === "intents" ? loadIntents() : loadModels();
  return Promise.all([api("GET", query()), intentNames()]).then(function (answers) {
    var data = answers[0];
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
  actions.appendChild(intentPicker(group, node));
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
  buildPanels();
  $("training-refresh").addEventListener("click", function () { status(""); loadTraining(); });
  $("training-reason").addEventListener("change", loadTraining);
  $("training-sort").addEventListener("change", loadTraining);
}

/* ---- Panels ---- */

var panel = "inbox";
var knownIntents = [];
var polling = null;
/* The live model's version (null: the installed one), and whether a job runs. */
var liveVersion = null;
var jobActive = false;
var shownVersion = null;
var shownEvaluation = null;

function intentNames() {
  return api("GET", "/api/training/intents").then(function (data) {
    knownIntents = data.intents.map(function (intent) { return intent.name; });
    minExamples = data.min_examples;
    return data;
  });
}

function intentPicker(group, node) {
  var guesses = [];
  group.items.forEach(function (item) {
    item.intents.forEach(function (intent) {
      if (knownIntents.indexOf(intent.name) >= 0 && guesses.indexOf(intent.name) < 0) guesses.push(intent.name);
    });
  });
  var id = "intent-for-" + group.group_id.split(",")[0];
  var select = el("select", { id: id, class: "training-intent" },
    el("option", { value: "", text: "Intent…" }));
  guesses.concat(knownIntents.filter(function (name) { return guesses.indexOf(name) < 0; }))
    .forEach(function (name) { select.appendChild(el("option", { value: name, text: name })); });
  return el("span", { class: "training-intent-pick" },
    el("label", { for: id, class: "visually-hidden", text: "Intent for this group" }),
    select,
    el("button", {
      type: "button", class: "button",
      text: "Label intent",
      onclick: function () {
        if (!select.value) { setAlert($("training-error"), "Pick an intent first."); return; }
        decide(group, { intent: select.value }, "Intent: " + select.value + " (used by the next training)", node);
      }
    }));
}

function buildPanels() {
  var view = $("training-view");
  if (!document.querySelector('link[href="/static/console/training.css"]')) {
    document.head.appendChild(el("link", { rel: "stylesheet", href: "/static/console/training.css" }));
  }
  var inbox = el("div", { id: "training-inbox-panel" });
  var head = view.querySelector(".page-head");
  Array.prototype.slice.call(view.children).forEach(function (child) {
    if (child !== head) inbox.appendChild(child);
  });
  var nav = el("div", { class: "training-panels", role: "group", "aria-label": "Training" });
  [["inbox", "Inbox"], ["intents", "Intents"], ["models", "Train & deploy"]].forEach(function (pair) {
    nav.appendChild(el("button", {
      type: "button", class: "button training-panel-button", id: "training-panel-" + pair[0],
      "aria-pressed": pair[0] === panel ? "true" : "false", text: pair[1],
      onclick: function () { choosePanel(pair[0]); }
    }));
  });
  view.appendChild(nav);
  view.appendChild(inbox);
  view.appendChild(intentsPanel());
  view.appendChild(modelsPanel());
  choosePanel("inbox", true);
}

function choosePanel(name, quiet) {
  panel = name;
  ["inbox", "intents", "models"].forEach(function (other) {
    $("training-panel-" + other).setAttribute("aria-pressed", other === name ? "true" : "false");
    show($("training-" + other + "-panel"), other === name);
  });
  show(document.querySelector("#training-view .training-filters"), name === "inbox");
  $("training-title").firstChild.textContent = { inbox: "Training inbox ", intents: "Intents ", models: "Train & deploy " }[name];
  show($("training-count"), name === "inbox");
  if (!quiet) loadTraining();
}

/* ---- Intents ---- */

var minExamples = 5;
var openIntent = null;

function intentsPanel() {
  return el("div", { id: "training-intents-panel", hidden: true },
    el("p", { class: "muted small", text: "The committed data/nlu files are the baseline; what you change here is kept in the database and used by the next training." }),
    el("p", { id: "intents-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("div", { class: "intents-layout" },
      el("div", {},
        el("ul", { id: "intents-list", class: "intents-list" }),
        el("form", { id: "intent-new", class: "intent-new", onsubmit: createIntent },
          el("h3", { text: "New intent" }),
          el("label", { for: "intent-new-name", text: "Name (lowercase, underscores)" }),
          el("input", { id: "intent-new-name", required: true, pattern: "[a-z][a-z0-9_]*", autocomplete: "off" }),
          el("label", { for: "intent-new-examples", id: "intent-new-examples-label", text: "Examples, one per line" }),
          el("textarea", { id: "intent-new-examples", rows: 5, required: true }),
          el("button", { type: "submit", class: "button primary", text: "Create intent" }))),
      el("div", { id: "intent-detail", class: "intent-detail" })));
}

function intentError(error) {
  if (error.status !== 401) setAlert($("intents-error"), error.message);
}

function loadIntents() {
  setAlert($("intents-error"), "");
  return intentNames().then(function (data) {
    var list = $("intents-list");
    clear(list);
    data.intents.forEach(function (intent) {
      list.appendChild(el("li", {},
        el("button", {
          type: "button", class: "intent-row" + (intent.name === openIntent ? " is-open" : ""),
          onclick: function () { showIntent(intent.name); }
        },
        el("span", { class: "intent-name", text: intent.name }),
        typeof intent.f1 === "number"
          ? el("span", { class: "intent-f1", title: "F1 in the last evaluation (" + data.evaluated_model + ")", text: "F1 " + intent.f1.toFixed(2) })
          : null,
        intent.changed ? el("span", { class: "chip", text: intent.source === "trainer" ? "new" : "changed" }) : null,
        el("span", { class: "count", title: "examples", text: String(intent.examples) }))));
    });
    $("intent-new-examples-label").textContent = "Examples, one per line (at least " + data.min_examples + ")";
    if (openIntent) return showIntent(openIntent);
    return null;
  }).catch(intentError);
}

function showIntent(name) {
  openIntent = name;
  Array.prototype.forEach.call(document.querySelectorAll(".intent-row"), function (row) {
    row.classList.toggle("is-open", row.querySelector(".intent-name").textContent === name);
  });
  return api("GET", "/api/training/intents/" + encodeURIComponent(name)).then(function (data) {
    var intent = data.intent;
    var box = $("intent-detail");
    clear(box);
    var input = el("input", { id: "intent-add-text", autocomplete: "off", required: true });
    box.appendChild(el("h3", { id: "intent-detail-title", text: intent.name + " · " + intent.examples.length + " examples" }));
    if (intent.used_by.length) {
      box.appendChild(el("p", { class: "muted small", text: "Used by " + intent.used_by.join("; ") }));
    } else {
      box.appendChild(el("button", {
        type: "button", class: "button ghost", text: "Delete intent",
        onclick: function () {
          api("DELETE", "/api/training/intents/" + encodeURIComponent(name)).then(function () {
            openIntent = null; clear($("intent-detail")); loadIntents();
          }).catch(intentError);
        }
      }));
    }
    box.appendChild(el("form", {
      class: "intent-add", onsubmit: function (event) {
        event.preventDefault();
        changeIntent(name, { add: [input.value] });
      }
    }, el("label", { for: "intent-add-text", class: "visually-hidden", text: "New example" }), input,
      el("button", { type: "submit", class: "button primary", text: "Add example" })));
    var list = el("ul", { class: "intent-examples" });
    intent.examples.forEach(function (example) {
      list.appendChild(el("li", { class: example.source === "trainer" ? "is-added" : null },
        el("span", { class: "example-text", text: example.text }),
        example.source === "trainer" ? el("span", { class: "chip", text: example.annotation_id ? "from the inbox" : "added" }) : null,
        el("button", {
          type: "button", class: "button ghost small", text: "Remove",
          "aria-label": "Remove example: " + example.text,
          onclick: function () { changeIntent(name, { remove: [example.text] }); }
        })));
    });
    box.appendChild(list);
  }).catch(intentError);
}

function changeIntent(name, body) {
  setAlert($("intents-error"), "");
  return api("PUT", "/api/training/intents/" + encodeURIComponent(name), body)
    .then(function () { return loadIntents(); })
    .catch(intentError);
}

function createIntent(event) {
  event.preventDefault();
  setAlert($("intents-error"), "");
  var name = $("intent-new-name").value.trim();
  var examples = $("intent-new-examples").value.split("\n").map(function (line) { return line.trim(); })
    .filter(function (line) { return line; });
  return api("POST", "/api/training/intents", { name: name, examples: examples }).then(function () {
    $("intent-new-name").value = ""; $("intent-new-examples").value = "";
    openIntent = name;
    return loadIntents();
  }).catch(intentError);
}

/* ---- Train & deploy ---- */

function modelsPanel() {
  return el("div", { id: "training-models-panel", hidden: true },
    el("p", { class: "muted small models-help", text: "Training runs in the background at low priority: it validates the data (rasa data validate), trains, evaluates the new model and the live one on the same held-out set, and records the model. A model worse than the live one cannot be deployed (an admin may override with a reason). Deploying makes every Rasa server load it; the live model keeps answering until then. Re-evaluate a model after the data or the live model changed." }),
    el("p", { id: "models-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("div", { class: "train-box" },
      el("button", { type: "button", id: "train-start", class: "button primary", text: "Train", onclick: startTraining }),
      el("div", { id: "train-job", class: "train-job", "aria-live": "polite" })),
    el("h3", { text: "Models" }),
    el("p", { id: "models-live", class: "small" }),
    el("table", { class: "models-table" },
      el("thead", {}, el("tr", {},
        el("th", { text: "Version" }), el("th", { text: "Trained" }), el("th", { text: "Held-out accuracy (live)" }), el("th", { text: "" }))),
      el("tbody", { id: "models-rows" })),
    el("div", { id: "model-override", class: "model-override", hidden: true }),
    el("div", { id: "model-evaluation-slot" }));
}

function modelsError(error) {
  if (error.status !== 401) setAlert($("models-error"), error.message);
}

function loadModels() {
  setAlert($("models-error"), "");
  return Promise.all([api("GET", "/api/models"), api("GET", "/api/training/jobs")]).then(function (answers) {
    renderModels(answers[0]);
    var newest = answers[0].models[0];
    if (newest) showEvaluation(newest.version, newest.metrics.evaluation || null);
    var job = answers[1].jobs[0];
    if (job) renderJob(job);
    if (job && (job.state === "queued" || job.state === "running")) follow(job.id);
  }).catch(modelsError);
}

function renderModels(data) {
  liveVersion = data.live;
  $("models-live").textContent = "Live: " + (data.live || INSTALLED_MODEL);
  var earlier = {};
  data.history.forEach(function (entry) { if (entry.version) earlier[entry.version] = true; });
  var rows = $("models-rows");
  clear(rows);
  data.models.forEach(function (model) {
    var evaluation = model.metrics && model.metrics.evaluation;
    var accuracy = evaluation ? percent(evaluation.candidate.accuracy) +
      (evaluation.live ? " (" + percent(evaluation.live.accuracy) + ")" : "") : "not evaluated";
    var outdated = evaluation && stale(evaluation)
      ? el("span", { class: "model-stale", text: "evaluated against an earlier live model" }) : null;
    var action = null;
    if (model.live) action = el("span", { class: "model-live" },
      el("span", { class: "chip chip-live", text: "Live" }),
      el("button", {
        type: "button", class: "button", text: "Roll back",
        title: "Make the model that was live before this one live again",
        onclick: function () { changeModel(model.version, "rollback"); }
      }));
    else if (earlier[model.version]) action = el("button", {
      type: "button", class: "button", text: "Roll back to this",
      onclick: function () { changeModel(model.version, "rollback"); }
    });
    else action = el("button", {
      type: "button", class: "button primary", text: "Deploy",
      onclick: function () { changeModel(model.version, "deploy"); }
    });
    rows.appendChild(el("tr", { class: model.live ? "is-live" : null },
      el("td", { class: "mono", text: model.version }),
      el("td", { text: dateTime(model.trained_at) + " · " + model.trained_by }),
      el("td", {}, el("button", {
        type: "button", class: "button ghost small", text: accuracy,
        "aria-label": "Evaluation of " + model.version + ": " + accuracy,
        onclick: function () { showEvaluation(model.version, evaluation); }
      }), outdated),
      el("td", {}, action)));
  });
  if (!data.models.length) {
    rows.appendChild(el("tr", {}, el("td", { colspan: 4, class: "muted", text: "No trained models yet: press Train." })));
  }
}

function percent(value) {
  return (Math.round(value * 1000) / 10).toFixed(1) + " %";
}

/* Whether an evaluation compared against another model than the live one. */
function stale(evaluation) {
  return !evaluation.live || (evaluation.live.version || null) !== liveVersion;
}

function showEvaluation(version, evaluation) {
  shownVersion = version;
  shownEvaluation = evaluation;
  var slot = $("model-evaluation-slot");
  clear(slot);
  slot.appendChild(evaluationView(version, evaluation, {
    live: liveVersion, stale: evaluation ? stale(evaluation) : false,
    busy: jobActive, reevaluate: function () { return reevaluate(version); }
  }));
}

/* Evaluate a model again, against the model live now, as a job. */
function reevaluate(version) {
  setAlert($("models-error"), "");
  return api("POST", "/api/models/" + encodeURIComponent(version) + "/evaluate").then(function (data) {
    renderJob(data.job);
    follow(data.job_id);
  }).catch(modelsError);
}

function changeModel(version, action, body) {
  setAlert($("models-error"), "");
  show($("model-override"), false);
  return api("POST", "/api/models/" + encodeURIComponent(version) + "/" + action, body).then(function (data) {
    $("models-live").textContent = "Live: " + (data.live || INSTALLED_MODEL) +
      " — every Rasa server loads it within " + data.reaches_rasa_within_s + " s";
    return api("GET", "/api/models").then(renderModels);
  }).catch(function (error) {
    modelsError(error);
    var guarded = error.code === "regression" || error.code === "not_evaluated";
    if (error.code === "not_evaluated" && shownVersion !== version) {
      api("GET", "/api/models").then(function (data) {
        var model = data.models.filter(function (m) { return m.version === version; })[0];
        if (model) showEvaluation(version, model.metrics.evaluation || null);
      }).catch(modelsError);
    }
    if (guarded && session.me && session.me.role === "admin") offerOverride(version);
  });
}

/* Admins only: deploy a model the regression guard refused, with a reason. */
function offerOverride(version) {
  var box = $("model-override");
  clear(box);
  var reason = el("input", { id: "override-reason", required: true, maxlength: 2000, autocomplete: "off" });
  box.appendChild(el("form", {
    class: "override-form", onsubmit: function (event) {
      event.preventDefault();
      changeModel(version, "deploy", { override_reason: reason.value });
    }
  },
  el("label", { for: "override-reason", text: "Deploy " + version + " anyway: why (recorded)" }),
  reason,
  el("button", { type: "submit", class: "button danger", text: "Deploy anyway" })));
  show(box, true);
}

var STAGES = { queued: "Waiting to start", "export": "Exporting the data", validate: "Validating the data",
  train: "Training", evaluate: "Evaluating against the live model", record: "Recording the model", done: "Done" };

/* "42 s", "3 min 5 s": how long a job ran. */
function duration(seconds) {
  return seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
}

/*
 * A job's progress: the components of Rasa's training graph trained (or
 * restored from its cache) of all, while a model trains, or the
 * evaluation's steps, with the step under way; the epoch bar of the
 * component training now, if it draws one (DIET, TED). One bar: steps
 * finished, the epochs of the one under way as its fraction.
 */
function jobProgress(job) {
  var p = job.progress;
  var going = job.state === "queued" || job.state === "running";
  var stepwise = going && p.steps && (job.stage === "train" || job.stage === "evaluate");
  var bar = going && p.epoch !== null && p.epochs ? p.epoch / p.epochs : null;
  var words = [];
  if (stepwise) {
    var components = job.stage === "train";
    words.push(p.step_name
      ? "step " + Math.min(p.step + 1, p.steps) + " of " + p.steps + ": " + p.step_name
      : p.step + " of " + p.steps + (components ? " components trained" : " steps done"));
  }
  if (bar !== null) words.push("epoch " + p.epoch + "/" + p.epochs);
  var meter = null;
  if (stepwise) {
    meter = el("progress", {
      max: p.steps, value: Math.min(p.step + (p.step_name && bar !== null ? bar : 0), p.steps),
      "aria-label": job.stage === "train" ? "Components trained" : "Evaluation steps done"
    });
  } else if (bar !== null) {
    meter = el("progress", { max: p.epochs, value: p.epoch, "aria-label": "Epochs" });
  }
  return { words: words, meter: meter };
}

function renderJob(job) {
  var box = $("train-job");
  clear(box);
  var going = job.state === "queued" || job.state === "running";
  var evaluating = job.kind === "evaluate";
  var progress = jobProgress(job);
  var what = evaluating ? " (re-evaluating " + job.model_version + ")" : "";
  var took = job.elapsed_s === null || job.elapsed_s === undefined ? []
    : [going ? duration(job.elapsed_s) + " so far" : "took " + duration(job.elapsed_s)];
  var head = "Job " + job.id + what + ": " +
    (job.state === "failed" ? "failed at " + job.stage
      : evaluating && job.stage === "record" ? "Recording the evaluation" : STAGES[job.stage] || job.stage);
  var details = progress.words.concat(job.nlu_only && !evaluating ? ["NLU only"] : [], took).map(function (word) {
    return " · " + word;
  }).join("");
  box.appendChild(el("p", { id: "train-state", class: "train-state is-" + job.state },
    el("span", { class: "train-stage", text: head }), el("span", { text: details })));
  var meter = progress.meter;
  if (meter) box.appendChild(meter);
  if (job.error) box.appendChild(el("p", { class: "alert alert-error", text: job.error }));
  if (job.model_version && job.state === "succeeded") {
    box.appendChild(el("p", { class: "small", text: evaluating
      ? "Evaluated " + job.model_version + " again against the live model: the figures are below."
      : "Trained model " + job.model_version + ": deploy it below." }));
  }
  jobActive = going;
  if (job.model_version && job.evaluation !== undefined && job.state === "succeeded") {
    showEvaluation(job.model_version, job.evaluation);
  } else if (shownVersion !== null) {
    showEvaluation(shownVersion, shownEvaluation);
  }
  if (job.log_tail) {
    box.appendChild(el("details", { class: "train-log", open: job.state === "failed" },
      el("summary", { text: evaluating ? "Steps" : "Rasa's output (last lines)" }),
      el("pre", { text: job.log_tail })));
  }
  $("train-start").disabled = going;
}

function follow(jobId) {
  if (polling) clearTimeout(polling);
  polling = setTimeout(function tick() {
    api("GET", "/api/training/jobs/" + jobId).then(function (data) {
      renderJob(data.job);
      if (data.job.state === "queued" || data.job.state === "running") {
        if (panel === "models") polling = setTimeout(tick, 2000);
      } else {
        polling = null;
        api("GET", "/api/models").then(renderModels).catch(modelsError);
      }
    }).catch(modelsError);
  }, 1500);
}

function startTraining() {
  setAlert($("models-error"), "");
  return api("POST", "/api/training/jobs").then(function (data) {
    renderJob(data.job);
    follow(data.job_id);
  }).catch(modelsError);
}

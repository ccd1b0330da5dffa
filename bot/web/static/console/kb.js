/* The Articles tab: find, edit, publish, restore and delete knowledge-base
 * articles, with a Markdown preview, unsaved-change guards and conflicts. */

import { api } from "./api.js";
import { fact } from "./card.js";
import { $, announce, clear, el, setAlert, show } from "./dom.js";
import { renderMarkdown } from "./markdown.js";
import { session } from "./session.js";
import { dateTime } from "./time.js";

var state = { kb: null };

// Each editable field of an article, and the form control that holds it.
var KB_FIELDS = {
  slug: "kb-slug", title: "kb-title-field", summary: "kb-summary", body: "kb-body",
  steps: "kb-steps", examples: "kb-examples", tags: "kb-tags", intents: "kb-intents",
  status: "kb-status-field"
};
var KB_LINE_FIELDS = ["steps", "examples"];
var KB_COMMA_FIELDS = ["tags", "intents"];
var KB_TRIMMED_FIELDS = ["slug", "title", "summary"];
var KB_EDITABLE = ["title", "summary", "body", "steps", "tags", "intents", "examples", "status"];
var STATUS_NAMES = { published: "Published", draft: "Draft" };
var KB_FILTER_DELAY_MS = 250;
var KB_ERROR_FIELDS = { duplicate_slug: "slug", slug_immutable: "slug" };
var KB_ERROR_TEXT = {
  empty_field: "This cannot be empty.",
  duplicate_slug: "An article with this slug exists already: choose another one.",
  article_not_found: "This article no longer exists: someone deleted it. Your text is still in the form."
};

function newKbState() {
  return {
    articles: [],
    listSeq: 0,
    filterTimer: null,
    current: null,
    creating: false,
    slugEdited: false,
    saved: "",
    conflict: null,
    versions: [],
    busy: false
  };
}

export function resetArticles() {
  if (state.kb && state.kb.filterTimer) window.clearTimeout(state.kb.filterTimer);
  state.kb = newKbState();
  clear($("kb-list"));
  $("kb-filter-text").value = "";
  $("kb-filter-status").value = "";
  setAlert($("kb-list-status"), "");
  setAlert($("kb-list-error"), "");
  closeArticle();
}

/* the form */

function splitText(text, separator) {
  return text.split(separator)
    .map(function (part) { return part.trim(); })
    .filter(function (part) { return part !== ""; });
}

function formValues() {
  var values = {};
  Object.keys(KB_FIELDS).forEach(function (name) {
    var raw = $(KB_FIELDS[name]).value;
    if (KB_LINE_FIELDS.indexOf(name) >= 0) values[name] = splitText(raw, "\n");
    else if (KB_COMMA_FIELDS.indexOf(name) >= 0) values[name] = splitText(raw, ",");
    else if (KB_TRIMMED_FIELDS.indexOf(name) >= 0) values[name] = raw.trim();
    else values[name] = raw;
  });
  return values;
}

function fillForm(article) {
  Object.keys(KB_FIELDS).forEach(function (name) {
    var value = article[name];
    if (KB_LINE_FIELDS.indexOf(name) >= 0) value = (value || []).join("\n");
    else if (KB_COMMA_FIELDS.indexOf(name) >= 0) value = (value || []).join(", ");
    $(KB_FIELDS[name]).value = value || "";
  });
  state.kb.saved = JSON.stringify(formValues());
  renderPreview();
  updateDirty();
}

function isDirty() {
  var kb = state.kb;
  if (!kb || (!kb.current && !kb.creating)) return false;
  return JSON.stringify(formValues()) !== kb.saved;
}

function updateDirty() {
  show($("kb-dirty"), isDirty());
}

/* Whether the open article may be left; unsaved changes only with consent. */
export function mayLeaveArticle() {
  if (!isDirty()) return true;
  var kb = state.kb;
  var name = kb.creating ? "the new article" : "\u201c" + kb.current.title + "\u201d";
  if (!window.confirm("You have unsaved changes to " + name + ". Discard them?")) return false;
  if (kb.creating) closeArticle();
  else showArticle(kb.current);
  return true;
}

function setFieldError(name, message) {
  var input = $(KB_FIELDS[name]);
  setAlert($(KB_FIELDS[name] + "-error"), message);
  input.setAttribute("aria-invalid", "true");
  input.closest(".kb-field").classList.add("has-error");
}

function clearFieldError(name) {
  var input = $(KB_FIELDS[name]);
  setAlert($(KB_FIELDS[name] + "-error"), "");
  input.removeAttribute("aria-invalid");
  input.closest(".kb-field").classList.remove("has-error");
}

function clearKbMessages() {
  Object.keys(KB_FIELDS).forEach(clearFieldError);
  setAlert($("kb-error"), "");
  setAlert($("kb-status"), "");
  show($("kb-conflict"), false);
  state.kb.conflict = null;
}

function setKbStatus(message) {
  setAlert($("kb-status"), message);
  announce(message);
}

function renderArticleHead() {
  var kb = state.kb;
  var article = kb.current;
  $("kb-editor-title").textContent = kb.creating ? "New article" : article.title;
  $("kb-meta").textContent = kb.creating
    ? "Not saved yet. It stays a draft, unseen by the bot, until you publish it."
    : "Version " + article.version + " \u00b7 " + (STATUS_NAMES[article.status] || article.status) +
      " \u00b7 saved " + dateTime(article.updated_at) +
      (article.updated_by ? " by " + article.updated_by : "");
}

function showEditor(creating) {
  show($("kb-placeholder"), false);
  show($("kb-form"), true);
  $("kb-slug").readOnly = !creating;
  show($("kb-slug-hint"), creating);
  show($("kb-delete"), !creating);
  show($("kb-history"), !creating);
  show($("kb-old"), false);
}

function closeArticle() {
  var kb = state.kb;
  kb.current = null;
  kb.creating = false;
  kb.conflict = null;
  kb.versions = [];
  show($("kb-form"), false);
  show($("kb-placeholder"), true);
  clear($("kb-versions"));
  renderArticleList();
}

function showArticle(article) {
  var kb = state.kb;
  kb.current = article;
  kb.creating = false;
  clearKbMessages();
  fillForm(article);
  showEditor(false);
  renderArticleHead();
  renderArticleList();
}

function newArticle() {
  if (!mayLeaveArticle()) return;
  var kb = state.kb;
  kb.current = null;
  kb.creating = true;
  kb.slugEdited = false;
  kb.versions = [];
  clearKbMessages();
  fillForm({ status: "draft" });
  showEditor(true);
  renderArticleHead();
  renderArticleList();
  $("kb-title-field").focus();
}

function slugFrom(title) {
  return title.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80).replace(/-+$/, "");
}

function onArticleInput(event) {
  var kb = state.kb;
  var target = event.target;
  Object.keys(KB_FIELDS).forEach(function (name) {
    if (KB_FIELDS[name] === target.id) clearFieldError(name);
  });
  if (target.id === "kb-body") renderPreview();
  if (kb.creating && target.id === "kb-slug") kb.slugEdited = true;
  if (kb.creating && target.id === "kb-title-field" && !kb.slugEdited) {
    $("kb-slug").value = slugFrom(target.value);
    clearFieldError("slug");
  }
  updateDirty();
}

/* the list */

function statusBadge(status) {
  return el("span", { class: "badge badge-" + status, text: STATUS_NAMES[status] || status });
}

export function loadArticles() {
  var kb = state.kb;
  var seq = ++kb.listSeq;
  var query = [];
  var text = $("kb-filter-text").value.trim();
  var status = $("kb-filter-status").value;
  if (text) query.push("q=" + encodeURIComponent(text));
  if (status) query.push("status=" + encodeURIComponent(status));
  var path = "/api/kb/articles" + (query.length ? "?" + query.join("&") : "");
  return api("GET", path).then(function (data) {
    if (state.kb !== kb || seq !== kb.listSeq) return;
    setAlert($("kb-list-error"), "");
    kb.articles = data.articles;
    renderArticleList();
  }).catch(function (error) {
    if (state.kb === kb && seq === kb.listSeq && error.status !== 401) {
      setAlert($("kb-list-error"), error.message);
    }
  });
}

function filterSoon() {
  var kb = state.kb;
  if (kb.filterTimer) window.clearTimeout(kb.filterTimer);
  kb.filterTimer = window.setTimeout(function () {
    kb.filterTimer = null;
    loadArticles();
  }, KB_FILTER_DELAY_MS);
}

function renderArticleList() {
  var kb = state.kb;
  var list = $("kb-list");
  var focused = document.activeElement;
  var focusSlug = null;
  if (focused && list.contains(focused)) {
    focusSlug = focused.closest("[data-slug]").getAttribute("data-slug");
  }
  clear(list);
  var openSlug = kb.current ? kb.current.slug : null;
  kb.articles.forEach(function (article) {
    var selected = article.slug === openSlug;
    list.appendChild(el("li", {
      class: "entry kb-entry" + (selected ? " is-selected" : ""), "data-slug": article.slug
    }, el("button", {
      type: "button",
      class: "entry-open",
      "aria-current": selected ? "true" : null,
      onclick: function () { openArticle(article.slug); }
    },
      el("span", { class: "entry-top" },
        el("span", { class: "kb-entry-title", text: article.title }),
        statusBadge(article.status)),
      el("span", { class: "entry-meta" },
        el("code", { text: article.slug }),
        el("span", { text: "updated " + dateTime(article.updated_at) })))));
  });
  $("kb-count").textContent = String(kb.articles.length);
  show($("kb-list-empty"), kb.listSeq > 0 && kb.articles.length === 0);
  if (focusSlug) {
    var again = list.querySelector('[data-slug="' + focusSlug + '"] button');
    if (again) again.focus();
  }
}

function openArticle(slug) {
  var kb = state.kb;
  if (kb.current && kb.current.slug === slug && isDirty()) {
    $("kb-editor-title").focus();
    return Promise.resolve();
  }
  if (!mayLeaveArticle()) return Promise.resolve();
  setAlert($("kb-list-status"), "");
  return api("GET", "/api/kb/articles/" + encodeURIComponent(slug)).then(function (data) {
    if (state.kb !== kb) return;
    showArticle(data.article);
    $("kb-editor-title").focus();
    return loadVersions();
  }).catch(function (error) {
    if (state.kb === kb && error.status !== 401) {
      setAlert($("kb-list-error"), KB_ERROR_TEXT[error.code] || error.message);
      loadArticles();
    }
  });
}

/* saving */

function saveArticle(event, againstVersion) {
  if (event) event.preventDefault();
  var kb = state.kb;
  if (kb.busy || (!kb.current && !kb.creating)) return;
  var values = formValues();
  var creating = kb.creating;
  var before = kb.current;
  var request;
  if (creating) {
    request = api("POST", "/api/kb/articles", values);
  } else {
    var changes = { version: againstVersion || before.version };
    KB_EDITABLE.forEach(function (name) { changes[name] = values[name]; });
    request = api("PUT", "/api/kb/articles/" + encodeURIComponent(before.slug), changes);
  }
  Object.keys(KB_FIELDS).forEach(clearFieldError);
  setAlert($("kb-error"), "");
  kb.busy = true;
  $("kb-save").disabled = true;
  return request.then(function (data) {
    if (state.kb !== kb) return;
    var article = data.article;
    showArticle(article);
    var live = article.status === "published"
      ? "The bot answers with it from now on."
      : "It is a draft: the bot does not use it.";
    if (creating) {
      setKbStatus("Created \u201c" + article.title + "\u201d. " + live);
    } else if (article.version === before.version) {
      setKbStatus("Nothing to save: no field changed.");
    } else {
      setKbStatus("Saved version " + article.version + ". " + live);
    }
    loadArticles();
    return loadVersions();
  }).catch(function (error) {
    if (state.kb === kb) saveFailed(error);
  }).then(function () {
    kb.busy = false;
    $("kb-save").disabled = false;
  });
}

function saveFailed(error) {
  if (error.status === 401) return;
  if (error.code === "version_conflict" && state.kb.current) {
    showConflict();
    return;
  }
  var message = KB_ERROR_TEXT[error.code] || error.message;
  var field = error.field || KB_ERROR_FIELDS[error.code];
  if (field && KB_FIELDS[field]) {
    setFieldError(field, message);
    $(KB_FIELDS[field]).focus();
    announce("Not saved. " + message);
    return;
  }
  setAlert($("kb-error"), "Not saved. " + message);
}

function showConflict() {
  var kb = state.kb;
  var slug = kb.current.slug;
  return api("GET", "/api/kb/articles/" + encodeURIComponent(slug)).then(function (data) {
    if (state.kb !== kb || !kb.current || kb.current.slug !== slug) return;
    var theirs = data.article;
    kb.conflict = theirs;
    $("kb-conflict-text").textContent = "Not saved: someone else saved this article while you " +
      "were editing (version " + theirs.version +
      (theirs.updated_by ? ", by " + theirs.updated_by : "") + ", " +
      dateTime(theirs.updated_at) + "). Your changes are still in the form. " +
      "Save them over that version, or discard them and load it.";
    show($("kb-conflict"), true);
  }).catch(function (error) {
    if (state.kb === kb && error.status !== 401) {
      setAlert($("kb-error"), "Not saved. " + (KB_ERROR_TEXT[error.code] || error.message));
    }
  });
}

function overwriteConflict() {
  var conflict = state.kb.conflict;
  if (conflict) saveArticle(null, conflict.version);
}

function reloadConflict() {
  var kb = state.kb;
  var theirs = kb.conflict;
  if (!theirs) return;
  if (isDirty() && !window.confirm("Discard your changes and load version " + theirs.version + "?")) return;
  showArticle(theirs);
  setKbStatus("Loaded version " + theirs.version + "; your changes were discarded.");
  $("kb-editor-title").focus();
  loadArticles();
  loadVersions();
}

function deleteArticle() {
  var kb = state.kb;
  var article = kb.current;
  if (!article) return;
  var question = "Delete \u201c" + article.title + "\u201d and its whole version history? " +
    "This cannot be undone. (To stop the bot using it but keep it, make it a draft instead.)";
  if (!window.confirm(question)) return;
  api("DELETE", "/api/kb/articles/" + encodeURIComponent(article.slug)).then(function () {
    if (state.kb !== kb) return;
    closeArticle();
    setAlert($("kb-list-status"), "Deleted \u201c" + article.title + "\u201d.");
    announce("Deleted " + article.title + ".");
    $("kb-title").focus();
    return loadArticles();
  }).catch(function (error) {
    if (state.kb === kb && error.status !== 401) {
      setAlert($("kb-error"), KB_ERROR_TEXT[error.code] || error.message);
    }
  });
}

/* version history */

function versionsPath(article) {
  return "/api/kb/articles/" + encodeURIComponent(article.slug) + "/versions";
}

function loadVersions() {
  var kb = state.kb;
  var article = kb.current;
  if (!article) return Promise.resolve();
  return api("GET", versionsPath(article)).then(function (data) {
    if (state.kb !== kb || kb.current !== article) return;
    kb.versions = data.versions;
    renderVersions();
  }).catch(function (error) {
    if (state.kb === kb && error.status !== 401) setAlert($("kb-error"), error.message);
  });
}

function renderVersions() {
  var kb = state.kb;
  var rows = $("kb-versions");
  clear(rows);
  kb.versions.forEach(function (version) {
    var current = version.version === kb.current.version;
    rows.appendChild(el("tr", { "data-version": version.version, class: current ? "is-current" : "" },
      el("td", null, el("span", { text: "Version " + version.version }),
        current ? el("span", { class: "muted small", text: " (current)" }) : null),
      el("td", null, el("time", { datetime: version.created_at, text: dateTime(version.created_at) })),
      el("td", { text: version.author || "unknown" }),
      el("td", null, statusBadge(version.status)),
      el("td", { class: "kb-version-actions" },
        el("button", {
          type: "button", class: "button small-button kb-view-version",
          "aria-label": "View version " + version.version, text: "View",
          onclick: function () { viewVersion(version.version); }
        }),
        current ? null : el("button", {
          type: "button", class: "button small-button kb-restore-version",
          "aria-label": "Restore version " + version.version, text: "Restore",
          onclick: function () { restoreVersion(version.version); }
        }))));
  });
}

function listFact(list, term, items, ordered) {
  if (!items.length) {
    fact(list, term, el("span", { class: "muted", text: "None" }));
    return;
  }
  var node = el(ordered ? "ol" : "ul", { class: "kb-old-list" });
  items.forEach(function (item) { node.appendChild(el("li", { text: item })); });
  fact(list, term, node);
}

function viewVersion(number) {
  var kb = state.kb;
  var article = kb.current;
  return api("GET", versionsPath(article) + "/" + number).then(function (data) {
    if (state.kb !== kb || kb.current !== article) return;
    var old = data.version;
    $("kb-old-title").textContent = "Version " + old.version + ", saved " +
      dateTime(old.created_at) + (old.author ? " by " + old.author : "");
    var facts = $("kb-old-facts");
    clear(facts);
    fact(facts, "Title", old.title);
    fact(facts, "Summary", old.summary);
    fact(facts, "Status", STATUS_NAMES[old.status] || old.status);
    listFact(facts, "Steps", old.steps, true);
    listFact(facts, "Tags", old.tags);
    listFact(facts, "Intents", old.intents);
    listFact(facts, "Examples", old.examples);
    var body = $("kb-old-body");
    clear(body);
    body.appendChild(renderMarkdown(old.body));
    var restore = $("kb-old-restore");
    restore.setAttribute("data-version", String(old.version));
    show(restore, old.version !== kb.current.version);
    show($("kb-old"), true);
    $("kb-old-title").focus();
  }).catch(function (error) {
    if (state.kb === kb && error.status !== 401) setAlert($("kb-error"), error.message);
  });
}

function restoreVersion(number) {
  var kb = state.kb;
  var article = kb.current;
  if (!article) return;
  if (isDirty() && !window.confirm("Restoring version " + number +
      " discards your unsaved changes. Restore it?")) return;
  api("POST", versionsPath(article) + "/" + number + "/restore").then(function (data) {
    if (state.kb !== kb) return;
    var restored = data.article;
    showArticle(restored);
    setKbStatus(restored.version === article.version
      ? "Version " + number + " is the same as the current text: nothing changed."
      : "Restored version " + number + " as version " + restored.version + ".");
    $("kb-editor-title").focus();
    loadArticles();
    return loadVersions();
  }).catch(function (error) {
    if (state.kb === kb && error.status !== 401) setAlert($("kb-error"), error.message);
  });
}

function renderPreview() {
  var preview = $("kb-preview");
  clear(preview);
  var body = $("kb-body").value;
  if (!body.trim()) {
    preview.appendChild(el("p", { class: "muted", text: "The body, as customers read it, appears here." }));
    return;
  }
  preview.appendChild(renderMarkdown(body));
}

export function bindKb() {
  $("kb-new").addEventListener("click", newArticle);
  $("kb-filter").addEventListener("submit", function (event) {
    event.preventDefault();
    loadArticles();
  });
  $("kb-filter-text").addEventListener("input", filterSoon);
  $("kb-filter-status").addEventListener("change", loadArticles);
  $("kb-form").addEventListener("submit", saveArticle);
  $("kb-form").addEventListener("input", onArticleInput);
  $("kb-form").addEventListener("change", updateDirty);
  $("kb-form").addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      $("kb-form").requestSubmit();
    }
  });
  $("kb-delete").addEventListener("click", deleteArticle);
  $("kb-conflict-overwrite").addEventListener("click", overwriteConflict);
  $("kb-conflict-reload").addEventListener("click", reloadConflict);
  $("kb-old-restore").addEventListener("click", function () {
    restoreVersion(Number($("kb-old-restore").getAttribute("data-version")));
  });
  $("kb-old-close").addEventListener("click", function () { show($("kb-old"), false); });
  window.addEventListener("beforeunload", function (event) {
    if (session.signedIn && isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  resetArticles();
}

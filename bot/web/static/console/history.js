/* The History tab: find past conversations (customer, e-mail, words, dates,
 * outcome, agent) and read one, read-only. Also the customer's earlier
 * conversations on the handoff card (same verified identity, or the same
 * e-mail, which is then marked as unverified). */

import { api } from "./api.js";
import { $, announce, clear, el, setAlert, show } from "./dom.js";
import { dateTime } from "./time.js";
import { registerView, switchView } from "./views.js";

var OUTCOME_NAMES = {
  solved: "Solved", not_solved: "Not solved", follow_up_sent: "Follow-up sent",
  duplicate: "Duplicate", spam: "Spam"
};
var STATE_NAMES = {
  bot: "With the bot", queued: "Waiting", follow_up: "Follow-up", agent: "With an agent", resolved: "Resolved"
};
var ROLE_LABELS = { customer: "Customer", bot: "Bot", agent: "Agent", system: "Notice" };

var nextCursor = null;
var lastQuery = null;
/* Only the newest search may fill the list (an older answer can come later). */
var searchSeq = 0;

function field(id, label, input) {
  return el("div", { class: "history-field" }, el("label", { for: id, text: label }), input);
}

function buildView() {
  var outcome = el("select", { id: "history-outcome" }, el("option", { value: "", text: "Any outcome" }));
  Object.keys(OUTCOME_NAMES).forEach(function (key) {
    outcome.appendChild(el("option", { value: key, text: OUTCOME_NAMES[key] }));
  });
  var section = el("section", { id: "history-view", class: "page history", "aria-labelledby": "history-title", hidden: true },
    el("div", { class: "page-head" }, el("h2", { id: "history-title", tabindex: "-1", text: "History" })),
    el("form", { id: "history-form", class: "history-filter", role: "search", novalidate: true },
      field("history-q", "Customer, e-mail or words", el("input", { id: "history-q", type: "search", maxlength: "200", placeholder: "e.g. invoice, Cleo, cleo@example.com" })),
      field("history-from", "From", el("input", { id: "history-from", type: "date" })),
      field("history-to", "To", el("input", { id: "history-to", type: "date" })),
      field("history-outcome", "Outcome", outcome),
      field("history-agent", "Agent", el("select", { id: "history-agent" }, el("option", { value: "", text: "Any agent" }))),
      el("div", { class: "history-field history-submit" },
        el("button", { type: "submit", id: "history-search", class: "button primary", text: "Search" }))),
    el("p", { id: "history-error", class: "alert alert-error", role: "alert", hidden: true }),
    el("div", { class: "history-layout" },
      el("div", { class: "history-results" },
        el("p", { id: "history-count", class: "muted small", role: "status" }),
        el("ul", { id: "history-rows", class: "history-list", "aria-label": "Conversations found" }),
        el("button", { type: "button", id: "history-more", class: "button", text: "Show older", hidden: true })),
      el("section", { id: "history-reader", class: "history-reader", "aria-labelledby": "history-reader-title", hidden: true },
        el("div", { class: "reader-head" },
          el("h3", { id: "history-reader-title", tabindex: "-1", text: "Conversation" }),
          el("span", { class: "badge badge-readonly", text: "Read only" }),
          el("button", { type: "button", id: "history-close", class: "button ghost small-button", text: "Close" })),
        el("dl", { id: "history-customer", class: "facts" }),
        el("ul", { id: "history-handoffs", class: "history-handoffs", "aria-label": "Handoffs" }),
        el("ul", { id: "history-notes", class: "history-notes", "aria-label": "Internal notes" }),
        el("ol", { id: "history-transcript", class: "transcript history-transcript", "aria-label": "Messages" }))));
  $("main").appendChild(section);
  var tab = el("button", { type: "button", class: "tab", "data-view": "history", id: "tab-history", text: "History", hidden: true });
  $("tab-desk").parentNode.insertBefore(tab, $("tab-desk").nextSibling);
  tab.addEventListener("click", function () { switchView("history", true); });
}

function loadAgents() {
  return api("GET", "/api/agents").then(function (data) {
    var select = $("history-agent");
    var chosen = select.value;
    clear(select);
    select.appendChild(el("option", { value: "", text: "Any agent" }));
    data.agents.forEach(function (agent) {
      select.appendChild(el("option", { value: String(agent.id), text: agent.name }));
    });
    select.value = chosen;
  }).catch(function () { return null; });
}

function currentQuery() {
  var query = {};
  var q = $("history-q").value.trim();
  if (q) query.q = q;
  if ($("history-from").value) query.from = $("history-from").value;
  if ($("history-to").value) query.to = $("history-to").value;
  if ($("history-outcome").value) query.outcome = $("history-outcome").value;
  if ($("history-agent").value) query.agent = $("history-agent").value;
  return query;
}

function search(more) {
  var query = more ? Object.assign({}, lastQuery, { cursor: nextCursor }) : currentQuery();
  if (!more && query.q && query.q.length < 2) {
    setAlert($("history-error"), "Type at least 2 characters to search for words.");
    $("history-q").focus();
    return Promise.resolve();
  }
  if (!more) lastQuery = query;
  var mine = ++searchSeq;
  setAlert($("history-error"), "");
  return api("GET", "/api/conversations?" + new URLSearchParams(query).toString()).then(function (data) {
    if (mine !== searchSeq) return;
    var rows = $("history-rows");
    if (!more) clear(rows);
    data.conversations.forEach(function (row) { rows.appendChild(historyRow(row)); });
    nextCursor = data.next_cursor;
    show($("history-more"), Boolean(nextCursor));
    var count = rows.children.length;
    $("history-count").textContent = count === 0 ? "No conversations match."
      : count + (nextCursor ? "+" : "") + " conversation" + (count === 1 ? "" : "s") + ", newest first.";
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("history-error"), error.message);
  });
}

function customerLabel(customer) {
  return customer.name || customer.email || "Anonymous customer";
}

function outcomeBadge(row) {
  var handoff = row.handoff;
  if (handoff && handoff.outcome) {
    return el("span", { class: "badge badge-outcome outcome-" + handoff.outcome, text: OUTCOME_NAMES[handoff.outcome] || handoff.outcome });
  }
  return el("span", { class: "badge", text: STATE_NAMES[row.state] || row.state });
}

export function historyRow(row, onOpen) {
  var text = row.match || row.first_question || "No question asked";
  return el("li", { class: "history-row" },
    el("button", {
      type: "button",
      class: "history-open",
      "data-conversation": row.conversation_id,
      onclick: function () { (onOpen || openConversation)(row.conversation_id); }
    },
    el("span", { class: "history-who" },
      el("strong", { text: customerLabel(row.customer) }),
      row.customer.email && row.customer.name ? el("span", { class: "muted small", text: " " + row.customer.email }) : null),
    el("span", { class: "history-when muted small", text: dateTime(row.started_at) }),
    el("span", { class: "history-text", text: text }),
    el("span", { class: "history-meta small" },
      outcomeBadge(row),
      row.handoff && row.handoff.agent ? el("span", { class: "muted", text: " " + row.handoff.agent.name }) : null,
      el("span", { class: "muted", text: " · " + row.messages + " messages" }))));
}

function fact(list, term, value) {
  if (value === null || value === undefined || value === "") return;
  list.appendChild(el("dt", { text: term }));
  list.appendChild(el("dd", { text: String(value) }));
}

export function openConversation(conversationId) {
  return api("GET", "/api/conversations/" + encodeURIComponent(conversationId)).then(function (data) {
    var customer = data.conversation.customer;
    $("history-reader-title").textContent = customerLabel(customer) + " · " + dateTime(customer.started_at);
    var facts = $("history-customer");
    clear(facts);
    fact(facts, "Name", customer.name);
    fact(facts, "Email", customer.email ? customer.email + (customer.verified ? "" : " (not verified)") : null);
    fact(facts, "Identity", customer.verified ? "Verified" : "Not verified");
    fact(facts, "Page", customer.page_url);
    fact(facts, "Now", STATE_NAMES[data.conversation.state] || data.conversation.state);
    var handoffs = $("history-handoffs");
    clear(handoffs);
    data.handoffs.forEach(function (handoff) {
      handoffs.appendChild(el("li", null,
        el("span", { text: "Handed over " + dateTime(handoff.created_at) }),
        handoff.agent ? el("span", { text: " · " + handoff.agent.name }) : null,
        handoff.outcome ? el("span", { text: " · " + (OUTCOME_NAMES[handoff.outcome] || handoff.outcome) }) : null,
        handoff.summary ? el("p", { class: "muted small", text: handoff.summary }) : null));
    });
    var notes = $("history-notes");
    clear(notes);
    data.notes.forEach(function (note) {
      notes.appendChild(el("li", { class: "history-note" },
        el("span", { class: "small", text: "Note by " + (note.agent.name || "an agent") + ", " + dateTime(note.at) + ": " }),
        el("span", { text: note.text })));
    });
    var transcript = $("history-transcript");
    clear(transcript);
    data.messages.forEach(function (message) {
      var who = message.role === "agent" && message.meta && message.meta.agent_name ? message.meta.agent_name : ROLE_LABELS[message.role];
      transcript.appendChild(el("li", { class: "msg msg-" + message.role },
        el("div", { class: "msg-who" },
          el("span", { class: "msg-name", text: who || message.role }),
          el("span", { text: dateTime(message.at) })),
        el("div", { class: "msg-text", text: message.text })));
    });
    show($("history-reader"), true);
    $("history-reader").classList.add("is-open");
    $("history-reader-title").focus();
  }).catch(function (error) {
    if (error.status !== 401) setAlert($("history-error"), error.message);
  });
}

function closeReader() {
  show($("history-reader"), false);
  $("history-reader").classList.remove("is-open");
  $("history-q").focus();
}

/* ---------- on the handoff card ---------- */

function earlierSection() {
  var section = $("card-earlier");
  if (section) return section;
  section = el("section", { id: "card-earlier", class: "card-section", "aria-labelledby": "card-earlier-title", hidden: true },
    el("h3", { id: "card-earlier-title", text: "Earlier conversations" }),
    el("p", { id: "card-earlier-match", class: "muted small" }),
    el("ul", { id: "card-earlier-list", class: "history-list history-list-compact" }));
  var customer = $("card-customer").parentNode;
  customer.parentNode.insertBefore(section, customer.nextSibling);
  return section;
}

var shownFor = null;

/* Called when the card shows a conversation: its customer's other ones. */
export function showEarlier(conversationId) {
  var section = earlierSection();
  if (shownFor === conversationId) return Promise.resolve();
  shownFor = conversationId;
  show(section, false);
  return api("GET", "/api/conversations/" + encodeURIComponent(conversationId) + "/earlier").then(function (data) {
    if (shownFor !== conversationId) return;
    var list = $("card-earlier-list");
    clear(list);
    if (!data.conversations.length) return;
    $("card-earlier-match").textContent = data.matched_by === "verified_identity"
      ? "Same verified customer." : "Same e-mail address, which the customer typed: it may not be them.";
    data.conversations.forEach(function (row) {
      list.appendChild(historyRow(row, function (id) {
        switchView("history", false);
        openConversation(id);
      }));
    });
    show(section, true);
  }).catch(function () { return null; });
}

export function bindHistory() {
  var link = el("link", { rel: "stylesheet", href: "/static/console/tools.css" });
  document.head.appendChild(link);
  buildView();
  registerView("history", {
    heading: "history-title",
    enter: function (entering) {
      if (!entering) return;
      loadAgents();
      if (!lastQuery) search(false);
    }
  });
  $("history-form").addEventListener("submit", function (event) {
    event.preventDefault();
    search(false).then(function () { announce($("history-count").textContent); });
  });
  $("history-more").addEventListener("click", function () { search(true); });
  $("history-close").addEventListener("click", closeReader);
}

/* Baton agent console: sign-in, live queue, chats, outbox, articles, accounts.
 *
 * Plain JavaScript, no build step. Every piece of text that comes from the
 * server (messages, names, summaries, articles, mail) is put on the page with
 * textContent or as an attribute value, never parsed as HTML.
 *
 * Live data comes from WS /api/agent/ws (see bot/web/agent_api.py): "queue"
 * frames replace the lists; "watching" says from which seq a conversation's
 * messages arrive on the socket (earlier ones are in the handoff card);
 * "message", "typing", "status" and "note" frames update the open chat.
 */
(function () {
  "use strict";

  var CANNED_REPLIES = [
    ["Greeting", "Hi, thanks for waiting. I've read through your conversation with our assistant, so there's no need to repeat anything."],
    ["Looking into it", "Thanks, I'm looking into this now. It may take a couple of minutes."],
    ["Confirm identity", "Before I change anything on your account, could you confirm the email address you signed up with?"],
    ["Anything else", "Is there anything else I can help you with today?"],
    ["Closing", "Glad that's sorted. I'll close this chat now; you can rate it below. Have a good day!"]
  ];
  var OUTCOME_TEXT = {
    solved: "Solved", not_solved: "Not solved", follow_up_sent: "Follow-up sent",
    duplicate: "Duplicate", spam: "Spam"
  };
  var ROLE_NAMES = { agent: "Agent", trainer: "Trainer", admin: "Admin" };
  var DUE_SOON_MS = 30 * 60 * 1000;
  var TYPING_EVERY_MS = 2500;
  var TYPING_SHOWN_MS = 5000;

  var state = {
    me: null,
    csrf: "",
    ws: null,
    wsRetry: 0,
    wsTimer: null,
    signedIn: false,
    view: "desk",
    skewMs: 0,
    snapshot: null,
    seenWaiting: null,
    unread: {},
    colleagues: [],
    chat: null,
    typingTimer: null,
    lastTypingSent: 0,
    kb: null
  };

  var $ = function (id) { return document.getElementById(id); };

  /* ---------- small DOM helpers (text only) ---------- */

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "text") node.textContent = String(value);
        else if (key === "class") node.className = value;
        else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(node, visible) { node.hidden = !visible; }

  function setAlert(node, message) {
    node.textContent = message || "";
    show(node, Boolean(message));
  }

  function announce(message) {
    var live = $("announcer");
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 50);
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* ---------- time ---------- */

  function serverNow() { return Date.now() + state.skewMs; }

  function duration(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60 < 10 ? "0" : "") + (s % 60) + " s";
    var h = Math.floor(m / 60);
    return h + " h " + (m % 60) + " min";
  }

  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function dateTime(iso) {
    var d = new Date(iso);
    return d.toLocaleString([], {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  }

  /* ---------- HTTP ---------- */

  function ApiError(status, code, message, retryAfter, field) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.retryAfter = retryAfter;
    this.field = field || null;
  }

  function api(method, path, body) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
    return fetch(path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        if (text) {
          try { data = JSON.parse(text); } catch (ignored) { data = null; }
        }
        if (response.ok) return data;
        var error = (data && data.error) || {};
        var failure = new ApiError(
          response.status,
          error.code || "http_" + response.status,
          error.message || "The server answered " + response.status + ".",
          response.headers.get("Retry-After"),
          error.field
        );
        if (response.status === 401 && path !== "/api/auth/login" && state.signedIn) {
          sessionEnded(failure.code === "session_expired"
            ? "Your session has expired. Please sign in again."
            : "You have been signed out. Please sign in again.");
        }
        throw failure;
      });
    }, function () {
      throw new ApiError(0, "network", "The console cannot reach the server. Check your connection and try again.");
    });
  }

  /* ---------- sign in / out ---------- */

  function minutesText(seconds) {
    var s = Number(seconds) || 0;
    if (s < 90) return Math.max(1, Math.round(s)) + " seconds";
    return Math.ceil(s / 60) + " minutes";
  }

  function signInMessage(error) {
    if (error.code === "invalid_credentials") return "Wrong email or password.";
    if (error.code === "locked_out") {
      return "Too many failed sign-ins: this account is locked. Try again in " +
        minutesText(error.retryAfter) + ".";
    }
    if (error.status === 429) {
      return "Too many sign-in attempts from here. Wait " +
        minutesText(error.retryAfter) + " and try again.";
    }
    if (error.status === 400) return "Enter your email and password.";
    return error.message;
  }

  function showSignIn(message) {
    state.signedIn = false;
    show($("app-view"), false);
    show($("signin-view"), true);
    setAlert($("signin-error"), message || "");
    $("signin-password").value = "";
    $("signin-email").focus();
  }

  function onSignIn(event) {
    event.preventDefault();
    var email = $("signin-email").value.trim();
    var password = $("signin-password").value;
    if (!email || !password) {
      setAlert($("signin-error"), "Enter your email and password.");
      (email ? $("signin-password") : $("signin-email")).focus();
      return;
    }
    var button = $("signin-submit");
    setAlert($("signin-error"), "");
    button.disabled = true;
    api("POST", "/api/auth/login", { email: email, password: password })
      .then(function (data) {
        $("signin-password").value = "";
        enterApp(data.agent, data.csrf_token);
      })
      .catch(function (error) {
        setAlert($("signin-error"), signInMessage(error));
        $("signin-password").value = "";
        $("signin-password").focus();
      })
      .then(function () { button.disabled = false; });
  }

  function signOut() {
    if (!mayLeaveArticle()) return;
    var csrf = state.csrf;
    closeSocket();
    fetch("/api/auth/logout", {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).catch(function () { return null; }).then(function () {
      resetApp();
      showSignIn("You have signed out.");
    });
  }

  function sessionEnded(message) {
    if (!state.signedIn) return;
    closeSocket();
    resetApp();
    showSignIn(message);
  }

  function resetApp() {
    state.signedIn = false;
    state.me = null;
    state.csrf = "";
    state.snapshot = null;
    state.seenWaiting = null;
    state.unread = {};
    state.chat = null;
    state.view = "";
    resetArticles();
    clear($("queue-list"));
    clear($("followup-list"));
    clear($("mine-list"));
    closeChat();
  }

  function enterApp(agent, csrf) {
    state.me = agent;
    state.csrf = csrf;
    state.signedIn = true;
    show($("signin-view"), false);
    show($("app-view"), true);
    setAlert($("signin-error"), "");
    $("me").textContent = agent.name + " · " + (ROLE_NAMES[agent.role] || agent.role);
    var handlesChats = agent.role === "agent" || agent.role === "admin";
    show($("tab-desk"), handlesChats);
    show($("tab-outbox"), handlesChats);
    show($("tab-admin"), agent.role === "admin");
    show($("tab-kb"), agent.role === "agent" || agent.role === "trainer" || agent.role === "admin");
    show($("tab-training"), agent.role === "trainer" || agent.role === "admin");
    show($("presence").parentNode, handlesChats);
    show($("connection"), handlesChats);
    if (handlesChats) {
      connectSocket();
      loadColleagues();
      switchView("desk", false);
    } else {
      switchView("kb", true);
    }
  }

  /* ---------- views ---------- */

  function switchView(view, focus) {
    if (state.view === "kb" && view !== "kb" && !mayLeaveArticle()) return;
    var entering = state.view !== view;
    state.view = view;
    ["desk", "outbox", "kb", "training", "admin"].forEach(function (name) {
      show($(name + "-view"), name === view);
      var tab = $("tab-" + name);
      if (tab) {
        if (name === view) tab.setAttribute("aria-current", "page");
        else tab.removeAttribute("aria-current");
      }
    });
    if (view === "outbox") loadOutbox();
    if (view === "admin") loadAccounts();
    if (view === "kb" && entering) loadArticles();
    if (view === "training") training.load();
    if (focus) {
      var heading = { outbox: "outbox-title", admin: "admin-title", kb: "kb-title", training: "training-title" }[view];
      if (heading) $(heading).focus();
    }
  }

  /* ---------- training inbox (trainers and admins) ---------- */

  // Self-contained: the inbox of messages the bot struggled with, and one
  // decision per group (an article, out of scope, dismiss) with undo. Every
  // text goes on the page as text.
  var training = (function () {
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

    function load() {
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
        return load();
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

    function bind() {
      $("training-refresh").addEventListener("click", function () { status(""); load(); });
      $("training-reason").addEventListener("change", load);
      $("training-sort").addEventListener("change", load);
    }

    return { load: load, bind: bind };
  })();

  /* ---------- the live socket ---------- */

  function setConnection(text, ok) {
    var node = $("connection");
    node.textContent = text;
    node.className = "connection " + (ok ? "is-live" : "is-down");
  }

  function connectSocket() {
    closeSocket();
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(scheme + location.host + "/api/agent/ws");
    state.ws = ws;
    setConnection("Connecting…", false);
    ws.onopen = function () {
      state.wsRetry = 0;
      setConnection("Live", true);
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (ignored) { return; }
      onFrame(frame);
    };
    ws.onclose = function (event) {
      if (state.ws !== ws) return;
      state.ws = null;
      if (!state.signedIn) return;
      if (event.code === 4401) {
        sessionEnded(event.reason === "session_expired"
          ? "Your session has expired. Please sign in again."
          : "You have been signed out. Please sign in again.");
        return;
      }
      if (event.code === 4403) {
        setConnection("Not allowed", false);
        return;
      }
      // Check the session over HTTP (a 401 signs out), then reconnect.
      setConnection("Reconnecting…", false);
      var delay = Math.min(10000, 500 * Math.pow(2, state.wsRetry++));
      state.wsTimer = window.setTimeout(function () {
        api("GET", "/api/auth/me").then(function (data) {
          state.csrf = data.csrf_token;
          if (state.signedIn) connectSocket();
        }).catch(function (error) {
          if (error.status !== 401 && state.signedIn) connectSocket();
        });
      }, delay);
    };
  }

  function closeSocket() {
    if (state.wsTimer) window.clearTimeout(state.wsTimer);
    state.wsTimer = null;
    var ws = state.ws;
    state.ws = null;
    if (ws) {
      try { ws.close(1000); } catch (ignored) { /* already closed */ }
    }
  }

  function sendFrame(frame) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify(frame));
    }
  }

  function onFrame(frame) {
    var chat = state.chat;
    var mine = chat && frame.conversation_id === chat.conversationId;
    switch (frame.type) {
      case "queue":
        onQueue(frame);
        break;
      case "watching":
        if (mine && frame.after > chat.lastSeq) refreshCard();
        break;
      case "message":
        if (mine) {
          addMessage(frame, true);
          if (frame.role === "customer") hideTyping();
        } else {
          state.unread[frame.conversation_id] = true;
          renderLists();
        }
        break;
      case "typing":
        if (mine && frame.role === "customer") showTyping();
        break;
      case "status":
        if (mine) refreshCard();
        break;
      case "note":
        if (mine) addNote(frame);
        break;
      case "error":
        if (frame.code === "session_expired" || frame.code === "unauthorized") {
          sessionEnded("Your session has expired. Please sign in again.");
        } else if (frame.message) {
          announce(frame.message);
        }
        break;
      default:
        break;
    }
  }

  /* ---------- queue ---------- */

  function onQueue(snapshot) {
    if (snapshot.at) state.skewMs = Date.parse(snapshot.at) - Date.now();
    state.snapshot = snapshot;
    var waiting = {};
    var fresh = [];
    snapshot.queue.forEach(function (entry) {
      waiting[entry.id] = true;
      if (state.seenWaiting && !state.seenWaiting[entry.id]) fresh.push(entry);
    });
    state.seenWaiting = waiting;
    renderLists();
    if (fresh.length === 1) {
      announce("New chat waiting: " + fresh[0].reason_text + ".");
    } else if (fresh.length > 1) {
      announce(fresh.length + " new chats waiting.");
    }
    var chat = state.chat;
    if (chat && chat.card && ownerKey(liveEntry(chat.handoffId)) !== ownerKey(chat.card.handoff)) {
      refreshCard();
    }
  }

  function liveEntry(handoffId) {
    var all = state.snapshot.queue.concat(state.snapshot.claimed);
    return all.filter(function (entry) { return entry.id === handoffId; })[0] || null;
  }

  /* Who has a handoff, as far as the lists can tell: closed ones are gone. */
  // Whose promise it is: yours, or nobody's (no account could take chats).
  function followUpOwner(entry) {
    if (entry.follow_up.unowned) return " · unowned";
    return entry.follow_up.owner_id === (state.me && state.me.id) ? " · yours" : "";
  }

  function ownerKey(handoff) {
    if (!handoff || ["queued", "follow_up", "claimed"].indexOf(handoff.state) < 0) return "closed";
    return handoff.state + ":" + (handoff.agent ? handoff.agent.id : "");
  }

  function dueInfo(entry) {
    var due = Date.parse(entry.follow_up.due_at);
    var left = due - serverNow();
    if (left < 0 || entry.follow_up.overdue) {
      return { cls: "is-overdue", text: "Overdue by " + duration(-left) };
    }
    return {
      cls: left <= DUE_SOON_MS ? "is-due-soon" : "",
      text: (left <= DUE_SOON_MS ? "Due soon: " : "Due ") + clock(entry.follow_up.due_at) +
        " (in " + duration(left) + ")"
    };
  }

  function entryItem(entry, kind) {
    var selected = state.chat && state.chat.handoffId === entry.id;
    var item = el("li", {
      class: "entry entry-" + kind + (selected ? " is-selected" : "") +
        (state.unread[entry.conversation_id] ? " is-unread" : ""),
      "data-handoff": entry.id,
      "data-conversation": entry.conversation_id
    });
    var priority = entry.effective_priority !== undefined ? entry.effective_priority : entry.priority;
    var open = el("button", {
      type: "button",
      class: "entry-open",
      "aria-label": (kind === "mine" ? "Open chat: " : "Open: ") + entry.reason_text +
        ". " + (entry.summary || ""),
      onclick: function () { openHandoff(entry.id, entry.conversation_id, true); }
    },
      el("span", { class: "entry-top" },
        el("span", { class: "reason-tag reason-" + entry.reason, text: entry.reason_text }),
        el("span", {
          class: "priority" + (priority >= 30 ? " is-high" : ""),
          title: "priority",
          text: "P" + Math.round(priority)
        })),
      el("span", { class: "entry-summary", text: entry.summary || "No summary yet" }),
      el("span", { class: "entry-meta" },
        kind === "mine" && entry.claimed_at
          ? el("span", { class: "waited", "data-since": entry.claimed_at, "data-prefix": "with you for ", text: "with you for " + duration(serverNow() - Date.parse(entry.claimed_at)) })
          : el("span", { class: "waited", "data-since": entry.created_at, text: "waiting " + duration(serverNow() - Date.parse(entry.created_at)) }),
        entry.position ? el("span", { text: "#" + entry.position + " in line" }) : null,
        state.unread[entry.conversation_id] ? el("span", { class: "unread-dot", text: "new message" }) : null)
    );
    item.appendChild(open);
    if (entry.follow_up) {
      var due = dueInfo(entry);
      item.classList.add("has-due");
      if (due.cls) item.classList.add(due.cls);
      var ownerText = followUpOwner(entry);
      open.appendChild(el("span", {
        class: "due " + due.cls, text: due.text + ownerText
      }));
    }
    if (kind !== "mine") {
      item.appendChild(el("button", {
        type: "button",
        class: "button primary small-button claim",
        "aria-label": "Claim: " + (entry.summary || entry.reason_text),
        onclick: function () { claim(entry.id, entry.conversation_id); },
        text: "Claim"
      }));
    }
    return item;
  }

  function renderList(listId, emptyId, countId, entries, kind) {
    var list = $(listId);
    var focused = document.activeElement;
    var focusKey = null;
    if (focused && list.contains(focused)) {
      var owner = focused.closest("[data-handoff]");
      focusKey = owner ? [owner.getAttribute("data-handoff"), focused.className] : null;
    }
    clear(list);
    entries.forEach(function (entry) { list.appendChild(entryItem(entry, kind)); });
    show($(emptyId), entries.length === 0);
    $(countId).textContent = String(entries.length);
    if (focusKey) {
      var again = list.querySelector('[data-handoff="' + focusKey[0] + '"] .' + focusKey[1].split(" ")[0]);
      if (again) again.focus();
    }
  }

  function renderLists() {
    var snapshot = state.snapshot;
    if (!snapshot) return;
    var live = snapshot.queue.filter(function (e) { return e.state === "queued"; });
    var followUps = snapshot.queue.filter(function (e) { return e.state === "follow_up"; });
    var mine = snapshot.claimed.filter(function (e) {
      return e.agent && state.me && e.agent.id === state.me.id;
    });
    renderList("queue-list", "queue-empty", "queue-count", live, "waiting");
    renderList("followup-list", "followup-empty", "followup-count", followUps, "followup");
    renderList("mine-list", "mine-empty", "mine-count", mine, "mine");
    var online = snapshot.agents_online;
    $("agents-online").textContent = online === 1 ? "1 agent online" : online + " agents online";
  }

  function tick() {
    var now = serverNow();
    Array.prototype.forEach.call(document.querySelectorAll("[data-since]"), function (node) {
      var prefix = node.hasAttribute("data-prefix") ? node.getAttribute("data-prefix") : "waiting ";
      node.textContent = prefix +
        duration(now - Date.parse(node.getAttribute("data-since")));
    });
    if (state.snapshot) {
      state.snapshot.queue.forEach(function (entry) {
        if (!entry.follow_up) return;
        var item = document.querySelector('#followup-list [data-handoff="' + entry.id + '"]');
        var label = item && item.querySelector(".due");
        if (!label) return;
        var due = dueInfo(entry);
        var ownerText = followUpOwner(entry);
        label.textContent = due.text + ownerText;
        label.className = "due " + due.cls;
        item.classList.toggle("is-overdue", due.cls === "is-overdue");
        item.classList.toggle("is-due-soon", due.cls === "is-due-soon");
      });
    }
  }

  /* ---------- colleagues ---------- */

  function loadColleagues() {
    return api("GET", "/api/agents").then(function (data) {
      state.colleagues = data.agents;
      var me = data.agents.filter(function (a) { return state.me && a.id === state.me.id; })[0];
      if (me && (me.presence === "online" || me.presence === "away")) {
        $("presence").value = me.presence;
      }
      renderTransferOptions();
    }).catch(function () { return null; });
  }

  function renderTransferOptions() {
    var select = $("transfer-to");
    var previous = select.value;
    clear(select);
    var others = state.colleagues.filter(function (a) { return !state.me || a.id !== state.me.id; });
    if (!others.length) {
      select.appendChild(el("option", { value: "", text: "No colleague available" }));
    }
    others.forEach(function (agent) {
      select.appendChild(el("option", {
        value: agent.id, text: agent.name + " (" + agent.presence + ")"
      }));
    });
    if (previous) select.value = previous;
  }

  /* ---------- a chat ---------- */

  function closeChat() {
    state.chat = null;
    show($("chat"), false);
    show($("card"), false);
    show($("chat-empty"), true);
    clear($("transcript"));
    hideTyping();
  }

  function openHandoff(handoffId, conversationId, focus) {
    if (!state.chat || state.chat.handoffId !== handoffId) {
      state.chat = {
        handoffId: handoffId,
        conversationId: conversationId,
        held: false,
        lastSeq: 0,
        card: null,
        messages: {},
        notes: {},
        turns: {}
      };
      clear($("transcript"));
      hideTyping();
      setAlert($("chat-error"), "");
      setBanner("");
      $("compose-text").value = "";
      $("kb-query").value = "";
      clear($("kb-results"));
    }
    delete state.unread[conversationId];
    renderLists();
    return refreshCard().then(function () {
      if (focus) $("chat-title").focus();
      suggestArticles();
    });
  }

  function refreshCard() {
    var chat = state.chat;
    if (!chat) return Promise.resolve();
    var pending = chat.loading || Promise.resolve();
    chat.loading = pending.then(function () {
      return api("GET", "/api/handoffs/" + chat.handoffId);
    }).then(function (card) {
      if (state.chat !== chat) return;
      chat.card = card;
      card.turns.forEach(function (turn) { chat.turns[turn.seq] = turn; });
      card.transcript.forEach(function (message) { addMessage(message, false); });
      card.notes.forEach(function (note) { addNote(note); });
      renderChat();
    }).catch(function (error) {
      if (state.chat === chat && error.status !== 401) setAlert($("chat-error"), error.message);
    });
    return chat.loading;
  }

  function setBanner(text, kind) {
    var banner = $("chat-banner");
    banner.textContent = text || "";
    banner.className = "banner" + (kind ? " banner-" + kind : "");
    show(banner, Boolean(text));
  }

  function customerName(card) {
    var c = card.customer;
    return c.name || c.email || "Anonymous customer";
  }

  function renderChat() {
    var chat = state.chat;
    var card = chat.card;
    var handoff = card.handoff;
    chat.held = Boolean(handoff.state === "claimed" && handoff.agent && state.me &&
      handoff.agent.id === state.me.id);
    show($("chat-empty"), false);
    show($("chat"), true);
    show($("card"), true);
    $("chat-title").textContent = customerName(card);
    var stateText = {
      queued: "Waiting in the queue", follow_up: "Follow-up promised",
      claimed: handoff.agent ? "With " + handoff.agent.name : "Claimed",
      handed_back: "Handed back to the bot", resolved: "Resolved", cancelled: "Customer went back to the bot"
    }[handoff.state] || handoff.state;
    $("chat-sub").textContent = stateText + " · " + handoff.reason_text;
    var waiting = handoff.state === "queued" || handoff.state === "follow_up";
    show($("claim-button"), waiting);
    show($("held-actions"), chat.held);
    show($("composer"), chat.held);
    show($("card-suggest-title").parentNode, chat.held);
    if (chat.held) {
      setBanner("");
      renderTransferOptions();
    } else if (handoff.state === "claimed") {
      setBanner((handoff.agent ? handoff.agent.name : "A colleague") + " has this conversation.", "info");
    } else if (handoff.state === "resolved") {
      setBanner("Resolved" + (handoff.outcome ? ": " + (OUTCOME_TEXT[handoff.outcome] || handoff.outcome) : "") + ".", "done");
    } else if (handoff.state === "handed_back") {
      setBanner("Handed back to the bot. The assistant answers this customer again.", "done");
    } else if (handoff.state === "cancelled") {
      setBanner("The customer went back to the assistant before anyone claimed the chat.", "done");
    } else if (waiting) {
      setBanner("Preview: claim this chat to reply.", "info");
    }
    renderTurnTags();
    renderCard(card);
    Array.prototype.forEach.call(document.querySelectorAll(".entry"), function (node) {
      node.classList.toggle("is-selected", Number(node.getAttribute("data-handoff")) === chat.handoffId);
    });
    scrollToEnd();
  }

  /* transcript */

  function placeInTimeline(node, time, order) {
    node.setAttribute("data-t", String(time));
    node.setAttribute("data-o", String(order));
    var log = $("transcript");
    var child = log.lastElementChild;
    while (child) {
      var t = Number(child.getAttribute("data-t"));
      var o = Number(child.getAttribute("data-o"));
      if (t < time || (t === time && o <= order)) break;
      child = child.previousElementSibling;
    }
    log.insertBefore(node, child ? child.nextSibling : log.firstChild);
  }

  function scrollToEnd() {
    var log = $("transcript");
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(message, live) {
    var chat = state.chat;
    if (!chat || chat.messages[message.seq]) return;
    var who = { customer: "Customer", bot: "Assistant", agent: "Agent", system: "" }[message.role];
    if (message.role === "agent" && message.meta && message.meta.agent && message.meta.agent.name) {
      who = message.meta.agent.name;
    }
    if (message.role === "customer" && chat.card) who = customerName(chat.card);
    var item = el("li", { class: "msg msg-" + message.role, "data-seq": message.seq });
    if (message.role === "system") {
      item.appendChild(el("p", { class: "msg-text", text: message.text }));
    } else {
      item.appendChild(el("p", { class: "msg-who" },
        el("span", { class: "msg-name", text: who }),
        el("time", { datetime: message.at, text: clock(message.at) })));
      item.appendChild(el("p", { class: "msg-text", text: message.text }));
      var chips = el("p", { class: "chips" });
      if (message.meta && typeof message.meta.article === "string") {
        chips.appendChild(el("span", { class: "chip chip-article", text: "article: " + message.meta.article }));
      }
      if (message.buttons && message.buttons.length) {
        chips.appendChild(el("span", {
          class: "chip",
          text: "offered: " + message.buttons.map(function (b) { return b.title; }).join(" · ")
        }));
      }
      item.appendChild(chips);
    }
    chat.messages[message.seq] = item;
    chat.lastSeq = Math.max(chat.lastSeq, message.seq);
    placeInTimeline(item, Date.parse(message.at), message.seq);
    if (message.role === "customer") renderTurnTag(message.seq);
    scrollToEnd();
    if (live && message.role === "customer") announce("Customer: " + message.text);
  }

  function renderTurnTag(seq) {
    var chat = state.chat;
    var item = chat.messages[seq];
    var turn = chat.turns[seq];
    if (!item || !turn || item.querySelector(".chip-intent")) return;
    var chips = item.querySelector(".chips");
    if (turn.intent) {
      var confidence = typeof turn.confidence === "number" ? " · " + Math.round(turn.confidence * 100) + "%" : "";
      var low = typeof turn.confidence === "number" && turn.confidence < 0.5;
      chips.appendChild(el("span", {
        class: "chip chip-intent" + (low ? " is-low" : ""),
        title: "what the assistant understood",
        text: turn.intent + confidence
      }));
    } else {
      chips.appendChild(el("span", { class: "chip chip-intent is-people", text: "seen by people only" }));
    }
    if (turn.frustration && turn.frustration.frustrated) {
      chips.appendChild(el("span", { class: "chip chip-frustrated", text: "frustrated" }));
    }
  }

  function renderTurnTags() {
    Object.keys(state.chat.turns).forEach(function (seq) { renderTurnTag(Number(seq)); });
  }

  function addNote(note) {
    var chat = state.chat;
    if (!chat || chat.notes[note.id]) return;
    var author = note.agent && note.agent.name ? note.agent.name : "An agent";
    var item = el("li", { class: "msg msg-note", "data-note": note.id },
      el("p", { class: "msg-who" },
        el("span", { class: "msg-name", text: "Internal note · " + author }),
        el("time", { datetime: note.at, text: clock(note.at) })),
      el("p", { class: "msg-text", text: note.text }),
      el("p", { class: "note-flag", text: "Only agents see this" }));
    chat.notes[note.id] = item;
    // Notes sort after messages of the same instant.
    placeInTimeline(item, Date.parse(note.at), 1e12 + note.id);
    scrollToEnd();
  }

  function showTyping() {
    var chat = state.chat;
    $("typing").textContent = (chat && chat.card ? customerName(chat.card) : "The customer") + " is typing…";
    if (state.typingTimer) window.clearTimeout(state.typingTimer);
    state.typingTimer = window.setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    if (state.typingTimer) window.clearTimeout(state.typingTimer);
    state.typingTimer = null;
    $("typing").textContent = "";
  }

  /* the handoff card */

  function fact(list, term, value, extra) {
    if (value === null || value === undefined || value === "") return;
    var dd = el("dd", null, typeof value === "string" ? value : value);
    if (extra) dd.appendChild(extra);
    list.appendChild(el("dt", { text: term }));
    list.appendChild(dd);
  }

  function renderCard(card) {
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

  /* ---------- actions on a chat ---------- */

  function chatFailed(error) {
    if (error.status === 401) return;
    setAlert($("chat-error"), error.message);
    announce(error.message);
  }

  function claim(handoffId, conversationId) {
    setAlert($("chat-error"), "");
    return api("POST", "/api/handoffs/" + handoffId + "/claim").then(function () {
      return openHandoff(handoffId, conversationId, false).then(function () {
        announce("You have the chat. The customer has been told you joined.");
        $("compose-text").focus();
      });
    }).catch(function (error) {
      if (error.status === 401) return;
      return openHandoff(handoffId, conversationId, false).then(function () {
        chatFailed(error);
      });
    });
  }

  function transfer() {
    var chat = state.chat;
    var target = Number($("transfer-to").value);
    if (!chat || !target) {
      setAlert($("chat-error"), "Choose a colleague to transfer to.");
      return;
    }
    var name = $("transfer-to").selectedOptions[0].textContent;
    api("POST", "/api/handoffs/" + chat.handoffId + "/transfer", { agent_id: target })
      .then(function () {
        setAlert($("chat-error"), "");
        return refreshCard().then(function () {
          announce("Chat transferred to " + name.replace(/ \((online|away|offline)\)$/, "") + ".");
        });
      }).catch(chatFailed);
  }

  function handBack() {
    var chat = state.chat;
    if (!chat) return;
    api("POST", "/api/handoffs/" + chat.handoffId + "/handback").then(function () {
      setAlert($("chat-error"), "");
      return refreshCard().then(function () { announce("Handed back to the bot."); });
    }).catch(chatFailed);
  }

  function resolve() {
    var chat = state.chat;
    if (!chat) return;
    var outcome = $("outcome").value;
    api("POST", "/api/handoffs/" + chat.handoffId + "/resolve", { outcome: outcome })
      .then(function () {
        setAlert($("chat-error"), "");
        return refreshCard().then(function () { announce("Chat resolved."); });
      }).catch(chatFailed);
  }

  function composeMode() {
    return $("mode-note").checked ? "note" : "reply";
  }

  function onModeChange() {
    var note = composeMode() === "note";
    $("composer").classList.toggle("is-note", note);
    $("compose-label").textContent = note ? "Internal note (only agents see it)" : "Reply to the customer";
    $("compose-text").placeholder = note ? "Write an internal note… the customer never sees it" : "Write a reply…";
    $("compose-hint").textContent = note
      ? "Notes stay inside the team and are never sent to the customer."
      : "Enter sends, Shift+Enter adds a line. The customer sees your name.";
    $("send-button").textContent = note ? "Add note" : "Send";
  }

  function onSubmit(event) {
    event.preventDefault();
    var chat = state.chat;
    var box = $("compose-text");
    var text = box.value.trim();
    if (!chat || !text) return;
    var button = $("send-button");
    button.disabled = true;
    var path = "/api/conversations/" + encodeURIComponent(chat.conversationId);
    var request = composeMode() === "note"
      ? api("POST", path + "/notes", { text: text }).then(function (data) { addNote(data.note); })
      : api("POST", path + "/messages", { text: text, client_id: newClientId() })
        .then(function (data) { addMessage(data.message, false); });
    request.then(function () {
      box.value = "";
      setAlert($("chat-error"), "");
    }).catch(chatFailed).then(function () {
      button.disabled = false;
      box.focus();
    });
  }

  function onComposeKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  }

  function onComposeInput() {
    var chat = state.chat;
    if (!chat || !chat.held || composeMode() !== "reply") return;
    var now = Date.now();
    if (now - state.lastTypingSent < TYPING_EVERY_MS) return;
    state.lastTypingSent = now;
    sendFrame({ type: "typing", conversation_id: chat.conversationId });
  }

  function insertText(text) {
    var box = $("compose-text");
    $("mode-reply").checked = true;
    onModeChange();
    box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n\n" + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  /* knowledge base */

  function problemText() {
    var chat = state.chat;
    if (!chat || !chat.card) return "";
    var said = chat.card.transcript.filter(function (m) { return m.role === "customer"; })
      .map(function (m) { return m.text; });
    return said.slice(-3).join(" ").slice(0, 500);
  }

  function suggestArticles(query) {
    var chat = state.chat;
    var text = query || problemText();
    var list = $("kb-results");
    clear(list);
    if (!chat || !text) {
      list.appendChild(el("li", { class: "muted", text: "Nothing to search for yet" }));
      return Promise.resolve();
    }
    return api("GET", "/api/kb/articles?search=" + encodeURIComponent(text)).then(function (data) {
      if (state.chat !== chat) return;
      clear(list);
      var hits = data.hits.slice(0, 4);
      if (!hits.length) list.appendChild(el("li", { class: "muted", text: "No matching article" }));
      hits.forEach(function (hit) {
        list.appendChild(el("li", { class: "suggestion" },
          el("span", { class: "suggestion-title", text: hit.title }),
          el("button", {
            type: "button", class: "button small-button",
            "aria-label": "Insert article: " + hit.title,
            onclick: function () { insertArticle(hit.slug); },
            text: "Insert"
          })));
      });
    }).catch(function (error) {
      if (state.chat !== chat || error.status === 401) return;
      clear(list);
      list.appendChild(el("li", { class: "muted", text: error.message }));
    });
  }

  function insertArticle(slug) {
    api("GET", "/api/kb/articles/" + encodeURIComponent(slug)).then(function (data) {
      var article = data.article;
      var lines = [article.title + ": " + article.summary];
      (article.steps || []).forEach(function (step, index) { lines.push((index + 1) + ". " + step); });
      insertText(lines.join("\n"));
    }).catch(chatFailed);
  }

  /* ---------- outbox ---------- */

  function loadOutbox() {
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

  /* ---------- knowledge-base articles ---------- */

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

  function resetArticles() {
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
  function mayLeaveArticle() {
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

  function loadArticles() {
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

  /* Markdown preview: a small subset, built as DOM nodes, so the text is
   * never parsed as HTML and links go only to web, mail or local addresses. */

  var MD_LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
  var MD_FENCE = /^\s*(```|~~~)/;
  var MD_HEADING = /^\s{0,3}(#{1,6})\s+(.*?)(\s+#+)?\s*$/;
  var MD_RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
  var MD_QUOTE = /^\s{0,3}>/;
  var MD_INLINE = new RegExp([
    "(`+)([^`]|[^`][\\s\\S]*?[^`])\\1(?!`)",
    "\\*\\*([\\s\\S]+?)\\*\\*",
    "\\b__([^_\\s](?:[\\s\\S]*?[^_\\s])?)__\\b",
    "\\*([^*\\s](?:[\\s\\S]*?[^*\\s])?)\\*",
    "\\b_([^_\\s](?:[\\s\\S]*?[^_\\s])?)_\\b",
    "\\[([^\\]]+)\\]\\(\\s*([^)\\s]+)\\s*\\)",
    "<((?:https?://|mailto:)[^>\\s]+)>"
  ].join("|"));
  var SAFE_HREF = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;

  function indentOf(line) {
    return /^\s*/.exec(line)[0].length;
  }

  function startsBlock(line) {
    return MD_FENCE.test(line) || MD_HEADING.test(line) || MD_RULE.test(line) ||
      MD_QUOTE.test(line) || MD_LIST_ITEM.test(line);
  }

  function markdownLink(label, href) {
    if (!SAFE_HREF.test(href)) return document.createTextNode(label + " (" + href + ")");
    return inlineMarkdown(el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow" }), label);
  }

  function inlineMarkdown(node, text) {
    var rest = text;
    while (rest) {
      var m = MD_INLINE.exec(rest);
      if (!m) {
        node.appendChild(document.createTextNode(rest));
        break;
      }
      if (m.index) node.appendChild(document.createTextNode(rest.slice(0, m.index)));
      if (m[1]) node.appendChild(el("code", { text: m[2] }));
      else if (m[3] !== undefined) node.appendChild(inlineMarkdown(el("strong"), m[3]));
      else if (m[4] !== undefined) node.appendChild(inlineMarkdown(el("strong"), m[4]));
      else if (m[5] !== undefined) node.appendChild(inlineMarkdown(el("em"), m[5]));
      else if (m[6] !== undefined) node.appendChild(inlineMarkdown(el("em"), m[6]));
      else if (m[7] !== undefined) node.appendChild(markdownLink(m[7], m[8]));
      else node.appendChild(markdownLink(m[9], m[9]));
      rest = rest.slice(m.index + m[0].length);
    }
    return node;
  }

  function markdownList(lines, start, parent) {
    var first = MD_LIST_ITEM.exec(lines[start]);
    var indent = first[1].length;
    var ordered = /\d/.test(first[2]);
    var list = el(ordered ? "ol" : "ul");
    if (ordered && parseInt(first[2], 10) !== 1) list.setAttribute("start", String(parseInt(first[2], 10)));
    var item = null;
    // An item's lines are set as one text, so emphasis may span a line break.
    var text = [];
    function flush() {
      if (text.length) inlineMarkdown(item, text.join("\n"));
      text = [];
    }
    var i = start;
    while (i < lines.length) {
      var line = lines[i];
      if (!line.trim()) {
        var next = lines[i + 1];
        var continues = next !== undefined && next.trim() &&
          (MD_LIST_ITEM.test(next) ? indentOf(next) >= indent : indentOf(next) > indent);
        if (!continues) break;
        i++;
        continue;
      }
      var m = MD_LIST_ITEM.exec(line);
      if (m && m[1].length > indent) {
        flush();
        i = markdownList(lines, i, item);
        continue;
      }
      if (m && m[1].length === indent && /\d/.test(m[2]) === ordered) {
        flush();
        item = el("li");
        list.appendChild(item);
        text.push(m[3]);
        i++;
        continue;
      }
      if (m || startsBlock(line)) break;
      text.push(line.trim());
      i++;
    }
    flush();
    parent.appendChild(list);
    return i;
  }

  function renderMarkdown(source) {
    var root = document.createDocumentFragment();
    var lines = String(source || "").replace(/\r\n?/g, "\n").split("\n");
    var i = 0;
    while (i < lines.length) {
      var line = lines[i];
      var m;
      if (!line.trim()) {
        i++;
      } else if ((m = MD_FENCE.exec(line))) {
        var code = [];
        for (i++; i < lines.length && lines[i].trim().indexOf(m[1]) !== 0; i++) code.push(lines[i]);
        i++;
        root.appendChild(el("pre", null, el("code", { text: code.join("\n") })));
      } else if ((m = MD_HEADING.exec(line))) {
        // The preview sits under an h3: article headings start at h4.
        root.appendChild(inlineMarkdown(el("h" + Math.min(6, m[1].length + 3)), m[2]));
        i++;
      } else if (MD_RULE.test(line)) {
        root.appendChild(el("hr"));
        i++;
      } else if (MD_QUOTE.test(line)) {
        var quoted = [];
        for (; i < lines.length && MD_QUOTE.test(lines[i]); i++) quoted.push(lines[i].replace(/^\s*> ?/, ""));
        root.appendChild(el("blockquote", null, renderMarkdown(quoted.join("\n"))));
      } else if (MD_LIST_ITEM.test(line)) {
        i = markdownList(lines, i, root);
      } else {
        var paragraph = [line.trim()];
        for (i++; i < lines.length && lines[i].trim() && !startsBlock(lines[i]); i++) paragraph.push(lines[i].trim());
        root.appendChild(inlineMarkdown(el("p"), paragraph.join("\n")));
      }
    }
    return root;
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

  /* ---------- accounts (admins) ---------- */

  function loadAccounts() {
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
    var self = state.me && account.id === state.me.id;
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

  /* ---------- start ---------- */

  function bind() {
    $("signin-form").addEventListener("submit", onSignIn);
    $("signout").addEventListener("click", signOut);
    training.bind();
    Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (tab) {
      tab.addEventListener("click", function () { switchView(tab.getAttribute("data-view"), true); });
    });
    $("presence").addEventListener("change", function () {
      api("POST", "/api/auth/presence", { presence: $("presence").value }).then(function (data) {
        announce("Your status is now " + data.presence + ".");
      }).catch(function (error) {
        if (error.status !== 401) announce(error.message);
      });
    });
    $("claim-button").addEventListener("click", function () {
      if (state.chat) claim(state.chat.handoffId, state.chat.conversationId);
    });
    $("transfer-button").addEventListener("click", transfer);
    $("transfer-to").addEventListener("focus", loadColleagues);
    $("handback-button").addEventListener("click", handBack);
    $("resolve-button").addEventListener("click", resolve);
    $("composer").addEventListener("submit", onSubmit);
    $("compose-text").addEventListener("keydown", onComposeKey);
    $("compose-text").addEventListener("input", onComposeInput);
    $("mode-reply").addEventListener("change", onModeChange);
    $("mode-note").addEventListener("change", onModeChange);
    $("kb-search").addEventListener("submit", function (event) {
      event.preventDefault();
      suggestArticles($("kb-query").value.trim());
    });
    var canned = $("canned");
    canned.appendChild(el("option", { value: "", text: "Canned replies…" }));
    CANNED_REPLIES.forEach(function (reply, index) {
      canned.appendChild(el("option", { value: String(index), text: reply[0] }));
    });
    $("canned-insert").addEventListener("click", function () {
      if (canned.value !== "") insertText(CANNED_REPLIES[Number(canned.value)][1]);
    });
    $("outbox-refresh").addEventListener("click", loadOutbox);
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
      if (state.signedIn && isDirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    $("create-agent").addEventListener("submit", onCreateAccount);
    window.setInterval(tick, 1000);
  }

  function start() {
    bind();
    resetArticles();
    fetch("/api/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return [response.status, data]; });
      })
      .then(function (answer) {
        if (answer[0] === 200) {
          enterApp(answer[1].agent, answer[1].csrf_token);
        } else {
          var code = answer[1] && answer[1].error && answer[1].error.code;
          showSignIn(code === "session_expired" ? "Your session has expired. Please sign in again." : "");
        }
      })
      .catch(function () {
        showSignIn("The console cannot reach the server. Reload the page to try again.");
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

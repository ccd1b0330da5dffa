/* widget.js, part socket.js: the connection: start, WebSocket, backoff, outbox, frames. */
// Connection
// Exponential backoff with full jitter: from 500 ms, doubling, capped at 30 s.
function later(fn) {
  clearTimeout(timer);
  timer = setTimeout(fn, Math.random() * Math.min(30000, 500 * 2 ** attempt));
  attempt = Math.min(attempt + 1, 10);
}

// Connect when there is a conversation; start one when something waits to be sent.
function kick() {
  if (ws || creating) return;
  if (conv) connect();
  else if (outbox().length) create();
}

function startBody() {
  const body = { locale: data.locale || navigator.language, page_url: location.href.slice(0, 2048) };
  if (user) {
    body.user = user;
    if (signIdentity) {
      body.user_hash = data.userHash;
      body.user_expires = Number(data.userExpires);
    }
  }
  return body;
}

async function create() {
  if (ws || creating || conv) return;
  creating = true;
  let retry = true;
  try {
    const res = await fetch(base + '/api/conversations', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(startBody()),
    });
    const body = await res.json().catch(() => ({}));
    const code = body.error && body.error.code;
    if (signIdentity && /^(identity_|bad_identity)/.test(code || '')) {
      // A stale or broken signature must not keep the customer out:
      // chat anyway, unverified.
      signIdentity = false;
      creating = false;
      return create();
    }
    if (!res.ok || typeof body.conversation_id !== 'string' || typeof body.token !== 'string') {
      retry = res.status === 429 || res.status >= 500; // other refusals: retried on the next send
      throw new Error((body.error && body.error.message) || S.error);
    }
    conv = { conversation_id: body.conversation_id, token: body.token, last_seq: 0, rated: false, user_id: user ? user.id : null };
    saveConv();
    creating = false;
    connect();
  } catch (e) {
    creating = false;
    if (e instanceof TypeError) note(S.reconnecting); // the network, not the server
    else showError(e.message);
    if (retry) later(kick);
  }
}

function connect() {
  if (ws || !conv) return;
  clearTimeout(timer);
  const id = encodeURIComponent(conv.conversation_id);
  const query = '?token=' + encodeURIComponent(conv.token) + '&after=' + lastSeq;
  let socket;
  try {
    socket = new WebSocket(base.replace(/^http/, 'ws') + '/api/conversations/' + id + '/ws' + query);
  } catch {
    return later(kick);
  }
  ws = socket;
  socket.onopen = () => ws === socket && (note(''), flush());
  socket.onmessage = (e) => ws === socket && onFrame(e.data);
  socket.onclose = (e) => {
    if (ws !== socket) return;
    ws = null;
    if (e.code === 4401 || e.code === 4404) return restart();
    note(S.reconnecting);
    later(kick);
  };
}

// The conversation is gone (unknown id or refused token): start a new one,
// keeping typed messages that never arrived.
function restart() {
  const socket = ws;
  ws = conv = rating = null;
  if (socket) socket.close();
  cache = [];
  lastSeq = 0;
  save('conversation', null);
  save('log', null);
  // Buttons, and answers to its secret questions, belonged to the old chat.
  saveOutbox(outbox().filter((e) => e.type === 'message' && !e.secret));
  secretQuestion = '';
  pending.clear();
  log.replaceChildren();
  greet();
  log.append(bubble('system', S.restarted));
  statusEl.hidden = rateEl.hidden = endBtn.hidden = askEl.hidden = true;
  asking = '';
  contactChecked = offerPending = false;
  replied = spoke = false;
  lastStamp = lastState = '';
  rateEl.replaceChildren();
  for (const e of outbox()) renderPending(e);
  later(create);
}

function transmit(entry) {
  if (!connected()) return false;
  const { type, client_id } = entry;
  ws.send(JSON.stringify(type === 'button' ? { type, payload: entry.payload, client_id } : { type, text: entry.text, client_id }));
  return true;
}

// Every (re)connect resends the whole outbox with the same client_ids: the
// server stores a retried send once and echoes it.
function flush() {
  for (const entry of outbox()) {
    renderPending(entry);
    transmit(entry);
  }
}

function queue(entry) {
  saveOutbox(outbox().concat(entry));
  renderPending(entry);
  if (!transmit(entry)) kick();
}

function onFrame(raw) {
  let f;
  try {
    f = JSON.parse(raw);
  } catch {
    return;
  }
  if (!f) return;
  if (f.type === 'message' || f.type === 'status') {
    attempt = 0; // the connection works: reset the backoff
    if (f.type === 'message') renderMessage(f, false);
    else renderStatus(f);
  } else if (f.type === 'typing') {
    if (f.role === 'agent' || f.role === 'bot') showTyping(f.role);
  } else if (f.type === 'rated') {
    rated();
  } else if (f.type === 'recap') {
    recapDone(f);
  } else if (f.type === 'error') {
    onError(f);
  }
}

function onError(f) {
  const code = String(f.code || '');
  if (code === 'unauthorized' || code === 'not_found') return restart();
  const messages = { too_large: S.tooLong, rate_limited: S.rateLimited };
  const message = messages[code] || String(f.message || S.error);
  const entry = typeof f.client_id === 'string' && inOutbox(f.client_id);
  if (entry && TRANSIENT.includes(code)) {
    const wait = Number(f.retry_after_s) > 0 ? Number(f.retry_after_s) * 1000 : 5000;
    setTimeout(() => inOutbox(entry.client_id) && transmit(entry), wait);
  } else if (entry) {
    failSend(entry, message);
  }
  if (rating && rating.busy) {
    rating.busy = false;
    rating.submit.disabled = !rating.score;
  }
  if (rating && rating.recapBusy) {
    rating.recapBusy = rating.recapBtn.disabled = false;
    rating.recapNote.textContent = code === 'bad_email' ? S.badEmail : message;
  }
  showError(message);
}


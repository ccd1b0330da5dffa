/* widget.js, part status.js: the status line, the closing panel (rating, recap), typing. */
function renderStatus(f) {
  const state = f.state;
  if (f.agent && typeof f.agent.name === 'string') agentName = f.agent.name;
  let text = '';
  if (state === 'queued') {
    const line = f.position > 0 ? fmt(S.position, { position: f.position }) : S.queued;
    const minutes = f.eta_s > 0 ? Math.max(1, Math.round(f.eta_s / 60)) : 0;
    text = fmt(minutes ? (minutes === 1 ? S.etaOne : S.eta) : S.noEta, { line, minutes });
  } else if (state === 'agent') {
    text = agentName ? fmt(S.agentJoined, { name: agentName }) : S.agentJoinedAnon;
  } else if (state === 'follow_up') {
    const time = dueTime(f.due_at);
    text = time ? fmt(S.followUp, { time }) : S.followUpSoon;
  } else if (state === 'resolved') {
    text = conv.rated ? S.thanks : S.resolved;
  } else {
    // Reopened by a new message: the closing panel steps aside, and the
    // next resolution gets its own rating.
    if (lastState === 'resolved') showClosing(false, false);
    if (conv.rated) {
      conv.rated = false;
      saveConv();
      if (rating) rating.box.hidden = false;
    }
  }
  lastState = state;
  dangerWait = f.danger === true;
  statusText.textContent = text;
  statusEl.hidden = !text;
  leaveBtn.hidden = state !== 'queued' || dangerWait;
  if (dangerWait && asking === 'leave') closeAsk(false);
  if (state !== 'queued' && asking === 'leave') closeAsk(false);
  if (state === 'queued' && offerPending) showLeave(true, false);
  if (state !== 'queued') offerPending = false;
  if (state === 'follow_up') askContact();
  if (state === 'resolved' && !conv.rated) showClosing(true, false);
}

// The closing panel: a 1-5 rating with a comment, and an e-mail recap.
function buildClosing() {
  if (rating) return;
  const comment = h('textarea', { id: 'comment', rows: '2', maxlength: '1000' });
  const submit = h('button', { type: 'button', class: 'send', text: S.submitRating, disabled: true });
  const email = h('input', { id: 'recap-email', type: 'email', autocomplete: 'email', value: (user && user.email) || null });
  const recapBtn = h('button', { type: 'button', class: 'send', text: S.recapSend });
  const recapNote = h('p', { class: 'ok', role: 'status' });
  const stars = [1, 2, 3, 4, 5].map((n) => {
    const onclick = () => {
      rating.score = n;
      stars.forEach((s, i) => {
        s.classList.toggle('on', i < n);
        s.setAttribute('aria-pressed', String(i + 1 === n));
      });
      submit.disabled = rating.busy;
    };
    return h('button', { type: 'button', class: 'star', text: '★', 'aria-pressed': 'false', 'aria-label': fmt(S.star, { n }), onclick });
  });
  const box = h(
    'div',
    { class: 'rating' },
    h('h3', { id: 'rate-title', text: S.rateTitle }),
    h('div', { role: 'group', 'aria-labelledby': 'rate-title' }, ...stars),
    h('label', { for: 'comment', text: S.comment }),
    comment,
    submit,
  );
  rating = { score: 0, submit, busy: false, box, email, recapBtn, recapNote, recapBusy: false };
  submit.addEventListener('click', () => {
    if (!rating.score || rating.busy) return;
    if (!connected()) return showError(S.offline);
    rating.busy = submit.disabled = true;
    ws.send(JSON.stringify({ type: 'rating', score: rating.score, comment: comment.value.trim() }));
  });
  const sendRecap = () => {
    const address = email.value.trim();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) return (recapNote.textContent = S.badEmail), email.focus();
    if (!connected()) return showError(S.offline);
    rating.recapBusy = recapBtn.disabled = true;
    recapNote.textContent = '';
    ws.send(JSON.stringify({ type: 'recap', email: address }));
  };
  recapBtn.addEventListener('click', sendRecap);
  email.addEventListener('keydown', (e) => e.key === 'Enter' && (e.preventDefault(), sendRecap()));
  box.hidden = Boolean(conv && conv.rated); // the status line has the thanks
  rateEl.append(box, h('label', { for: 'recap-email', text: S.recapLabel }), h('div', { class: 'row' }, email, recapBtn), recapNote);
}

function showClosing(show, focus) {
  if (show) buildClosing();
  rateEl.hidden = !show;
  endBtn.setAttribute('aria-expanded', String(show));
  if (show && focus) (rateEl.querySelector('.star') || rating.email).focus();
}

// Once rated, the panel steps aside (the status line thanks the customer);
// the recap stays one click away on the header button.
function rated() {
  conv.rated = true;
  saveConv();
  statusText.textContent = S.thanks;
  statusEl.hidden = false;
  if (!rating) return;
  rating.busy = false;
  rating.box.hidden = true;
  if (rating.recapBusy || rateEl.hidden) return;
  showClosing(false, false);
  input.focus();
}

function recapDone(f) {
  if (!rating) return;
  rating.recapBusy = rating.recapBtn.disabled = false;
  rating.recapNote.textContent = fmt(f.status === 'failed' ? S.recapFailed : S.recapSent, { email: String(f.email || '') });
}

function showTyping(role) {
  typingEl.textContent = fmt(S.typing, { name: role === 'agent' ? agentName || S.agent : S.bot });
  typingEl.hidden = false;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(hideTyping, 4000);
}
function hideTyping() {
  clearTimeout(typingTimer);
  typingEl.hidden = true;
}


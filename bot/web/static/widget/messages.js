/* widget.js, part messages.js: message bubbles, quick replies, sends waiting for their echo. */
// Rendering
const bubble = (role, text, name, meta) => {
  let who = name
    ? h('span', { class: 'who', text: name })
    : h('span', { class: 'sr', text: (role === 'customer' ? S.you : S[role]) + ': ' });
  // A person answers: their initials and name, unlike the assistant.
  if (role === 'agent') who = h('div', { class: 'from' }, h('span', { class: 'av', 'aria-hidden': 'true', text: initials(name) }), who);
  const el = h('div', { class: 'msg ' + role }, who);
  if (role !== 'bot' && role !== 'agent') {
    linkify(el, text);
    return el;
  }
  const steps = meta && Array.isArray(meta.steps) ? meta.steps.filter((x) => typeof x === 'string') : [];
  if (!richText(el, text) && steps.length) {
    const list = h('ol', { 'aria-label': S.steps });
    for (const step of steps) linkify(list.appendChild(h('li')), step);
    el.append(list);
  }
  if (meta && typeof meta.article === 'string') el.append(h('span', { class: 'src', text: S.article }));
  return el;
};
// Confirmed messages go before the first bubble still waiting for its echo.
const place = (el) => el && log.insertBefore(el, log.querySelector('.pending'));
const disableReplies = () => {
  for (const b of log.querySelectorAll('.replies button')) b.disabled = true;
};
const quickReplies = (buttons) => {
  const set = h('div', { class: 'replies' });
  for (const b of buttons) {
    if (!b || typeof b.payload !== 'string' || !b.payload) continue;
    const text = String(b.title || b.payload);
    const onclick = () => queue({ client_id: uuid(), type: 'button', payload: b.payload, text });
    set.append(h('button', { type: 'button', text, onclick }));
  }
  return set.firstChild && set;
};
// Someone may be in danger (meta.notice, set by the hub): where to get help
// now, as a card that stands out from the transcript, its numbers to tap.
// Said at once by screen readers when it arrives, not when redrawn.
const dangerNotice = (text, meta, live) => {
  const el = h(
    'div',
    { class: 'msg system notice danger', role: live ? 'alert' : null },
    h('p', { class: 'notice-title' }, h('span', { 'aria-hidden': 'true', text: '⚠\uFE0E ' }), S.dangerTitle),
  );
  linkParts(el.appendChild(h('p')), text, noticeLinks(meta.links));
  return el;
};
const greet = () => S.greeting && log.append(bubble('bot', S.greeting));

function renderMessage(f, fromCache) {
  const seq = f.seq;
  if (!Number.isInteger(seq) || seq <= lastSeq) return;
  lastSeq = seq;
  const role = ROLES.includes(f.role) ? f.role : 'system';
  const meta = f.meta && typeof f.meta === 'object' ? f.meta : null;
  let text = typeof f.text === 'string' ? f.text : '';
  // The hub writes a promised time in UTC and says where: shown here as the
  // status line shows it.
  if (role === 'system' && meta && typeof meta.due_text === 'string' && dueTime(meta.due_at)) {
    text = text.replace(meta.due_text, dueTime(meta.due_at));
  }
  // The hub says the wait runs well past its estimate and offers a follow-up.
  if (role === 'system' && meta && meta.offer === 'follow_up' && !fromCache) {
    if (lastState === 'queued') showLeave(true, false);
    else offerPending = true;
  }
  const sender = meta && meta.agent && typeof meta.agent.name === 'string' ? meta.agent.name : '';
  const name = role === 'agent' ? sender || f.name || agentName || S.agent : '';
  if (role === 'customer') spoke = true;
  else if (spoke && (role === 'bot' || role === 'agent')) replied = true;
  endBtn.hidden = !replied;
  const follow = role === 'customer' || atBottom(); // decided before it grows
  let el = null;
  if (role === 'customer' && typeof f.client_id === 'string') {
    dropOutbox(f.client_id);
    const sent = pending.get(f.client_id);
    pending.delete(f.client_id);
    // Shown as the hub stored it: an e-mail or code it keeps masked is
    // masked here too, no longer as typed.
    if (sent && text) sent.replaceWith((el = bubble(role, text, name, meta)));
  }
  if (role === 'bot') secretQuestion = meta && typeof meta.secret_answer === 'string' ? meta.secret_answer : '';
  if (!el && text && role === 'system' && meta && meta.notice === 'danger') el = dangerNotice(text, meta, !fromCache);
  if (!el && text) el = bubble(role, text, name, meta);
  stamp(el, f.at);
  if (role !== 'system') disableReplies();
  place(el);
  const replies = role === 'bot' && Array.isArray(f.buttons) ? quickReplies(f.buttons) : null;
  place(replies);
  if (role !== 'customer') {
    hideTyping();
    if (!fromCache && panel.hidden) {
      unread += 1;
      badge.textContent = unread > 9 ? '9+' : String(unread);
      badge.hidden = false;
      launcher.setAttribute('aria-label', S.open + ', ' + fmt(S.unread, { n: unread }));
    }
  }
  if (!fromCache) {
    const { buttons, client_id, at } = f;
    cache = cache.concat({ seq, role, text, buttons, client_id, at, name, meta }).slice(-CACHE_SIZE);
    if (!save('log', cache)) save('log', null); // storage full: redraw from the server
    conv.last_seq = seq;
    saveConv();
  }
  if (!el && !replies) return;
  if (follow) toNewest(el || replies);
  else {
    stuck = false;
    pill.hidden = false;
  }
}

function renderPending(entry) {
  if (pending.has(entry.client_id)) return;
  const el = bubble('customer', entry.text);
  el.classList.add('pending');
  el.append(h('span', { class: 'state', text: S.sending }));
  pending.set(entry.client_id, el);
  disableReplies();
  log.append(el);
  scroll(true);
}

function failSend(entry, reason) {
  dropOutbox(entry.client_id);
  const el = pending.get(entry.client_id);
  pending.delete(entry.client_id);
  if (el) {
    el.classList.replace('pending', 'failed');
    el.querySelector('.state').textContent = fmt(S.failed, { reason });
  }
  // Give the words back, so nothing typed is lost.
  if (entry.type === 'message' && !input.value.trim()) {
    input.value = entry.text;
    autosize();
  }
}


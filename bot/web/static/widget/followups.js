/* widget.js, part followups.js: the follow-up questions: leave the queue, where to reach you. */
// Follow-ups: leaving the live queue, and where to reach the customer.
// Both answer over HTTP with the conversation's token.
async function callHub(path, body) {
  const res = await fetch(base + '/api/conversations/' + encodeURIComponent(conv.conversation_id) + path, {
    method: body ? 'POST' : 'GET',
    credentials: 'omit',
    headers: Object.assign({ Authorization: 'Bearer ' + conv.token }, body ? { 'Content-Type': 'application/json' } : {}),
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (res.ok) return data;
  const error = new Error((data.error && data.error.message) || S.error);
  error.code = (data.error && data.error.code) || '';
  throw error;
}
const failure = (e) => (e instanceof TypeError ? S.offline : e.code === 'bad_email' ? S.badEmail : e.message);

// Show a question in the ask box: a title, a help line, then its controls.
function openAsk(kind, title, help, ...controls) {
  asking = kind;
  const err = h('p', { class: 'err', id: 'ask-err', role: 'alert', hidden: true });
  askEl.replaceChildren(h('h3', { id: 'ask-title', text: title }), h('p', { id: 'ask-help', text: help }), ...controls, err);
  askEl.hidden = false;
  leaveBtn.setAttribute('aria-expanded', String(kind === 'leave'));
  return err;
}

function closeAsk(focus) {
  asking = '';
  askEl.hidden = true;
  askEl.replaceChildren();
  leaveBtn.setAttribute('aria-expanded', 'false');
  if (focus) input.focus();
}

// Asked, or offered when the wait runs long: leave, keeping a follow-up or not.
function showLeave(longWait, focus) {
  if (!conv || lastState !== 'queued' || dangerWait) return;
  const choice = (text, cls, keep) => {
    const button = h('button', { type: 'button', class: cls, text });
    button.addEventListener('click', () => (keep == null ? closeAsk(true) : leave(keep)));
    return button;
  };
  const buttons = [choice(S.leaveKeep, 'send', true), choice(S.leaveGo, 'alt', false), choice(S.leaveStay, 'alt', null)];
  const err = openAsk('leave', longWait ? S.longWaitTitle : S.leaveTitle, longWait ? S.longWaitAsk : S.leaveAsk, h('div', { class: 'row wrap' }, ...buttons));
  const leave = async (keep) => {
    buttons.forEach((b) => (b.disabled = true));
    try {
      const status = await callHub('/leave', { keep_follow_up: keep });
      // The hub's status frame may have come first and opened the address
      // question: close the leave question only, never that one.
      if (asking === 'leave') closeAsk(!keep);
      else if (!keep) input.focus();
      contactFocus = keep; // they chose it: the address question comes next
      renderStatus(status);
      if (keep && askEl.querySelector('input')) askEl.querySelector('input').focus();
    } catch (e) {
      buttons.forEach((b) => (b.disabled = false));
      if (e.code !== 'not_waiting') return note(failure(e), err);
      closeAsk(true);
      showError(S.notWaiting);
    }
  };
  if (focus) buttons[0].focus();
}

// A follow-up: ask once where to reach the customer, unless they answered.
async function askContact() {
  if (!conv || conv.contact || contactChecked || asking === 'contact') return;
  contactChecked = true;
  let found;
  try {
    found = await callHub('/contact');
  } catch {
    contactChecked = false; // asked again at the next status
    return;
  }
  if (found.state === 'given' || found.state === 'declined') {
    conv.contact = found.state;
    return saveConv();
  }
  if (lastState === 'follow_up') showContact(found.suggested || '', contactFocus);
  contactFocus = false;
}

function showContact(suggested, focus) {
  const email = h('input', { id: 'contact-email', type: 'email', autocomplete: 'email', 'aria-describedby': 'ask-help ask-err', value: suggested || (user && user.email) || null });
  const send = h('button', { type: 'submit', class: 'send', text: S.contactSend });
  const decline = h('button', { type: 'button', class: 'alt', text: S.contactDecline });
  const form = h('form', { class: 'contact', novalidate: true }, h('label', { for: 'contact-email', text: S.contactLabel }), h('div', { class: 'row' }, email), h('div', { class: 'row wrap' }, send, decline));
  const err = openAsk('contact', S.contactTitle, suggested ? S.contactConfirm : S.contactAsk, form);
  const answer = async (body) => {
    send.disabled = decline.disabled = true;
    try {
      const found = await callHub('/contact', body);
      conv.contact = found.state;
      saveConv();
      closeAsk(true);
    } catch (e) {
      send.disabled = decline.disabled = false;
      note(failure(e), err);
      if (e.code === 'bad_email') email.setAttribute('aria-invalid', 'true'), email.focus();
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const address = email.value.trim();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) {
      email.setAttribute('aria-invalid', 'true');
      note(S.badEmail, err);
      return email.focus();
    }
    email.removeAttribute('aria-invalid');
    answer(suggested && address === suggested ? { confirm: true } : { email: address });
  });
  decline.addEventListener('click', () => answer({ decline: true }));
  if (focus) email.focus();
}


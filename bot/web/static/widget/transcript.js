/* widget.js, part transcript.js: notes and errors, scrolling the transcript, message times. */
const showError = (text) => {
  note(text, errEl);
  clearTimeout(errTimer);
  errTimer = setTimeout(() => (errEl.hidden = true), 8000);
};
const note = (text, el = noteEl) => {
  el.textContent = text;
  el.hidden = !text;
};
// Whether the customer is reading the end of the transcript; asked before
// anything is added, as a tall answer would otherwise decide it.
const atBottom = () => panel.hidden || log.scrollHeight - log.scrollTop - log.clientHeight < 40;
// Bring the newest message into view: the end of the transcript, or the top
// of a message taller than the view, which is read from its top.
let newest = null; // the message last brought into view
const toNewest = (el) => {
  newest = el || null;
  log.scrollTop = log.scrollHeight;
  if (el && el.offsetTop - 8 < log.scrollTop) log.scrollTop = el.offsetTop - 8;
  stuck = true;
  pill.hidden = true;
};
const scroll = (force) => force && toNewest();
log.addEventListener('scroll', () => {
  stuck = atBottom();
  if (stuck) pill.hidden = true;
});
// Focus stays in the transcript, as the pill goes away under it.
pill.addEventListener('click', () => (toNewest(), log.focus({ preventScroll: true })));
// The status line, the rating panel or the typing line take room from the
// transcript: a customer at its end stays there. A newest message whose top
// was in view keeps it there, should it no longer fit (the status line
// comes just after the notice that a person is on the way).
const keepEnd = () => {
  if (!stuck) return;
  const top = newest && newest.isConnected ? newest.offsetTop - 8 : -1;
  const topInView = top >= log.scrollTop;
  log.scrollTop = log.scrollHeight;
  if (topInView && top < log.scrollTop) log.scrollTop = top;
};
if (window.ResizeObserver) new ResizeObserver(keepEnd).observe(log);

const initials = (name) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join('');

// A message's time, in the browser's locale and time zone; a minute already
// stamped is shown as the bubble's tooltip, as showing it on hover would
// grow the bubble under the pointer and push the transcript's end away.
const stamp = (el, at) => {
  const when = new Date(at || NaN);
  if (!el || isNaN(when)) return;
  const text = when.toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit' });
  const full = when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const key = when.toDateString() + text;
  el.title = full;
  el.append(h('time', { class: key === lastStamp ? 'at quiet' : 'at', datetime: when.toISOString(), text }));
  lastStamp = key;
};


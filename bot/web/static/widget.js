/* Baton chat widget. Protocol: DESIGN.md, "Public contract (v1)".
 * Message text is only ever rendered as text nodes, never parsed as HTML. */
(() => {
'use strict';
const ONCE = Symbol.for('baton.widget');
if (window[ONCE]) return; // the script was included twice
window[ONCE] = true;

// document.currentScript is only set while this script first runs.
const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
const data = (script && script.dataset) || {};
let base = location.origin;
try {
  const url = new URL(data.server || script.src, location.href);
  base = data.server ? url.href.replace(/[?#].*$/, '').replace(/\/+$/, '') : url.origin;
} catch {
  // no script URL: the page's origin
}
const MAX_TEXT_BYTES = 4096;
const CACHE_SIZE = 100;
const ROLES = ['customer', 'bot', 'agent', 'system'];
// "Not now" rather than "never": the send stays queued.
const TRANSIENT = ['rate_limited', 'unavailable', 'internal_error'];

const S = {
  title: 'Support',
  greeting: 'Hi! How can we help?',
  open: 'Open chat',
  close: 'Close chat',
  inputLabel: 'Your message',
  placeholder: 'Type your message…',
  send: 'Send',
  sending: 'Sending…',
  failed: 'Not sent: {reason}',
  you: 'You',
  bot: 'Assistant',
  agent: 'Support',
  system: 'Notice',
  queued: "You're in line",
  position: "You're number {position} in line",
  noEta: "{line} — we can't estimate the wait yet",
  eta: '{line} — about {minutes} minutes',
  etaOne: '{line} — about a minute',
  agentJoined: '{name} from support joined',
  agentJoinedAnon: 'Someone from support joined',
  followUp: "We'll get back to you by {time}",
  followUpSoon: "We'll get back to you as soon as we can",
  resolved: 'Conversation resolved — how did we do?',
  star: '{n} out of 5',
  comment: 'Anything else to tell us? (optional)',
  submitRating: 'Send rating',
  thanks: 'Thanks for your feedback!',
  end: 'Rate or get a recap',
  endLabel: 'Rate this conversation or get an e-mail recap',
  rateTitle: 'How did we do?',
  recapLabel: 'E-mail me a recap of this conversation',
  recapSend: 'Send recap',
  recapSent: 'Recap sent to {email}.',
  recapFailed: "We couldn't send the recap just now; please try again later.",
  badEmail: 'Please enter a valid e-mail address.',
  steps: 'Steps',
  article: 'From our help center',
  typing: '{name} is typing…',
  reconnecting: 'Connection lost — reconnecting…',
  offline: "You're offline — please try again in a moment.",
  tooLong: 'That message is too long — please shorten it.',
  rateLimited: "You're sending messages quickly — we'll send it in a moment.",
  restarted: 'Your previous conversation is no longer available, so we started a new one.',
  error: 'Something went wrong. Please try again.',
  unread: 'New messages: {n}',
  newMessages: 'New messages',
  leave: 'Leave the queue',
  leaveTitle: 'Stop waiting for a person?',
  leaveAsk: 'We can get back to you later instead. Nothing you wrote is lost.',
  longWaitTitle: 'Sorry, this is taking longer than we said',
  longWaitAsk: 'You can keep waiting, or we can get back to you later.',
  leaveKeep: 'Get back to me later',
  leaveGo: 'Just leave the queue',
  leaveStay: 'Keep waiting',
  notWaiting: "You're no longer waiting in the queue.",
  contactTitle: 'Where can we reach you?',
  contactAsk: "We'll e-mail you the answer, with a link back to this chat.",
  contactConfirm: "We'll e-mail you the answer at this address, with a link back to this chat.",
  contactLabel: 'Your e-mail address',
  contactSend: 'E-mail me the answer',
  contactDecline: 'No thanks, keep the chat only',
};
try {
  const custom = JSON.parse(data.strings || '{}');
  for (const k in custom) if (typeof custom[k] === 'string') S[k] = custom[k];
} catch {
  // invalid data-strings: the defaults stay
}
if (data.title) S.title = data.title;
if (data.greeting != null) S.greeting = data.greeting;
// A signed-in site passes its user: data-user-id, -name, -email, and to have
// the user shown as verified, data-user-hash and data-user-expires (README).
const user = data.userId ? { id: data.userId, name: data.userName, email: data.userEmail } : null;
const fmt = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
// A promised time, one format wherever it is shown (the handoff notice and
// the status line): the page's language, the browser's time zone.
const DUE = { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
const dueFormat = (() => {
  try {
    return new Intl.DateTimeFormat(data.locale || undefined, DUE);
  } catch {
    return new Intl.DateTimeFormat(undefined, DUE); // an unknown data-locale
  }
})();
const dueTime = (iso) => {
  const when = new Date(iso || NaN);
  return isNaN(when) ? '' : dueFormat.format(when);
};

// localStorage (shared by tabs), namespaced by server; memory when blocked.
const ns = 'baton:' + base + ':';
const memory = {};
const load = (key, fallback) => {
  try {
    const raw = localStorage.getItem(ns + key);
    return raw ? JSON.parse(raw) : fallback;
  } catch {
    return key in memory ? memory[key] : fallback;
  }
};
const save = (key, value) => {
  memory[key] = value;
  try {
    if (value == null) localStorage.removeItem(ns + key);
    else localStorage.setItem(ns + key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
};
const list = (key) => [].concat(load(key, []));
// randomUUID needs a secure context; the server takes 1-64 of [A-Za-z0-9_.:-].
const uuid = () =>
  crypto.randomUUID
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

const h = (tag, props, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else if (v != null && v !== false) el.setAttribute(k, v);
  }
  el.append(...children.filter(Boolean));
  return el;
};

// Append text to el, http(s) URLs as links; everything else as text nodes.
const linkify = (el, text) => {
  const re = /\bhttps?:\/\/[^\s<>"]+/gi;
  let last = 0;
  for (let m; (m = re.exec(text)); re.lastIndex = last) {
    let url = m[0];
    while (/[.,;:!?'"\])]$/.test(url) && !(url.endsWith(')') && url.includes('('))) url = url.slice(0, -1);
    el.append(text.slice(last, m.index));
    let href = '';
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') href = parsed.href;
    } catch {
      // not a URL after all: kept as text
    }
    if (href) {
      const a = h('a', { target: '_blank', rel: 'noopener noreferrer nofollow', text: url });
      a.href = href;
      el.append(a);
    } else el.append(url);
    last = m.index + url.length;
  }
  el.append(text.slice(last));
};

// Bot and agent text: numbered ("1. ") and bulleted ("- ") lines become lists,
// as knowledge-base answers carry their steps that way. Text nodes only.
const LIST_ITEM = /^\s*(\d+[.)]|[-*•])\s+(.*)$/;
const richText = (el, text) => {
  let list = null;
  let para = [];
  const flushPara = () => {
    const body = para.join('\n').trim();
    para = [];
    if (!body) return;
    const p = h('p');
    linkify(p, body);
    el.append(p);
  };
  for (const line of text.split('\n')) {
    const m = LIST_ITEM.exec(line);
    if (!m) {
      list = null;
      para.push(line);
      continue;
    }
    flushPara();
    const tag = /\d/.test(m[1]) ? 'OL' : 'UL';
    if (!list || list.tagName !== tag) el.append((list = h(tag.toLowerCase())));
    const li = h('li');
    linkify(li, m[2]);
    list.append(li);
  }
  flushPara();
  return el.querySelector('ol');
};

const color = data.color && window.CSS && CSS.supports('color', data.color) ? data.color : '#4f46e5';
const onColor = (() => {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!m) return '#fff';
  const hex = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 165 ? '#111' : '#fff';
})();

const STYLE = `:host{all:initial}*{box-sizing:border-box}[hidden]{display:none!important}
.w{position:fixed;bottom:20px;right:20px;z-index:2147483000;display:flex;flex-direction:column;align-items:flex-end;font:15px/1.45 system-ui,sans-serif;color:#1f2330}
.w.left{right:auto;left:20px;align-items:flex-start}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--accent);color:var(--on-accent);box-shadow:0 6px 20px rgba(0,0,0,.22);cursor:pointer;display:grid;place-items:center;position:relative}
.launcher svg{width:26px;height:26px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:20px}
.panel{width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);margin-bottom:14px;display:flex;flex-direction:column;background:#fff;border-radius:16px;box-shadow:0 12px 48px rgba(0,0,0,.24);overflow:hidden;animation:pop .18s ease-out}
@keyframes pop{from{opacity:0;transform:translateY(12px)}}
.head{display:flex;align-items:center;gap:8px;padding:14px 12px 14px 16px;background:var(--accent);color:var(--on-accent)}
h2{flex:1;min-width:0;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.x{background:none;border:0;color:inherit;font-size:26px;line-height:1;width:36px;height:36px;border-radius:8px;cursor:pointer}
.status,.rate{margin:0;padding:8px 16px;border-bottom:1px solid #e4e6ee;font-size:13px}.status{display:flex;align-items:center;gap:8px;background:#f1f2f8}.status span{flex:1}
.ask{flex:none;display:grid;gap:8px;max-height:60%;overflow-y:auto;padding:12px 16px;border-top:1px solid #e4e6ee;background:#f8f8fc;font-size:14px}.ask h3{margin:0;font-size:15px}.ask p{margin:0}.ask .err{padding:6px 10px;border-radius:8px}.contact{display:grid;gap:6px}.ask input{width:100%;padding:8px 10px;border:1px solid #cfd2dc;border-radius:10px;font:inherit;font-size:16px}.ask input[aria-invalid=true]{border-color:#b91c1c}.row.wrap{flex-wrap:wrap}
.alt{border:1px solid #9aa0b4;border-radius:10px;padding:8px 12px;background:#fff;color:#1f2330;font:inherit;font-size:14px;cursor:pointer}.alt:disabled{opacity:.5}.rate{display:grid;gap:6px;flex:none;max-height:45%;overflow-y:auto}
.star{border:0;background:none;padding:0 2px;font-size:28px;line-height:1;color:#c3c6d1;cursor:pointer}.star.on{color:#f59e0b}
.body{position:relative;flex:1;min-height:0;display:flex;flex-direction:column}
.log{position:relative;flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:16px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:85%;align-self:flex-start;padding:8px 12px;border-radius:14px 14px 14px 4px;background:#f1f2f6;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.customer{align-self:flex-end;border-radius:14px 14px 4px 14px;background:var(--accent);color:var(--on-accent)}
.msg.system{align-self:center;background:none;color:#5b6070;font-size:13px;text-align:center}
.msg.agent{background:#fff;border:1px solid #d5d8e6;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.from{display:flex;align-items:center;gap:6px;margin-bottom:4px}.from .who{display:inline}
.av{flex:none;width:24px;height:24px;border-radius:50%;background:var(--accent);color:var(--on-accent);font-size:11px;font-weight:700;line-height:24px;text-align:center;white-space:nowrap}
.at{display:block;margin-top:2px;font-size:11px;line-height:1.3;color:#5b6070;text-align:right;white-space:nowrap}.msg.customer .at{color:inherit;opacity:.85}.msg.system .at{text-align:center}
.at.quiet{display:none}
.pill{position:absolute;left:50%;bottom:10px;transform:translateX(-50%);border:0;border-radius:18px;padding:8px 14px;min-height:36px;background:var(--accent);color:var(--on-accent);font:inherit;font-size:13px;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.22);cursor:pointer}
.msg a{color:inherit}.msg p{margin:0}.msg p+*,.msg ol+p,.msg ul+p{margin-top:6px}.msg ol,.msg ul{margin:4px 0 0;padding-left:22px}.msg li+li{margin-top:2px}.src{display:block;margin-top:6px;font-size:12px;color:#5b6070}
.end,.leave{background:none;border:1px solid currentColor;border-radius:8px;color:inherit;font:inherit;font-size:12px;padding:4px 8px;cursor:pointer;opacity:.9}
.rating{display:grid;gap:6px}.rate h3{margin:0;font-size:14px}.rate input{width:100%;padding:7px 10px;border:1px solid #cfd2dc;border-radius:10px;font:inherit;font-size:15px}.row{display:flex;gap:8px}.row .send{white-space:nowrap}.rate textarea{font-size:15px}.ok{color:#166534}.who{display:block;font-size:12px;font-weight:600;color:#5b6070}
.pending{opacity:.7}.msg.failed{background:#fdecec;color:#8a1c1c}.state{display:block;margin-top:2px;font-size:11px}
.replies{display:flex;flex-wrap:wrap;gap:6px}
.replies button{border:1px solid var(--accent);border-radius:16px;padding:6px 12px;background:#fff;color:var(--accent);font:inherit;font-size:14px;cursor:pointer}
.replies button:disabled{opacity:.45;cursor:default}
.typing{padding:0 16px 6px;color:#5b6070;font-size:12px;font-style:italic}
.note,.err{margin:0;padding:6px 16px;font-size:13px}.note{background:#fff8e6;color:#6b4e00}.err{background:#fdecec;color:#9b1c1c}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #e4e6ee}
textarea{flex:1;width:100%;max-height:120px;resize:none;padding:8px 10px;border:1px solid #cfd2dc;border-radius:10px;background:#fff;color:inherit;font:inherit;font-size:16px}
.send{border:0;border-radius:10px;padding:9px 14px;background:var(--accent);color:var(--on-accent);font:inherit;font-weight:600;cursor:pointer}
.send:disabled{opacity:.5;cursor:default}
button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.x:focus-visible,.launcher:focus-visible{outline-color:#1f2330}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.replies button,.end,.leave,.send,.alt,.pill{min-height:44px}.x{width:44px;height:44px}.star{min-width:44px;min-height:44px}.head{padding:6px 6px 6px 16px}.replies{gap:8px}.open .panel{position:fixed;inset:0;width:auto;max-width:none;height:auto;max-height:none;margin:0;border-radius:0}.open .launcher{display:none}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}`;

// DOM: everything lives in a shadow root, away from the page's CSS
const host = document.createElement('baton-chat');
const root = host.attachShadow({ mode: 'open' });
host.style.setProperty('--accent', color);
host.style.setProperty('--on-accent', onColor);
try {
  const sheet = new CSSStyleSheet(); // not subject to the page's style-src
  sheet.replaceSync(STYLE);
  root.adoptedStyleSheets = [sheet];
} catch {
  root.append(h('style', { text: STYLE }));
}
const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
svg.setAttribute('viewBox', '0 0 24 24');
svg.setAttribute('aria-hidden', 'true');
svg.append(document.createElementNS(svg.namespaceURI, 'path'));
svg.firstChild.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');

const input = h('textarea', { id: 'in', rows: '1', placeholder: S.placeholder });
const sendBtn = h('button', { type: 'button', class: 'send', text: S.send });
const statusText = h('span', { role: 'status' });
const leaveBtn = h('button', { type: 'button', class: 'leave', text: S.leave, 'aria-controls': 'ask', 'aria-expanded': 'false', hidden: true });
const statusEl = h('div', { class: 'status', hidden: true }, statusText, leaveBtn);
// A question about a follow-up: leaving the queue, or where to reach the customer.
const askEl = h('div', { class: 'ask', id: 'ask', role: 'region', 'aria-labelledby': 'ask-title', hidden: true });
const rateEl = h('div', { class: 'rate', id: 'rate', hidden: true });
const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': S.title, tabindex: '0' });
const pill = h('button', { type: 'button', class: 'pill', hidden: true, text: S.newMessages + ' ↓' });
const typingEl = h('p', { class: 'typing', hidden: true, 'aria-hidden': 'true' });
const noteEl = h('p', { class: 'note', role: 'status', hidden: true });
const errEl = h('p', { class: 'err', role: 'alert', hidden: true });
const closeBtn = h('button', { type: 'button', class: 'x', 'aria-label': S.close, text: '×' });
const endBtn = h('button', { type: 'button', class: 'end', text: S.end, title: S.endLabel, 'aria-controls': 'rate', 'aria-expanded': 'false', hidden: true });
// Not a <header>: inside the page it would be a second banner landmark.
const header = h('div', { class: 'head' }, h('h2', { id: 'title', text: S.title }), endBtn, closeBtn);
const composer = h('div', { class: 'composer' }, h('label', { for: 'in', class: 'sr', text: S.inputLabel }), input, sendBtn);
const panel = h('section', { class: 'panel', id: 'panel', role: 'dialog', 'aria-labelledby': 'title', hidden: true });
panel.append(header, statusEl, rateEl, h('div', { class: 'body' }, log, pill), typingEl, noteEl, errEl, askEl, composer);
const badge = h('span', { class: 'badge', hidden: true, 'aria-hidden': 'true' });
const launcher = h('button', { type: 'button', class: 'launcher', 'aria-label': S.open, 'aria-controls': 'panel', 'aria-expanded': 'false' }, svg, badge);
const wrap = h('div', { class: data.position === 'left' ? 'w left' : 'w' }, panel, launcher);
root.append(wrap);

// State
let conv = load('conversation', null); // {conversation_id, token, last_seq, rated, user_id}
if (!conv || typeof conv.conversation_id !== 'string' || typeof conv.token !== 'string') conv = null;
if (conv && (conv.user_id || null) !== (user ? user.id : null)) {
  // Someone else signed in on this browser: their chat is not this one.
  conv = null;
  save('conversation', null);
  save('log', null);
  save('outbox', null);
}
let signIdentity = Boolean(user && data.userHash); // off once the hub refuses it
let cache = conv ? list('log') : []; // recent messages, redrawn after a reload
let lastSeq = 0; // the highest seq rendered
let ws = null;
let creating = false;
let attempt = 0;
let timer = 0;
let agentName = '';
let unread = 0;
let lastTyping = 0;
let typingTimer = 0;
let errTimer = 0;
let rating = null; // the closing panel's controls, once built
let replied = false; // a bot or agent answered the customer: something to rate
let spoke = false; // the customer has said something
let stuck = true; // the transcript was scrolled to its end
let lastStamp = ''; // the last timestamp shown, so a minute is shown once
let lastState = ''; // who owned the conversation at the last status
let asking = ''; // the question shown: 'leave', 'contact' or none
let contactChecked = false; // asked the hub whether to ask for an address
let offerPending = false; // the hub said the wait runs long: offer a follow-up
let contactFocus = false; // the customer just chose a follow-up: focus the address
const pending = new Map(); // client_id -> bubble waiting for its echo

const saveConv = () => conv && save('conversation', conv);
const outbox = () => list('outbox');
const saveOutbox = (list) => save('outbox', list.length ? list : null);
const inOutbox = (id) => outbox().find((e) => e.client_id === id);
const dropOutbox = (id) => {
  const list = outbox();
  const rest = list.filter((e) => e.client_id !== id);
  if (rest.length !== list.length) saveOutbox(rest);
};
const connected = () => ws && ws.readyState === WebSocket.OPEN;

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
const toNewest = (el) => {
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
// transcript: a customer at its end stays there.
if (window.ResizeObserver) new ResizeObserver(() => stuck && (log.scrollTop = log.scrollHeight)).observe(log);

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
    el = pending.get(f.client_id);
    pending.delete(f.client_id);
    if (el) {
      el.classList.remove('pending', 'failed');
      el.querySelector('.state').remove();
    }
  }
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
  statusText.textContent = text;
  statusEl.hidden = !text;
  leaveBtn.hidden = state !== 'queued';
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
  if (!conv || lastState !== 'queued') return;
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
      closeAsk(!keep);
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
  saveOutbox(outbox().filter((e) => e.type === 'message')); // buttons belonged to the old chat
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

// Interaction
function autosize() {
  input.style.height = 'auto';
  input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
}

const NEVER_MIND = /^(never\s*mind|nvm|forget it|cancel)[\s.!]*$/i;

function sendDraft() {
  const text = input.value.trim();
  if (!text) return;
  if (lastState === 'queued' && NEVER_MIND.test(text)) {
    input.value = '';
    autosize();
    return showLeave(false, true);
  }
  if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES) return showError(S.tooLong);
  input.value = '';
  autosize();
  errEl.hidden = true;
  queue({ client_id: uuid(), type: 'message', text });
}

function setOpen(open) {
  panel.hidden = !open;
  wrap.classList.toggle('open', open);
  launcher.setAttribute('aria-expanded', String(open));
  if (!open) return launcher.focus();
  unread = 0;
  badge.hidden = true;
  launcher.setAttribute('aria-label', S.open);
  scroll(true);
  input.focus();
}
launcher.addEventListener('click', () => setOpen(panel.hidden));
closeBtn.addEventListener('click', () => setOpen(false));
endBtn.addEventListener('click', () => showClosing(rateEl.hidden, true));
leaveBtn.addEventListener('click', () => (asking === 'leave' ? closeAsk(true) : showLeave(false, true)));
sendBtn.addEventListener('click', () => (sendDraft(), input.focus()));
panel.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  e.stopPropagation();
  setOpen(false);
});
input.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
  e.preventDefault();
  sendDraft();
});
input.addEventListener('input', () => {
  autosize();
  // At most one typing frame every 3 s.
  if (input.value.trim() && connected() && Date.now() - lastTyping >= 3000) {
    lastTyping = Date.now();
    ws.send(JSON.stringify({ type: 'typing' }));
  }
});
window.addEventListener('online', () => ((attempt = 0), kick()));

// Start
greet();
for (const f of cache) renderMessage(f, true);
for (const entry of outbox()) renderPending(entry);
kick();
if (document.body) document.body.append(host);
else document.addEventListener('DOMContentLoaded', () => document.body.append(host));
window.BatonWidget = { open: () => setOpen(true), close: () => setOpen(false) };
})();

/* Baton chat widget. Protocol: DESIGN.md, "Public contract (v1)".
 * Message text is only ever rendered as text nodes, never parsed as HTML.
 *
 * The hub serves /widget.js as one script: the files of this folder joined in
 * the order of WIDGET_PARTS (bot/web/pages.py), no build step. They share one
 * scope: the function this part opens and start.js closes, so a part may use
 * what an earlier one declares. This part: the hub's address, the data-*
 * options, the strings (S) and their formats. */
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
  dangerTitle: 'Help right now',
  call: 'Call {number}',
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


/* widget.js, part dom.js: the shadow root and the panel's elements, their roles and labels. */
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


/* widget.js, part text.js: building elements, and message text as text nodes, links and lists. */
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

// A notice's numbers and sites, as the hub lists them in meta.links: each
// {text, href} links the first place its text appears (after the previous
// link). Only tel: numbers and https: addresses; anything else stays text.
const TEL = /^tel:\+?[0-9]{2,15}$/;
const noticeLinks = (links) =>
  (Array.isArray(links) ? links : []).filter((l) => {
    if (!l || typeof l.text !== 'string' || !l.text || typeof l.href !== 'string') return false;
    if (TEL.test(l.href)) return true;
    try {
      return new URL(l.href).protocol === 'https:';
    } catch {
      return false;
    }
  });
const linkParts = (el, text, links) => {
  let at = 0;
  for (;;) {
    let next = null;
    for (const l of links) {
      const i = text.indexOf(l.text, at);
      if (i >= 0 && (!next || i < next.i)) next = { i, l };
    }
    if (!next) break;
    linkify(el, text.slice(at, next.i));
    const tel = next.l.href.startsWith('tel:');
    const a = tel
      ? h('a', { class: 'call', 'aria-label': fmt(S.call, { number: next.l.text }), text: next.l.text })
      : h('a', { target: '_blank', rel: 'noopener noreferrer', text: next.l.text });
    a.href = next.l.href; // checked above: a tel: number or an https: address
    el.append(a);
    at = next.i + next.l.text.length;
  }
  linkify(el, text.slice(at));
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


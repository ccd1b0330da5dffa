/* Markdown preview: a small subset, built as DOM nodes, so the text is
 * never parsed as HTML and links go only to web, mail or local addresses. */

import { el } from "./dom.js";

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

export function renderMarkdown(source) {
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

/* Small DOM helpers. Every piece of text from the server goes on the page
 * with textContent or as an attribute value, never parsed as HTML. */

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, attrs, ...children) {
  var node = document.createElement(tag);
  if (attrs) {
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
  }
  children.forEach(function (child) {
    if (child === null || child === undefined || child === false) return;
    node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  });
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function show(node, visible) {
  node.hidden = !visible;
}

export function setAlert(node, message) {
  node.textContent = message || "";
  show(node, Boolean(message));
}

/* Said by screen readers (the page's assertive live region). */
export function announce(message) {
  var live = $("announcer");
  live.textContent = "";
  window.setTimeout(function () { live.textContent = message; }, 50);
}

export function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, function (b) {
    return ("0" + b.toString(16)).slice(-2);
  }).join("");
}

/* widget.js, part storage.js: what the widget keeps in localStorage (per hub), and client ids. */
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


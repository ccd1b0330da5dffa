/* Times as agents read them, and the server's clock (queue frames carry it). */

var skewMs = 0;

export function syncClock(serverIso) {
  skewMs = Date.parse(serverIso) - Date.now();
}

export function serverNow() {
  return Date.now() + skewMs;
}

export function duration(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s";
  var m = Math.floor(s / 60);
  if (m < 60) return m + " min " + (s % 60 < 10 ? "0" : "") + (s % 60) + " s";
  var h = Math.floor(m / 60);
  return h + " h " + (m % 60) + " min";
}

export function clock(iso) {
  var d = new Date(iso);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function dateTime(iso) {
  var d = new Date(iso);
  return d.toLocaleString([], {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
  });
}

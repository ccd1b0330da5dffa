/* HTTP calls to the hub's JSON API (session cookie + CSRF header). */

import { expiredMessage, session, sessionEnded } from "./session.js";

export function ApiError(status, code, message, retryAfter, field) {
  this.status = status;
  this.code = code;
  this.message = message;
  this.retryAfter = retryAfter;
  this.field = field || null;
}

/* Resolves with the JSON body; rejects with an ApiError (a 401 also ends the session). */
export function api(method, path, body) {
  var headers = { Accept: "application/json" };
  var init = { method: method, headers: headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (method !== "GET" && session.csrf) headers["X-CSRF-Token"] = session.csrf;
  return fetch(path, init).then(function (response) {
    return response.text().then(function (text) {
      var data = null;
      if (text) {
        try { data = JSON.parse(text); } catch (ignored) { data = null; }
      }
      if (response.ok) return data;
      var error = (data && data.error) || {};
      var failure = new ApiError(
        response.status,
        error.code || "http_" + response.status,
        error.message || "The server answered " + response.status + ".",
        response.headers.get("Retry-After"),
        error.field
      );
      if (response.status === 401 && path !== "/api/auth/login") {
        sessionEnded(expiredMessage(failure.code));
      }
      throw failure;
    });
  }, function () {
    throw new ApiError(0, "network", "The console cannot reach the server. Check your connection and try again.");
  });
}

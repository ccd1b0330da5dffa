/* Who is signed in, and how the console learns that the session ended. */

export var ROLE_NAMES = { agent: "Agent", trainer: "Trainer", admin: "Admin" };

export var session = {
  me: null,
  csrf: "",
  signedIn: false
};

var endedHandler = null;

/* main.js sets what happens when the server says the session is over. */
export function onSessionEnded(handler) {
  endedHandler = handler;
}

export function sessionEnded(message) {
  if (session.signedIn && endedHandler) endedHandler(message);
}

export function expiredMessage(code) {
  return code === "session_expired"
    ? "Your session has expired. Please sign in again."
    : "You have been signed out. Please sign in again.";
}

export function handlesChats(agent) {
  return Boolean(agent) && (agent.role === "agent" || agent.role === "admin");
}

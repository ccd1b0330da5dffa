/* The other agents (for transfers) and the signed-in agent's own presence. */

import { api } from "./api.js";
import { $, clear, el } from "./dom.js";
import { session } from "./session.js";

var colleagues = [];

export function loadColleagues() {
  return api("GET", "/api/agents").then(function (data) {
    colleagues = data.agents;
    var me = data.agents.filter(function (a) { return session.me && a.id === session.me.id; })[0];
    if (me && (me.presence === "online" || me.presence === "away")) {
      $("presence").value = me.presence;
    }
    renderTransferOptions();
  }).catch(function () { return null; });
}

export function renderTransferOptions() {
  var select = $("transfer-to");
  var previous = select.value;
  clear(select);
  var others = colleagues.filter(function (a) { return !session.me || a.id !== session.me.id; });
  if (!others.length) {
    select.appendChild(el("option", { value: "", text: "No colleague available" }));
  }
  others.forEach(function (agent) {
    select.appendChild(el("option", {
      value: agent.id, text: agent.name + " (" + agent.presence + ")"
    }));
  });
  if (previous) select.value = previous;
}

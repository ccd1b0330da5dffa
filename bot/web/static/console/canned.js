/* Canned replies: ready-made answers an agent inserts into the reply box. */

import { insertText } from "./chat.js";
import { $, el } from "./dom.js";

var CANNED_REPLIES = [
  ["Greeting", "Hi, thanks for waiting. I've read through your conversation with our assistant, so there's no need to repeat anything."],
  ["Looking into it", "Thanks, I'm looking into this now. It may take a couple of minutes."],
  ["Confirm identity", "Before I change anything on your account, could you confirm the email address you signed up with?"],
  ["Anything else", "Is there anything else I can help you with today?"],
  ["Closing", "Glad that's sorted. I'll close this chat now; you can rate it below. Have a good day!"]
];

export function bindCanned() {
  var canned = $("canned");
  canned.appendChild(el("option", { value: "", text: "Canned replies…" }));
  CANNED_REPLIES.forEach(function (reply, index) {
    canned.appendChild(el("option", { value: String(index), text: reply[0] }));
  });
  $("canned-insert").addEventListener("click", function () {
    if (canned.value !== "") insertText(CANNED_REPLIES[Number(canned.value)][1]);
  });
}

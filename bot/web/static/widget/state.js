/* widget.js, part state.js: the conversation's state and the outbox of sends not yet echoed. */
// State
let conv = load('conversation', null); // {conversation_id, token, last_seq, rated, user_id}
if (!conv || typeof conv.conversation_id !== 'string' || typeof conv.token !== 'string') conv = null;
if (conv && (conv.user_id || null) !== (user ? user.id : null)) {
  // Someone else signed in on this browser: their chat is not this one.
  conv = null;
  save('conversation', null);
  save('log', null);
  save('outbox', null);
}
let signIdentity = Boolean(user && data.userHash); // off once the hub refuses it
let cache = conv ? list('log') : []; // recent messages, redrawn after a reload
let lastSeq = 0; // the highest seq rendered
let ws = null;
let creating = false;
let attempt = 0;
let timer = 0;
let agentName = '';
let unread = 0;
let lastTyping = 0;
let typingTimer = 0;
let errTimer = 0;
let rating = null; // the closing panel's controls, once built
let replied = false; // a bot or agent answered the customer: something to rate
let spoke = false; // the customer has said something
let stuck = true; // the transcript was scrolled to its end
let lastStamp = ''; // the last timestamp shown, so a minute is shown once
let lastState = ''; // who owned the conversation at the last status
let asking = ''; // the question shown: 'leave', 'contact' or none
let contactChecked = false; // asked the hub whether to ask for an address
let offerPending = false; // the hub said the wait runs long: offer a follow-up
// The chat waits as one where someone may be in danger (the status frame's
// danger): it stays in the queue whatever the customer does, so leaving is
// not offered.
let dangerWait = false;
let contactFocus = false; // the customer just chose a follow-up: focus the address
const pending = new Map(); // client_id -> bubble waiting for its echo
// The bot's latest question asks for an answer the hub keeps masked (the
// account's e-mail, a one-time code): its meta.secret_answer, else ''.
let secretQuestion = '';
// The text of sends answering such a question, by client_id: in memory only.
// The outbox in storage keeps their place in line without the text, so the
// clear code never reaches localStorage; a reload before the hub has it
// loses it, and the customer types it again.
const secretTexts = new Map();

const saveConv = () => conv && save('conversation', conv);
const outbox = () =>
  list('outbox')
    .filter((e) => !e.secret || secretTexts.has(e.client_id))
    .map((e) => (e.secret ? { ...e, text: secretTexts.get(e.client_id) } : e));
const saveOutbox = (entries) => {
  const kept = entries.map(({ text, ...e }) => (e.secret ? e : { ...e, text }));
  for (const id of secretTexts.keys()) if (!entries.some((e) => e.client_id === id)) secretTexts.delete(id);
  for (const e of entries) if (e.secret) secretTexts.set(e.client_id, e.text);
  save('outbox', kept.length ? kept : null);
};
const inOutbox = (id) => outbox().find((e) => e.client_id === id);
const dropOutbox = (id) => {
  const list = outbox();
  const rest = list.filter((e) => e.client_id !== id);
  if (rest.length !== list.length) saveOutbox(rest);
};
const connected = () => ws && ws.readyState === WebSocket.OPEN;


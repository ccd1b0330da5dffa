// The page of a resume link (/resume/<link>): trade the link for the
// conversation's id and a new token, store them where the widget keeps its
// conversation ("baton:<hub origin>:conversation"), and open the help page,
// whose widget then shows the conversation. No inline script: the page's
// policy allows scripts from the hub only.
const link = decodeURIComponent(location.pathname.split('/').pop() || '');
const title = document.getElementById('resume-title');
const status = document.getElementById('resume-status');

const refuse = (message) => {
  title.textContent = 'This link cannot be used';
  status.textContent = message;
};

fetch('/api/resume', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ link }),
})
  .then(async (response) => {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error((body.error && body.error.message) || 'This link cannot be used.');
    }
    const ns = 'baton:' + location.origin + ':';
    const conversation = {
      conversation_id: body.conversation_id,
      token: body.token,
      last_seq: 0,
      rated: false,
      user_id: null,
    };
    try {
      localStorage.setItem(ns + 'conversation', JSON.stringify(conversation));
      localStorage.removeItem(ns + 'log');
      localStorage.removeItem(ns + 'outbox');
    } catch {
      throw new Error('Your browser does not let this page keep the conversation; allow site data and try again.');
    }
    location.replace('/#support');
  })
  .catch((error) => refuse(error.message));

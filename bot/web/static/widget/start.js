/* widget.js, part start.js: the composer, opening and closing, and the start; it closes the function settings.js opens. */
// Interaction
function autosize() {
  input.style.height = 'auto';
  input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
}

const NEVER_MIND = /^(never\s*mind|nvm|forget it|cancel)[\s.!]*$/i;

function sendDraft() {
  const text = input.value.trim();
  if (!text) return;
  if (lastState === 'queued' && NEVER_MIND.test(text)) {
    input.value = '';
    autosize();
    return showLeave(false, true);
  }
  if (new TextEncoder().encode(text).length > MAX_TEXT_BYTES) return showError(S.tooLong);
  input.value = '';
  autosize();
  errEl.hidden = true;
  queue(secretQuestion ? { client_id: uuid(), type: 'message', text, secret: true } : { client_id: uuid(), type: 'message', text });
}

function setOpen(open) {
  panel.hidden = !open;
  wrap.classList.toggle('open', open);
  launcher.setAttribute('aria-expanded', String(open));
  if (!open) return launcher.focus();
  unread = 0;
  badge.hidden = true;
  launcher.setAttribute('aria-label', S.open);
  scroll(true);
  input.focus();
}
launcher.addEventListener('click', () => setOpen(panel.hidden));
closeBtn.addEventListener('click', () => setOpen(false));
endBtn.addEventListener('click', () => showClosing(rateEl.hidden, true));
leaveBtn.addEventListener('click', () => (asking === 'leave' ? closeAsk(true) : showLeave(false, true)));
sendBtn.addEventListener('click', () => (sendDraft(), input.focus()));
panel.addEventListener('keydown', (e) => {
  if (e.key !== 'Escape') return;
  e.stopPropagation();
  setOpen(false);
});
input.addEventListener('keydown', (e) => {
  if (e.key !== 'Enter' || e.shiftKey || e.isComposing || e.keyCode === 229) return;
  e.preventDefault();
  sendDraft();
});
input.addEventListener('input', () => {
  autosize();
  // At most one typing frame every 3 s.
  if (input.value.trim() && connected() && Date.now() - lastTyping >= 3000) {
    lastTyping = Date.now();
    ws.send(JSON.stringify({ type: 'typing' }));
  }
});
window.addEventListener('online', () => ((attempt = 0), kick()));

// Start
greet();
for (const f of cache) renderMessage(f, true);
for (const entry of outbox()) renderPending(entry);
kick();
if (document.body) document.body.append(host);
else document.addEventListener('DOMContentLoaded', () => document.body.append(host));
window.BatonWidget = { open: () => setOpen(true), close: () => setOpen(false) };
})();

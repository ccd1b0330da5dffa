/* widget.js, part style.js: the accent colour and the style sheet of the shadow root. */
const color = data.color && window.CSS && CSS.supports('color', data.color) ? data.color : '#4f46e5';
const onColor = (() => {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (!m) return '#fff';
  const hex = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 165 ? '#111' : '#fff';
})();

const STYLE = `:host{all:initial}*{box-sizing:border-box}[hidden]{display:none!important}
.w{position:fixed;bottom:20px;right:20px;z-index:2147483000;display:flex;flex-direction:column;align-items:flex-end;font:15px/1.45 system-ui,sans-serif;color:#1f2330}
.w.left{right:auto;left:20px;align-items:flex-start}
.launcher{width:56px;height:56px;border-radius:50%;border:0;background:var(--accent);color:var(--on-accent);box-shadow:0 6px 20px rgba(0,0,0,.22);cursor:pointer;display:grid;place-items:center;position:relative}
.launcher svg{width:26px;height:26px;fill:currentColor}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;font-weight:700;line-height:20px}
.panel{width:370px;max-width:calc(100vw - 40px);height:560px;max-height:calc(100vh - 110px);margin-bottom:14px;display:flex;flex-direction:column;background:#fff;border-radius:16px;box-shadow:0 12px 48px rgba(0,0,0,.24);overflow:hidden;animation:pop .18s ease-out}
@keyframes pop{from{opacity:0;transform:translateY(12px)}}
.head{display:flex;align-items:center;gap:8px;padding:14px 12px 14px 16px;background:var(--accent);color:var(--on-accent)}
h2{flex:1;min-width:0;margin:0;font-size:16px;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.x{background:none;border:0;color:inherit;font-size:26px;line-height:1;width:36px;height:36px;border-radius:8px;cursor:pointer}
.status,.rate{margin:0;padding:8px 16px;border-bottom:1px solid #e4e6ee;font-size:13px}.status{display:flex;align-items:center;gap:8px;background:#f1f2f8}.status span{flex:1}
.ask{flex:none;display:grid;gap:8px;max-height:60%;overflow-y:auto;padding:12px 16px;border-top:1px solid #e4e6ee;background:#f8f8fc;font-size:14px}.ask h3{margin:0;font-size:15px}.ask p{margin:0}.ask .err{padding:6px 10px;border-radius:8px}.contact{display:grid;gap:6px}.ask input{width:100%;padding:8px 10px;border:1px solid #cfd2dc;border-radius:10px;font:inherit;font-size:16px}.ask input[aria-invalid=true]{border-color:#b91c1c}.row.wrap{flex-wrap:wrap}
.alt{border:1px solid #9aa0b4;border-radius:10px;padding:8px 12px;background:#fff;color:#1f2330;font:inherit;font-size:14px;cursor:pointer}.alt:disabled{opacity:.5}.rate{display:grid;gap:6px;flex:none;max-height:60%;overflow-y:auto}
.star{border:0;background:none;padding:0 2px;font-size:28px;line-height:1;color:#c3c6d1;cursor:pointer}.star.on{color:#f59e0b}
.body{position:relative;flex:1;min-height:0;display:flex;flex-direction:column}
.log{position:relative;flex:1;min-height:0;overflow-y:auto;overscroll-behavior:contain;padding:16px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:85%;align-self:flex-start;padding:8px 12px;border-radius:14px 14px 14px 4px;background:#f1f2f6;white-space:pre-wrap;overflow-wrap:anywhere}
.msg.customer{align-self:flex-end;border-radius:14px 14px 4px 14px;background:var(--accent);color:var(--on-accent)}
.msg.system{align-self:center;background:none;color:#5b6070;font-size:13px;text-align:center}
.msg.notice{align-self:stretch;max-width:none;padding:12px 14px;border:1px solid #f3c9a8;border-left:5px solid #c2410c;border-radius:10px;background:#fff7ed;color:#1f2330;font-size:15px;line-height:1.5;text-align:left;white-space:normal}
.msg.notice p{margin:0}.msg.notice .notice-title{margin-bottom:4px;font-weight:700;color:#9a3412}
.msg.notice a{color:#9a3412;font-weight:700;text-decoration:underline;text-underline-offset:2px;padding:2px 0}.msg.notice .at{text-align:left}
.msg.agent{background:#fff;border:1px solid #d5d8e6;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.from{display:flex;align-items:center;gap:6px;margin-bottom:4px}.from .who{display:inline}
.av{flex:none;width:24px;height:24px;border-radius:50%;background:var(--accent);color:var(--on-accent);font-size:11px;font-weight:700;line-height:24px;text-align:center;white-space:nowrap}
.at{display:block;margin-top:2px;font-size:11px;line-height:1.3;color:#5b6070;text-align:right;white-space:nowrap}.msg.customer .at{color:inherit;opacity:.85}.msg.system .at{text-align:center}
.at.quiet{display:none}
.pill{position:absolute;left:50%;bottom:10px;transform:translateX(-50%);border:0;border-radius:18px;padding:8px 14px;min-height:36px;background:var(--accent);color:var(--on-accent);font:inherit;font-size:13px;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.22);cursor:pointer}
.msg a{color:inherit}.msg p{margin:0}.msg p+*,.msg ol+p,.msg ul+p{margin-top:6px}.msg ol,.msg ul{margin:4px 0 0;padding-left:22px}.msg li+li{margin-top:2px}.src{display:block;margin-top:6px;font-size:12px;color:#5b6070}
.end,.leave{background:none;border:1px solid currentColor;border-radius:8px;color:inherit;font:inherit;font-size:12px;padding:4px 8px;cursor:pointer;opacity:.9}
.rating{display:grid;gap:6px}.rate h3{margin:0;font-size:14px}.rate input{width:100%;padding:7px 10px;border:1px solid #cfd2dc;border-radius:10px;font:inherit;font-size:15px}.row{display:flex;gap:8px}.row .send{white-space:nowrap}.rate textarea{font-size:15px}.ok{color:#166534}.who{display:block;font-size:12px;font-weight:600;color:#5b6070}
.pending{opacity:.7}.msg.failed{background:#fdecec;color:#8a1c1c}.state{display:block;margin-top:2px;font-size:11px}
.replies{display:flex;flex-wrap:wrap;gap:6px}
.replies button{border:1px solid var(--accent);border-radius:16px;padding:6px 12px;background:#fff;color:var(--accent);font:inherit;font-size:14px;cursor:pointer}
.replies button:disabled{opacity:.45;cursor:default}
.typing{padding:0 16px 6px;color:#5b6070;font-size:12px;font-style:italic}
.note,.err{margin:0;padding:6px 16px;font-size:13px}.note{background:#fff8e6;color:#6b4e00}.err{background:#fdecec;color:#9b1c1c}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px;border-top:1px solid #e4e6ee}
textarea{flex:1;width:100%;max-height:120px;resize:none;padding:8px 10px;border:1px solid #cfd2dc;border-radius:10px;background:#fff;color:inherit;font:inherit;font-size:16px}
.send{border:0;border-radius:10px;padding:9px 14px;background:var(--accent);color:var(--on-accent);font:inherit;font-weight:600;cursor:pointer}
.send:disabled{opacity:.5;cursor:default}
button:focus-visible,textarea:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.x:focus-visible,.launcher:focus-visible{outline-color:#1f2330}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){.replies button,.end,.leave,.send,.alt,.pill{min-height:44px}.x{width:44px;height:44px}.star{min-width:44px;min-height:44px}.head{padding:6px 6px 6px 16px}.replies{gap:8px}.open .panel{position:fixed;inset:0;width:auto;max-width:none;height:auto;max-height:none;margin:0;border-radius:0}.open .launcher{display:none}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}`;


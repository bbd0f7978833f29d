// window.js — the window strip (窗口屏) above one service window: its
// current number and whether it is serving, paused or closed.
import { $, el, fill, tokens, Stream, connectionBadge, loginForm } from './hallq.js';

const n = Number(location.pathname.split('/').pop());
const numbers = new Map(); // ticket id → number
let win = null;

function render() {
  if (!win) {
    fill($('#name'), `没有 ${n} 号窗口 · No window ${n}`);
    $('#number').textContent = '—';
    fill($('#state'));
    return;
  }
  fill($('#name'), win.name.zh, ' ', el('span', { class: 'en', lang: 'en', text: win.name.en }));
  const current = win.current && numbers.get(win.current);
  $('#number').textContent = win.status === 'open' && current ? current : '—';
  const words = {
    open: current ? ['请 ' + current + ' 号办理', 'Now serving ' + current] : ['服务中', 'Open'],
    paused: ['暂停服务', 'Paused'],
    closed: ['本窗口已关闭', 'Closed'],
  }[win.status] || ['', ''];
  fill($('#state'), words[0], el('span', { class: 'en', lang: 'en', text: ' ' + words[1] }));
}

const stream = new Stream('', {
  onState: connectionBadge($('#conn')),
  onWelcome() {
    $('#strip').hidden = false;
  },
  onResync(o) {
    for (const t of o.calls || []) numbers.set(t.id, t.number);
    win = o.windows.find((w) => w.number === n) || null;
    render();
  },
  onEvent(ev) {
    if (ev.ticket) numbers.set(ev.ticket.id, ev.ticket.number);
    if (ev.window && ev.window.number === n) win = ev.window;
    if (ev.type === 'config.changed') {
      // a renamed window keeps its state; a new one starts closed
      const wc = ev.config.windows.find((w) => w.number === n);
      win = wc ? { status: 'closed', ...win, number: n, name: wc.name, services: wc.services } : null;
    }
    render();
  },
  onDenied(message) {
    $('#strip').hidden = true;
    signOut(message);
  },
});

tokens.fromAddress('display');
const signOut = loginForm($('#login'), 'display',
  (me) => (['display', 'manager', 'admin'].includes(me.role) ? '' : '请使用显示屏令牌 Use a display token'),
  (token) => stream.use(token), localStorage);

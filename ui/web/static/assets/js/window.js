// window.js — the window strip (窗口屏) above one service window: its
// current number and whether it is serving, paused or closed. It keeps the
// hall in a HallState fed by the event stream.
import { $, el, fill, tokens, Stream, HallState, connectionBadge, loginForm } from './hallq.js';
import { Role, WindowStatus } from './codes.js';

const n = Number(location.pathname.split('/').pop());
const hs = new HallState();

function render() {
  const win = hs.windows.get(n);
  if (!win) {
    fill($('#name'), `没有 ${n} 号窗口 · No window ${n}`);
    $('#number').textContent = '—';
    fill($('#state'));
    return;
  }
  fill($('#name'), win.name.zh, ' ', el('span', { class: 'en', lang: 'en', text: win.name.en }));
  const current = win.current && hs.tickets.has(win.current) ? hs.tickets.get(win.current).number : '';
  $('#number').textContent = win.status === WindowStatus.Open && current ? current : '—';
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
    hs.reset(o);
    render();
  },
  onEvent(ev) {
    const change = hs.apply(ev);
    if (change.window || change.config || change.day) render();
  },
  onDenied(message) {
    $('#strip').hidden = true;
    signOut(message);
  },
});

tokens.fromAddress('display');
const signOut = loginForm($('#login'), 'display',
  (me) => ([Role.Display, Role.Manager, Role.Admin].includes(me.role) ? '' : '请使用显示屏令牌 Use a display token'),
  (token) => stream.use(token), localStorage);

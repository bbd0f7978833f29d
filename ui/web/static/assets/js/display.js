// display.js — the hall board (综合屏): the latest call, recent calls,
// waiting per service, hall name and clock; every call spoken once.
import { $, el, fill, tokens, Stream, connectionBadge, loginForm } from './hallq.js';
import { Announcer, callText, callTextEN, watchSound } from './announce.js';

const RECENT = 6;
// A board that was cut off longer than this shows the calls it missed but
// does not speak them: those citizens have long been called.
const SPEAK_MISSED_WITHIN_MS = 3 * 60 * 1000;

const prefs = {
  get: (k) => localStorage.getItem('hallq.board.' + k) === '1',
  set: (k, v) => localStorage.setItem('hallq.board.' + k, v ? '1' : '0'),
};

const announcer = new Announcer({
  english: prefs.get('english'),
  onFlash: () => {
    const box = $('#latest');
    box.classList.remove('flash');
    void box.offsetWidth; // restart the animation
    box.classList.add('flash');
  },
});
announcer.muted = prefs.get('muted');

// A browser that holds sound back until the screen is touched: say so on
// the board (unless it is muted anyway), so the installer taps it once.
let soundHeld = false;
const showSoundHint = () => ($('#sound-hint').hidden = !soundHeld || announcer.muted);
watchSound(() => { soundHeld = true; showSoundHint(); }, () => { soundHeld = false; showSoundHint(); });

let calls = []; // latest first: {id, number, window}
let services = [];
let zone = 'Asia/Shanghai';
let lostAt = 0; // when the connection dropped (performance.now), 0 while connected
let missedFor = 0; // how long the last outage lasted

function toggle(button, key, apply) {
  const show = () => button.setAttribute('aria-pressed', String(prefs.get(key)));
  button.addEventListener('click', () => {
    prefs.set(key, !prefs.get(key));
    apply(prefs.get(key));
    show();
  });
  show();
}
toggle($('#mute'), 'muted', (v) => {
  announcer.muted = v;
  showSoundHint();
});
toggle($('#english'), 'english', (v) => (announcer.english = v));

function tick() {
  $('#clock').textContent = new Intl.DateTimeFormat('zh-CN', {
    timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(new Date());
}
setInterval(tick, 1000);
tick();

function render() {
  const [latest, ...rest] = calls;
  $('#latest-number').textContent = latest ? latest.number : '—';
  fill($('#latest-window'), latest
    ? [`→ ${latest.window} 号窗口`, el('span', { class: 'en', lang: 'en', text: `Window ${latest.window}` })]
    : []);
  fill($('#recent'), rest.slice(0, RECENT - 1).map((c) =>
    el('li', {}, el('span', { class: 'no', text: c.number }), el('span', { class: 'win', text: `${c.window} 号窗口` }))));
  fill($('#waiting'), services.map((s) =>
    el('li', { 'data-service': s.code },
      el('strong', { text: String(s.waiting) }), el('span', { text: s.name.zh }), el('span', { class: 'en', lang: 'en', text: s.name.en }))));
}

function showHall(hall) {
  zone = hall.time_zone || zone;
  fill($('#hall'), hall.name.zh, el('span', { class: 'en', lang: 'en', text: hall.name.en }));
  tick();
}

function showCall(t) {
  calls = [{ id: t.id, number: t.number, window: t.window }, ...calls.filter((c) => c.id !== t.id)].slice(0, RECENT);
  render();
}

const stream = new Stream('', {
  onState(state) {
    badge(state);
    if (state === 'waiting' && !lostAt) lostAt = performance.now();
  },
  onWelcome() {
    missedFor = lostAt ? performance.now() - lostAt : 0;
    lostAt = 0;
    $('#login').hidden = true;
    $('#board').hidden = false;
  },
  onResync(o) {
    showHall(o.hall);
    calls = (o.calls || []).filter((t) => t.window).map((t) => ({ id: t.id, number: t.number, window: t.window }));
    services = o.services;
    render();
  },
  onEvent(ev, { live }) {
    if (ev.type === 'config.changed') showHall(ev.config.hall); // service names follow in the next services frame
    if (ev.type !== 'ticket.called' && ev.type !== 'ticket.recalled') return;
    showCall(ev.ticket);
    if (live || missedFor < SPEAK_MISSED_WITHIN_MS) {
      const { number, window } = ev.ticket;
      announcer.add(callText(number, window, ev.type === 'ticket.recalled'), callTextEN(number, window));
    }
  },
  onServices(list) {
    services = list;
    render();
  },
  onDenied(message) {
    $('#board').hidden = true;
    signOut(message);
  },
});
const badge = connectionBadge($('#conn'));

tokens.fromAddress('display');
const signOut = loginForm($('#login'), 'display',
  (me) => (['display', 'manager', 'admin'].includes(me.role) ? '' : '请使用显示屏令牌 Use a display token'),
  (token) => stream.use(token), localStorage);

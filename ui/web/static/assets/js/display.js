// display.js — the hall board (综合屏): the latest call, recent calls,
// waiting per service, hall name and clock; every call announced once,
// said as often as the board's repeat setting asks (default twice).
// The board keeps the hall in a HallState fed by the event stream.
import { $, el, fill, tokens, Stream, HallState, connectionBadge, loginForm } from './hallq.js';
import { Announcer, callText, callTextEN, watchSound } from './announce.js';
import { EventType, Role } from './codes.js';

const RECENT = 6;
// A board that was cut off longer than this shows the calls it missed but
// does not speak them: those citizens have long been called.
const SPEAK_MISSED_WITHIN_MS = 3 * 60 * 1000;

const prefs = {
  get: (k) => localStorage.getItem('hallq.board.' + k) === '1',
  set: (k, v) => localStorage.setItem('hallq.board.' + k, v ? '1' : '0'),
};

// repeat: how many times each call is said, 1 to 3 (default 2); a board
// may be set up with ?repeat=N in its address, or with the footer button.
const REPEATS = [1, 2, 3];
const repeat = {
  get: () => REPEATS.find((n) => String(n) === localStorage.getItem('hallq.board.repeat')) || 2,
  set: (n) => localStorage.setItem('hallq.board.repeat', String(n)),
};
{
  const url = new URL(location.href);
  const given = Number(url.searchParams.get('repeat'));
  if (REPEATS.includes(given)) repeat.set(given);
  if (url.searchParams.has('repeat')) {
    url.searchParams.delete('repeat');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
}

const announcer = new Announcer({
  english: prefs.get('english'),
  repeat: repeat.get(),
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

const hs = new HallState();
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

function showRepeat() {
  const n = repeat.get();
  $('#repeat').textContent = `每次播报 ${n} 遍 · Say ${n}×`;
  $('#repeat').title = `每个号码播报 ${n} 遍，按此更改 · Each call is said ${n} times, press to change`;
}
$('#repeat').addEventListener('click', () => {
  repeat.set(REPEATS[(REPEATS.indexOf(repeat.get()) + 1) % REPEATS.length]);
  announcer.repeat = repeat.get();
  showRepeat();
});
showRepeat();

function tick() {
  $('#clock').textContent = new Intl.DateTimeFormat('zh-CN', {
    timeZone: zone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(new Date());
}
setInterval(tick, 1000);
tick();

function render() {
  // parked and transferred tickets drop out of the calls: a citizen sent
  // elsewhere is no longer "now calling" here
  const [latest, ...rest] = hs.calls(RECENT).filter((t) => t.window);
  $('#latest-number').textContent = latest ? latest.number : '—';
  fill($('#latest-window'), latest
    ? [`→ ${latest.window} 号窗口`, el('span', { class: 'en', lang: 'en', text: `Window ${latest.window}` })]
    : []);
  fill($('#recent'), rest.slice(0, RECENT - 1).map((c) =>
    el('li', {}, el('span', { class: 'no', text: c.number }), el('span', { class: 'win', text: `${c.window} 号窗口` }))));
  fill($('#waiting'), hs.serviceList.map((s) =>
    el('li', { 'data-service': s.code },
      el('strong', { text: String(s.waiting) }), el('span', { text: s.name.zh }), el('span', { class: 'en', lang: 'en', text: s.name.en }))));
}

// showClosure shows today's special closure of the hall calendar and its
// reason (the overview's closure, then each services frame's), or nothing.
function showClosure(closure) {
  $('#closure').hidden = !closure;
  fill($('#closure'), closure ? [`今日暂停办理：${closure.zh}`, el('span', { class: 'en', lang: 'en', text: `Closed today: ${closure.en || closure.zh}` })] : []);
}

function showHall(hall) {
  zone = hall.time_zone || zone;
  fill($('#hall'), hall.name.zh, el('span', { class: 'en', lang: 'en', text: hall.name.en }));
  tick();
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
    hs.reset(o);
    document.dispatchEvent(new CustomEvent('hallq:board', { detail: o.board })); // display-board.js
    showHall(o.hall);
    showClosure(o.closure);
    render();
  },
  onEvent(ev, { live }) {
    const change = hs.apply(ev);
    if (change.config) showHall(change.config.hall); // service names follow in the next services frame
    if (change.config) document.dispatchEvent(new CustomEvent('hallq:board', { detail: change.config.board }));
    if (change.ticket || change.config || change.day) render();
    if (ev.type !== EventType.TicketCalled && ev.type !== EventType.TicketRecalled) return;
    if (live) document.dispatchEvent(new CustomEvent('hallq:call')); // the media panel makes way
    if (live || missedFor < SPEAK_MISSED_WITHIN_MS) {
      const { number, window } = ev.ticket;
      announcer.add(callText(number, window, ev.type === EventType.TicketRecalled), callTextEN(number, window));
    }
  },
  onServices(list) {
    hs.services(list);
    showClosure((list.find((s) => s.closure) || {}).closure);
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
  (me) => ([Role.Display, Role.Manager, Role.Admin].includes(me.role) ? '' : '请使用显示屏令牌 Use a display token'),
  (token) => stream.use(token), localStorage);

// rate.js — the rating pad (好差评, GB/T 39734) facing the citizen at one
// window. When the clerk completes a ticket (or sends it on to another
// service) it asks for one of the five levels — once for each matter the
// citizen had handled at this window (一事一评), or once for the visit when
// the ticket carries no matters — then shows the options of that level (the
// offline indicators: overall, efficiency, service level, attitude, worded
// for the level); a low level needs one of them. Then it thanks the citizen
// and goes back to idle. Only the first rating of a matter counts (the phone
// or the kiosk may have rated it already: the pad then skips it).
import { $, el, fill, api, describe, Stream, connectionBadge, loginForm } from './hallq.js';
import { EventType, Role } from './codes.js';
import { levels, hallMatters } from './visit.js';

const n = Number(location.pathname.split('/').pop());
const ASK_FOR_MS = 90 * 1000;
const THANK_FOR_MS = 5 * 1000;

let token = '';
let ticket = null; // the ticket being rated
let todo = []; // the matters still to rate ('' for a visit without matters)
let score = 0;
let chosen = new Set();
let timer = 0;
let options = null; // score → [{indicator, label}]

function screen(id, ms, onTimeout) {
  for (const s of ['idle', 'ask', 'why', 'thanks']) $('#' + s).hidden = s !== id;
  clearTimeout(timer);
  if (ms) timer = setTimeout(onTimeout || (() => screen('idle')), ms);
  if (id === 'idle') ticket = null;
}

fill($('#levels'), levels.map(([s, zh, en]) =>
  el('button', { type: 'button', 'data-score': s, onclick: () => choose(s) }, zh, el('span', { class: 'en', lang: 'en', text: en }))));

const low = (s) => s <= 2;

function ask() {
  const matter = todo[0];
  const m = matter && (ticket.matters || []).find((x) => x.code === matter);
  $('#ask-ticket').textContent = `${ticket.number} · ${n} 号窗口 Window ${n}`;
  $('#ask-matter').textContent = m ? `事项 Matter：${m.name.zh}${m.name.en ? ' ' + m.name.en : ''}` : '';
  screen('ask', ASK_FOR_MS);
}

function choose(s) {
  score = s;
  chosen = new Set();
  $('#why-title-low').hidden = !low(s);
  $('#why-title-high').hidden = low(s);
  const opts = (options && options[s]) || [];
  fill($('#reasons'), opts.map((o) => el('button', { type: 'button', 'aria-pressed': 'false', 'data-indicator': o.indicator,
    onclick: (e) => toggle(o.indicator, e.currentTarget) }, o.label.zh, el('span', { class: 'en', lang: 'en', text: o.label.en }))));
  $('#rate-submit').disabled = low(s);
  // a satisfied citizen who walks away is still counted; a poor rating needs its reason
  screen('why', ASK_FOR_MS, () => (low(score) && chosen.size === 0 ? next() : submit()));
}

function toggle(indicator, button) {
  if (chosen.has(indicator)) chosen.delete(indicator);
  else chosen.add(indicator);
  button.setAttribute('aria-pressed', String(chosen.has(indicator)));
  $('#rate-submit').disabled = low(score) && chosen.size === 0;
}
$('#rate-submit').addEventListener('click', () => submit());

async function submit() {
  const t = ticket;
  const body = { score, indicators: [...chosen] };
  if (todo[0]) body.matter = todo[0];
  $('#rate-error').textContent = '';
  next();
  try {
    await api('POST', `tickets/${t.id}/evaluation`, { token, body });
  } catch (e) {
    $('#rate-error').textContent = describe(e);
  }
}

// next asks for the next matter, or thanks the citizen.
function next() {
  todo.shift();
  if (todo.length) ask();
  else screen('thanks', THANK_FOR_MS);
}

// toRate lists what a ticket leaving this window asks the citizen to rate.
function toRate(t) {
  const ms = t.matters || [];
  if (!ms.length) return t.rating ? [] : [''];
  return ms.filter((m) => m.outcome && m.window === n && !m.rating).map((m) => m.code);
}

const stream = new Stream('', {
  onState: connectionBadge($('#conn')),
  onEvent(ev, { live }) {
    if (!live || !ev.ticket) return;
    const leaving = (ev.type === EventType.TicketCompleted && ev.ticket.window === n) ||
      (ev.type === EventType.TicketTransferred && ev.ticket.matters && ev.ticket.matters.some((m) => m.window === n));
    if (!leaving) return;
    const list = toRate(ev.ticket);
    if (!list.length) return;
    ticket = ev.ticket;
    todo = list;
    ask();
  },
  onDenied(message) {
    screen('');
    signOut(message);
  },
});

const signOut = loginForm($('#login'), 'rate',
  (me) => (me.role === Role.Clerk && me.window === n ? '' : `请使用 ${n} 号窗口的工作人员令牌 · Use the clerk token of window ${n}`),
  (t) => {
    token = t;
    $('#idle-text').textContent = `${n} 号窗口 · Window ${n}`;
    screen('idle');
    hallMatters(token).then((hm) => { options = hm.indicators; }, () => {});
    stream.use(token);
  });

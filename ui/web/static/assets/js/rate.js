// rate.js — the rating pad (好差评) facing the citizen at one window. When
// the clerk completes a ticket it asks for one of the five levels, and for a
// reason after a low one, then thanks the citizen and goes back to idle.
import { $, el, fill, api, describe, Stream, connectionBadge, loginForm } from './hallq.js';
import { EventType, Role } from './codes.js';

const n = Number(location.pathname.split('/').pop());
const levels = [
  [5, '非常满意', 'Very satisfied'],
  [4, '满意', 'Satisfied'],
  [3, '基本满意', 'Basically satisfied'],
  [2, '不满意', 'Dissatisfied'],
  [1, '非常不满意', 'Very dissatisfied'],
];
const reasons = [
  ['等候时间过长', 'Waited too long'],
  ['服务态度不好', 'Unfriendly service'],
  ['办事效率低', 'Slow handling'],
  ['材料要求不清楚', 'Unclear requirements'],
  ['未能办成', 'Matter not resolved'],
  ['其他', 'Other'],
];
const ASK_FOR_MS = 90 * 1000;
const THANK_FOR_MS = 5 * 1000;

let token = '';
let ticket = null; // the ticket being rated
let score = 0;
let timer = 0;

function screen(id, ms) {
  for (const s of ['idle', 'ask', 'why', 'thanks']) $('#' + s).hidden = s !== id;
  clearTimeout(timer);
  if (ms) timer = setTimeout(() => screen('idle'), ms);
  if (id === 'idle') ticket = null;
}

fill($('#levels'), levels.map(([s, zh, en]) =>
  el('button', { type: 'button', 'data-score': s, onclick: () => choose(s) }, zh, el('span', { class: 'en', lang: 'en', text: en }))));
fill($('#reasons'), reasons.map(([zh, en]) =>
  el('button', { type: 'button', onclick: () => submit(`${zh} ${en}`) }, zh, el('span', { class: 'en', lang: 'en', text: en }))));

function choose(s) {
  score = s;
  if (s <= 2) screen('why', ASK_FOR_MS);
  else submit('');
}

async function submit(reason) {
  const t = ticket;
  screen('thanks', THANK_FOR_MS);
  $('#rate-error').textContent = '';
  try {
    await api('POST', `tickets/${t.id}/rate`, { token, body: reason ? { score, reason } : { score } });
  } catch (e) {
    $('#rate-error').textContent = describe(e);
  }
}

const stream = new Stream('', {
  onState: connectionBadge($('#conn')),
  onEvent(ev, { live }) {
    if (!live || !ev.ticket || ev.ticket.window !== n) return;
    if (ev.type === EventType.TicketCompleted) {
      ticket = ev.ticket;
      $('#ask-ticket').textContent = `${ticket.number} · ${n} 号窗口 Window ${n}`;
      screen('ask', ASK_FOR_MS);
    }
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
    stream.use(token);
  });

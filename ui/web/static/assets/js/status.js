// status.js — the citizen's phone page for one ticket (/t/{id}): number,
// status in words, people ahead, estimated wait, and where to go once
// called. It needs no token (the id is unguessable) and so polls every 5 s
// instead of holding a websocket; it reveals nothing else about the hall.
// "Updated" is the hall's wall time, whatever the phone's zone: the page
// knows no configuration, so it takes the hall's offset from the ticket's
// own times (the server writes them in the hall's zone, 10:02:05+08:00).
import { $, api, statusWords } from './hallq.js';
import { ErrorCode, TicketStatus } from './codes.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
const POLL_MS = 5000;
let lang = localStorage.getItem('hallq.lang') === 'en' ? 'en' : 'zh';
let ticket = null;
let failed = null;
let at = null;
let timer = 0;

const words = {
  zh: { title: '排队进度', ahead: '前面还有', people: (n) => `${n} 人`, wait: '预计等候', minutes: (m) => (m < 1 ? '即将' : `约 ${m} 分钟`),
    unknown: '暂无法估计', go: (w) => `请到 ${w} 号窗口办理`, missing: '找不到这个号码，请核对链接。', offline: '网络不通，正在重试…', updated: (t) => `更新于 ${t}`, toggle: 'English', remote: '线上取号' },
  en: { title: 'Queue status', ahead: 'People ahead', people: (n) => String(n), wait: 'Estimated wait', minutes: (m) => (m < 1 ? 'Any moment' : `about ${m} min`),
    unknown: 'Not known yet', go: (w) => `Please go to window ${w}`, missing: 'This ticket was not found. Please check the link.', offline: 'No connection, retrying…', updated: (t) => `Updated ${t}`, toggle: '中文', remote: 'Take a ticket on your phone' },
};

/** hallClock is the wall time "10:02:05" of instant at, at the UTC offset written in iso (the hall's). */
function hallClock(at, iso) {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(iso || '');
  const off = m ? (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]) : 0; // "Z": UTC
  return new Date(at.getTime() + off * 60000).toISOString().slice(11, 19);
}

function render() {
  const w = words[lang];
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `${w.title} · hallq`;
  $('#title').textContent = w.title;
  const toggle = $('#lang');
  toggle.textContent = w.toggle;
  toggle.lang = lang === 'zh' ? 'en' : 'zh-CN';
  $('#ahead-label').textContent = w.ahead;
  $('#wait-label').textContent = w.wait;
  $('#remote-link').textContent = w.remote;
  $('#error').textContent = failed === ErrorCode.NotFound ? w.missing : failed ? w.offline : '';
  $('#updated').textContent = at ? w.updated(hallClock(at, ticket && ticket.issued_at)) : '';
  if (!ticket) return;
  const s = ticket.status;
  $('#number').textContent = ticket.number;
  $('#status').textContent = (statusWords[s] || ['', ''])[lang === 'zh' ? 0 : 1];
  const called = s === TicketStatus.Called || s === TicketStatus.Serving;
  $('#called').hidden = !called;
  $('#called').textContent = called ? w.go(ticket.window) : '';
  $('#facts').hidden = s !== TicketStatus.Waiting;
  $('#ahead').textContent = w.people(ticket.position);
  $('#wait').textContent = ticket.estimated_wait_s < 0 ? w.unknown : w.minutes(Math.round(ticket.estimated_wait_s / 60));
}

async function poll() {
  try {
    const t = await api('GET', `tickets/${encodeURIComponent(id)}`);
    if (ticket && ticket.status !== TicketStatus.Called && t.status === TicketStatus.Called && navigator.vibrate) navigator.vibrate([300, 150, 300]);
    ticket = t;
    document.dispatchEvent(new CustomEvent('hallq:ticket', { detail: t })); // the visit's part of the page (statusvisit.js)
    failed = null;
    at = new Date();
  } catch (e) {
    failed = e.code === ErrorCode.NotFound ? ErrorCode.NotFound : 'offline';
  }
  render();
  if (ticket) document.dispatchEvent(new CustomEvent('hallq:ticket', { detail: ticket })); // status-floor.js
  if (failed !== ErrorCode.NotFound && (!ticket || ticket.status !== TicketStatus.Done)) timer = setTimeout(poll, POLL_MS);
}

$('#lang').addEventListener('click', () => {
  lang = lang === 'zh' ? 'en' : 'zh';
  localStorage.setItem('hallq.lang', lang);
  render();
  document.dispatchEvent(new CustomEvent('hallq:lang', { detail: lang }));
});
document.addEventListener('hallq:refresh', () => { clearTimeout(timer); poll(); });
poll();

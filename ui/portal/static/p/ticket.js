// ticket.js — /t/{ticket}: follow a ticket from anywhere (mobile data, not
// only the hall's Wi-Fi), fed by the central's view of the forwarded hall
// events (GET /api/v1/tickets/{id}): number, status, people ahead,
// estimated wait, "请到 5 号窗口" when called, missed and done, the
// checklist of the service's matters while waiting, and how fresh the
// information is ("information from 10:41, the hall's link is slow").
//
// It polls every 10 s while the ticket is open (30 s once done, for the
// rating): a short GET survives a phone moving between networks and
// sleeping, where a held-open stream (SSE) would drop and need the same
// reconnect-and-resume logic, and the central answers a poll from its KV
// view without keeping a connection per citizen.

import { describe, statusWords } from '/assets/js/hallq.js';
import { ErrorCode, OnlineRatingStatus, TicketStatus } from '/assets/js/codes.js';
import { call, hallTime, t } from '/p/portal.js';
import { $, age, chrome, el, fill, minutes, named } from '/p/follow.js';

const id = decodeURIComponent(location.pathname.split('/').pop() || '');
const state = { tk: null, rating: null, matters: null, error: null, gone: false };
const OPEN = [TicketStatus.Waiting, TicketStatus.Called, TicketStatus.Serving, TicketStatus.Parked];

function render() {
  $('#number-label').textContent = t({ zh: '您的号码', en: 'Your number' });
  $('#refresh').textContent = t({ zh: '刷新', en: 'Refresh' });
  $('#how').textContent = t({ zh: '本页每 10 秒自动更新，用手机流量也可查看。', en: 'This page updates itself every 10 seconds, on mobile data too.' });
  $('#error').textContent = state.gone ? t({ zh: '找不到这张票（票据只保留当天和次日）。', en: 'This ticket is not known (tickets are kept for their day and the next).' })
    : state.error ? describe(state.error) : '';
  const tk = state.tk;
  if (!tk) return;
  $('#number').textContent = tk.number;
  $('#hall').textContent = t({ zh: `${tk.hall} · ${tk.day}`, en: `${tk.hall} · ${tk.day}` });
  const sw = statusWords[tk.status];
  $('#status').textContent = sw ? t(sw) : tk.status;
  $('#status').dataset.status = tk.status;
  const called = tk.status === TicketStatus.Called && tk.window;
  $('#called').hidden = !called;
  if (called) $('#called').textContent = t({ zh: `请到 ${tk.window} 号窗口`, en: `Please go to window ${tk.window}` });
  const waiting = tk.status === TicketStatus.Waiting;
  $('#facts').hidden = !waiting;
  $('#ahead-label').textContent = t({ zh: '前面还有', en: 'People ahead' });
  $('#ahead').textContent = tk.people_ahead === null || tk.people_ahead === undefined ? '—' : t({ zh: `${tk.people_ahead} 人`, en: String(tk.people_ahead) });
  $('#wait-label').textContent = t({ zh: '预计等候', en: 'Estimated wait' });
  $('#wait').textContent = minutes(tk.estimated_wait_s);
  let outcome = '';
  if (tk.status === TicketStatus.Serving) outcome = t({ zh: `正在 ${tk.window} 号窗口办理。`, en: `Being served at window ${tk.window}.` });
  if (tk.status === TicketStatus.NoShow) outcome = t({ zh: '叫号时您不在，已过号。请到咨询台或重新取号。', en: 'You were called but not there: the ticket is missed. Please ask at the help desk or take a new ticket.' });
  if (tk.status === TicketStatus.Done) outcome = t({ zh: '已办结，谢谢您的耐心等候。', en: 'Done. Thank you for waiting.' });
  if (tk.status === TicketStatus.Parked) outcome = t({ zh: '已挂起，请留意窗口叫号。', en: 'On hold: listen for your number.' });
  if (tk.status === TicketStatus.Cancelled || tk.status === TicketStatus.Expired) outcome = t({ zh: '此票已失效。', en: 'This ticket is no longer valid.' });
  $('#outcome').textContent = outcome;
  const r = state.rating;
  const canRate = tk.status === TicketStatus.Done && r && r.status === OnlineRatingStatus.None;
  const link = $('#rate-link');
  link.hidden = !(tk.status === TicketStatus.Done && r);
  link.href = '/rate/' + encodeURIComponent(id);
  if (r) {
    link.textContent = canRate ? t({ zh: '评价本次服务', en: 'Rate this visit' })
      : r.status === OnlineRatingStatus.RatedElsewhere ? t({ zh: '已在窗口评价 · 查看', en: 'Rated at the window · see' })
        : t({ zh: '已评价 · 查看', en: 'Rated · see' });
  }
  // How fresh: the hall time of the last event the central has from the hall.
  const at = tk.hall_last_event_at;
  const a = age(at);
  let f = at ? t({ zh: `信息更新于 ${hallTime(at)}`, en: `Information from ${hallTime(at)}` }) : '';
  if (a !== null && a >= 3) f += t({ zh: `（${a} 分钟前）`, en: ` (${a} min ago)` });
  if (tk.hall_silent) f += t({ zh: '，大厅网络连接缓慢，信息可能滞后', en: ', the hall\'s link is slow: this may be out of date' });
  $('#fresh').textContent = f;
  $('#fresh').className = tk.hall_silent ? 'silent' : a !== null && a >= 3 ? 'stale' : 'small';
  // The checklist of the service's matters while the citizen waits.
  const ms = (state.matters || []).filter((m) => (m.services || []).includes(tk.service));
  $('#guide').hidden = !(OPEN.includes(tk.status) && ms.length);
  $('#guide-title').textContent = t({ zh: '请备好材料', en: 'Have these ready' });
  $('#guide-intro').textContent = t({ zh: '此窗口办理以下事项，请按您要办的事项准备：', en: 'This service handles these matters; prepare what yours needs:' });
  fill($('#guide-list'), ms.map((m) => el('details', { open: ms.length === 1 },
    el('summary', {}, named(m.name)),
    el('ul', { class: 'checklist' }, (m.materials || []).map((x) => el('li', {}, named(x.name),
      x.original ? t({ zh: '（原件）', en: ' (original)' }) : '', x.copies ? t({ zh: `（复印件 ${x.copies} 份）`, en: ` (${x.copies} copies)` }) : '',
      x.note ? el('span', { class: 'small' }, ' — ', named(x.note)) : null))))));
}

let timer = null;
async function load() {
  clearTimeout(timer);
  try {
    state.tk = await call('GET', 'tickets/' + encodeURIComponent(id));
    state.error = null;
    state.gone = false;
    if (state.matters === null) state.matters = ((await call('GET', 'catalog').catch(() => null)) || {}).matters || [];
    if (state.tk.status === TicketStatus.Done) {
      state.rating = await call('GET', 'ratings/' + encodeURIComponent(id)).then((r) => r.rating).catch(() => null);
    }
  } catch (e) {
    state.error = e;
    state.gone = e.code === ErrorCode.NotFound;
  }
  render();
  const final = state.tk && !OPEN.includes(state.tk.status);
  if (!state.gone) timer = setTimeout(load, final ? 30000 : 10000);
}

chrome({ zh: '我的排队', en: 'My ticket' }, render);
$('#refresh').addEventListener('click', load);
document.addEventListener('visibilitychange', () => { if (!document.hidden) load(); });
load();

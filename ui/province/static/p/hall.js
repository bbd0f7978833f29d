// hall.js — one hall's drill-down (/province/hall/{hall}): its services
// (waiting, estimated wait, open windows, longest wait, over target),
// windows (status, current ticket), today's arrivals and waits by hour,
// and one day's bookings against the capacity (the booking side's staff
// routes). Asked again every few seconds; a supervisor of another hall is
// refused by the central (403) and told so.

import { el, fill } from '/assets/js/hallq.js';
import { bars } from '/assets/js/charts.js';
import { call, hallTime, t } from '/p/portal.js';
import { BookingStatus } from '/p/booking-codes.js';
import { alertWords, every, lagWords, minutes, refreshMs, shares, showError, start, windowWords } from '/province/p/dash.js';

const $ = (s) => document.querySelector(s);
const id = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
let ov = null;
let detail = null;
let setup = null; // the booking side's hall: name, capacity
let booking = null;

const kpi = (key, label, value, cls) => el('div', { 'data-kpi': key }, el('span', { text: t(label) }), el('strong', { class: cls || '', text: value }));

function render() {
  fill($('#hall-name'), setup ? `${t(setup.name)} (${id})` : id);
  if (!ov) return;
  const h = ov;
  const target = ovAll.sla_target_s;
  fill($('#kpis'),
    kpi('waiting', { zh: '等候', en: 'Waiting' }, h.waiting),
    kpi('longest', { zh: '最长等候', en: 'Longest wait' }, h.waiting ? minutes(h.longest_wait_s) : '—', h.longest_wait_s > target ? 'breach' : ''),
    kpi('open', { zh: '开放窗口', en: 'Open windows' }, h.open_windows),
    kpi('sla', { zh: `超时等候（>${Math.round(target / 60)} 分）`, en: `Over target (>${Math.round(target / 60)} min)` }, h.sla_breaches, h.sla_breaches ? 'breach' : ''),
    kpi('issued', { zh: '今日取号', en: 'Issued today' }, h.issued),
    kpi('served', { zh: '今日办结', en: 'Served today' }, h.served),
    kpi('mean', { zh: '平均等候', en: 'Mean wait' }, minutes(h.mean_wait_s)),
    kpi('last', { zh: '最后事件', en: 'Last event' }, h.last_event_at ? `${hallTime(h.last_event_at)} (${lagWords(h.lag_s)})` : '—', h.silent ? 'breach' : ''),
    el('div', { 'data-kpi': 'ratings' }, el('span', { text: t({ zh: '今日评价', en: 'Ratings today' }) }), shares(h.ratings)));
  fill($('#alerts'), h.alerts.map((a) => el('li', { 'data-kind': a.kind }, el('strong', { class: 'breach', text: t(alertWords[a.kind] || { zh: a.kind, en: a.kind }) }),
    a.kind === 'gap' ? t({ zh: `：缺少 ${a.count} 个事件（序号 ${a.detail}）`, en: `: ${a.count} events missing (seq ${a.detail})` }) : '',
    a.kind === 'silent' ? t({ zh: `：窗口开放但已 ${lagWords(h.lag_s)} 无事件上报`, en: `: windows open but nothing forwarded for ${lagWords(h.lag_s)}` }) : '')));
  renderAudit();
  fill($('#services tbody'), h.services.length ? h.services.map((s) => el('tr', { 'data-service': s.service },
    el('td', { text: s.service }), el('td', { class: 'num', text: s.waiting }),
    el('td', { class: 'num', text: s.estimated_wait_s === null ? t({ zh: '无窗口', en: 'no window' }) : minutes(s.estimated_wait_s) }),
    el('td', { class: 'num', text: s.open_windows }),
    el('td', { class: 'num' + (s.longest_wait_s > target ? ' breach' : ''), text: s.waiting ? minutes(s.longest_wait_s) : '—' }),
    el('td', { class: 'num' + (s.sla_breaches ? ' breach' : ''), text: s.sla_breaches }),
    el('td', { class: 'num', text: s.issued }), el('td', { class: 'num', text: s.served })))
    : [el('tr', {}, el('td', { colspan: 8, class: 'empty', text: t({ zh: '今日尚无业务', en: 'No service today yet' }) }))]);
  const wins = (detail && detail.windows) || [];
  fill($('#windows tbody'), wins.length ? wins.map((w) => el('tr', { 'data-window': w.number },
    el('td', { text: t({ zh: `${w.number} 号窗口`, en: `Window ${w.number}` }) }),
    el('td', {}, el('span', { class: 'pill ' + w.status, text: t(windowWords[w.status] || { zh: w.status, en: w.status }) })),
    el('td', { text: (w.services || []).join(' ') }), el('td', { class: 'current', text: w.current || '—' }),
    el('td', { text: w.since ? hallTime(w.since) : '—' })))
    : [el('tr', {}, el('td', { colspan: 5, class: 'empty', text: t({ zh: '没有窗口', en: 'No windows' }) }))]);
  const first = h.arrivals.findIndex((n, i) => n || h.mean_wait_by_hour_s[i]);
  const last = 23 - [...h.arrivals].reverse().findIndex((n, i) => n || h.mean_wait_by_hour_s[23 - i]);
  const from = first < 0 ? 8 : Math.min(first, 8), to = first < 0 ? 18 : Math.max(last, 17);
  const hours = [];
  for (let i = from; i <= to; i++) hours.push(i);
  const labels = hours.map((i) => String(i).padStart(2, '0') + ':00');
  fill($('#charts'),
    el('figure', { id: 'arrivals-chart' }, bars({ title: t({ zh: '每小时取号', en: 'Tickets issued per hour' }), labels, series: [{ name: t({ zh: '取号', en: 'Issued' }), color: '#0b5394', values: hours.map((i) => h.arrivals[i]) }] }),
      el('figcaption', { text: t({ zh: '每小时取号（大厅时间）', en: 'Tickets issued per hour (hall time)' }) })),
    el('figure', { id: 'waits-chart' }, bars({ title: t({ zh: '每小时平均等候（分钟）', en: 'Mean wait per hour (min)' }), labels, integer: false, series: [{ name: t({ zh: '平均等候', en: 'Mean wait' }), color: '#8a5200', values: hours.map((i) => Math.round(h.mean_wait_by_hour_s[i] / 6) / 10) }] }),
      el('figcaption', { text: t({ zh: '按叫号时间的平均等候（分钟）', en: 'Mean wait by the hour of the call (min)' }) })));
  $('#updated').textContent = t({ zh: `${hallTime(ovAll.now)} 更新，每 ${refreshMs / 1000} 秒刷新 · 大厅营业日 ${h.day || '—'}`, en: `Updated ${hallTime(ovAll.now)}, refreshed every ${refreshMs / 1000} s · hall day ${h.day || '—'}` });
  renderBookings();
}

// renderAudit says in one line what the central holds of the hall's
// security audit trail (等保 安全审计) and whether every record chained.
function renderAudit() {
  const a = detail && detail.audit;
  const p = $('#audit');
  p.classList.toggle('breach', !!a && !a.intact);
  if (!a) {
    p.textContent = t({ zh: '审计日志：尚未收到', en: 'Audit trail: nothing received yet' });
    return;
  }
  const through = t({ zh: `审计日志：已收到至 #${a.last_seq}（${hallTime(a.received_at)}）；`, en: `Audit trail: received through #${a.last_seq} at ${hallTime(a.received_at)}; ` });
  p.textContent = through + (a.intact ? t({ zh: '完整', en: 'intact' })
    : t({ zh: `在 #${a.broken_at} 处断开：${a.broken_why}（共 ${a.breaks} 处）`, en: `broken at #${a.broken_at}: ${a.broken_why} (${a.breaks} in all)` }));
}

function renderBookings() {
  const body = $('#bookings tbody');
  if (!booking) return fill(body);
  if (booking.error) {
    fill(body, el('tr', {}, el('td', { colspan: 6, class: 'empty', text: booking.error })));
    return;
  }
  const svcs = [...new Set([...Object.keys(booking.capacity), ...booking.list.map((b) => b.service)])].sort();
  const count = (s, st) => booking.list.filter((b) => b.service === s && st.includes(b.status)).length;
  fill(body, svcs.length ? svcs.map((s) => el('tr', { 'data-service': s },
    el('td', { text: s }), el('td', { class: 'num', text: booking.capacity[s] ?? '—' }),
    el('td', { class: 'num', text: count(s, [BookingStatus.Booked, BookingStatus.Arrived, BookingStatus.Missed, BookingStatus.Served]) }),
    el('td', { class: 'num', text: count(s, [BookingStatus.Arrived, BookingStatus.Served]) }),
    el('td', { class: 'num', text: count(s, [BookingStatus.Missed]) }),
    el('td', { class: 'num', text: count(s, [BookingStatus.Cancelled]) })))
    : [el('tr', {}, el('td', { colspan: 6, class: 'empty', text: t({ zh: '当天没有可预约业务', en: 'Nothing bookable that day' }) }))]);
  $('#bk-note').textContent = t({ zh: `${booking.day}：号源为当天各时段座位之和；已预约不含取消。`, en: `${booking.day}: capacity is the seats of every slot that day; booked excludes cancelled.` });
}

let ovAll = null;

async function load() {
  try {
    const [o, d] = await Promise.all([call('GET', 'overview', { query: { hall: id } }), call('GET', 'halls/' + encodeURIComponent(id))]);
    ovAll = o;
    ov = o.halls[0];
    detail = d;
    showError(null);
    if (!$('#bk-day').value && ov.day) {
      $('#bk-day').value = ov.day;
      loadBookings();
    }
  } catch (err) {
    showError(err);
    if (err.status === 403 || err.status === 404) {
      $('#page').hidden = true;
      return;
    }
  }
  render();
}

let bkAsked = 0; // only the latest day asked for is shown, whichever answer comes last

async function loadBookings() {
  const day = $('#bk-day').value;
  if (!day) return;
  const mine = ++bkAsked;
  try {
    if (!setup) setup = await call('GET', 'staff/halls/' + encodeURIComponent(id));
  } catch (err) {
    if (mine !== bkAsked) return;
    booking = { day, error: err.status === 404 ? t({ zh: '该大厅未设置预约（无日历和号源）', en: 'This hall takes no bookings (no calendar or capacity)' }) : t({ zh: '预约数据暂不可读', en: 'Bookings cannot be read now' }) };
    return render();
  }
  try {
    const rep = await call('GET', `staff/halls/${encodeURIComponent(id)}/bookings`, { query: { day } });
    const capacity = {};
    await Promise.all(Object.keys(setup.capacity || {}).map(async (s) => {
      const r = await call('GET', `halls/${encodeURIComponent(id)}/slots`, { query: { service: s, day } });
      capacity[s] = r.slots.reduce((a, x) => a + x.capacity, 0);
    }));
    if (mine !== bkAsked) return;
    booking = { day, capacity, list: rep.bookings };
  } catch (err) {
    if (mine !== bkAsked) return;
    booking = { day, error: t({ zh: '预约数据暂不可读：', en: 'Bookings cannot be read now: ' }) + (err.message || '') };
  }
  render();
}

$('#bk-form').addEventListener('submit', (e) => {
  e.preventDefault();
  loadBookings();
});

let started = false;
start(() => {
  if (started) return render();
  started = true;
  every(load);
});

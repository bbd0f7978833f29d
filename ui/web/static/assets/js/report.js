// report.js — the printable daily report (日报): one day of the hall in
// figures, compared with the day before and the same weekday a week
// before, by service, by clerk, and per hour. Every figure comes from the
// server (GET /figures) with the hall's one set of definitions.
import { $, el, fill, api, APIError, describe as describeAPI, loginForm, setHallZone, hallDay } from './hallq.js';
import { bars, heatTable } from './charts.js';
import { Role } from './codes.js';

let token = '';

// describe puts a failed request in words; a fault in the page itself is
// named as such instead of looking like a network problem.
function describe(e) {
  if (e instanceof APIError || (e instanceof TypeError && /fetch/i.test(e.message))) return describeAPI(e);
  console.error(e);
  return `页面出错，请刷新 · The page hit a fault, please reload: ${e && e.message}`;
}

const td = (text, attrs = {}) => el('td', { ...attrs, text: String(text) });
const num = (text, attrs = {}) => td(text, { ...attrs, class: 'num' });
const empty = (cols) => el('tr', {}, el('td', { colspan: cols, class: 'empty', text: '无 · None' }));
const mins = (s) => (s > 0 ? (s / 60).toFixed(1) : '0');
const pct = (x) => (x < 0 ? '—' : `${Math.round(x * 100)}%`);

function shift(day, days) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// kpi shows one figure with its change against the two earlier days.
// better says which direction is good, so the colour of a change means
// the same for every figure.
function kpi(label, value, text, olders, better) {
  const deltas = olders.map(([name, v]) => {
    if (v === null || v === undefined || Number.isNaN(v)) return el('small', { class: 'delta' }, `${name}：—`);
    const d = value - v;
    const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
    const good = d === 0 ? '' : (d > 0) === (better === 'up') ? 'down' : 'up';
    return el('small', { class: `delta ${good}` }, `${name}：${sign}${text(Math.abs(d))}`);
  });
  return el('div', { 'data-kpi': label }, el('span', { text: label }), el('strong', { text: text(value) }), ...deltas);
}

async function show(day) {
  $('#error').hidden = true;
  try {
    const [f, y, w] = await Promise.all([day, shift(day, -1), shift(day, -7)].map((d) => api('GET', 'figures', { token, query: { day: d } })));
    $('#day-title').textContent = day;
    const cmp = (get) => [[`比前一天 vs ${y.day}`, y.total.issued ? get(y) : null], [`比上周同日 vs ${w.day}`, w.total.issued ? get(w) : null]];
    const count = (v) => String(Math.round(v));
    const minutes = (v) => `${mins(v)} 分 min`;
    const share = (v) => `${Math.round(v * 100)}%`;
    const t = (x) => x.total;
    fill($('#kpis'),
      kpi('取号 Issued', t(f).issued, count, cmp((x) => t(x).issued), 'up'),
      kpi('办结 Served', t(f).served, count, cmp((x) => t(x).served), 'up'),
      kpi('平均等候 Mean wait', t(f).mean_wait_s, minutes, cmp((x) => t(x).mean_wait_s), 'down'),
      kpi(`等候不超过 ${Math.round(f.target_s / 60)} 分钟 Waited ≤ ${Math.round(f.target_s / 60)} min`, Math.max(0, t(f).within_target), share,
        cmp((x) => (t(x).within_target < 0 ? null : t(x).within_target)), 'up'),
      kpi('平均办理 Mean service', t(f).mean_service_s, minutes, cmp((x) => t(x).mean_service_s), 'down'),
      kpi('平均窗口处理 Mean handling', t(f).mean_handling_s, minutes, cmp((x) => t(x).mean_handling_s), 'down'),
      kpi('过号 No-show', t(f).no_show, count, cmp((x) => t(x).no_show), 'down'),
      kpi('差评 Dissatisfied', t(f).dissatisfied, count, cmp((x) => t(x).dissatisfied), 'down'));
    $('#compare-note').textContent = `营业时间 ${f.open}–${f.close}（大厅时间）。与前一天（${y.day}）和上周同日（${w.day}）比较；无数据的日子显示“—”。Hours ${f.open}–${f.close} hall time. Compared with ${y.day} and ${w.day}; “—” where that day has no tickets.`;
    fill($('#services'), f.services.length ? f.services.map((s) => el('tr', { 'data-service': s.key },
      td(`${s.key} ${s.name.zh} ${s.name.en}`), num(s.issued), num(s.served), num(s.no_show), num(s.cancelled + s.expired), num(s.transferred),
      num(mins(s.mean_wait_s)), num(pct(s.within_target)), num(mins(s.mean_service_s)), num(s.ratings), num(s.ratings ? s.mean_rating.toFixed(2) : '—'))) : empty(11));
    fill($('#clerks'), f.clerks.length ? f.clerks.map((c) => el('tr', { 'data-clerk': c.key },
      td(c.key), num(c.served), num(c.no_show), num(mins(c.mean_handling_s)), num(mins(c.mean_service_s)), num(c.ratings),
      num(c.ratings ? c.mean_rating.toFixed(2) : '—'), num(c.dissatisfied))) : empty(8));
    fill($('#heat'), heatTable({ caption: `${day} 每小时取号数 Tickets issued per hour`,
      columns: f.hours.map((h) => `${String(h).padStart(2, '0')}时`),
      rows: f.heat.map((r) => ({ key: r.service, label: `${r.service} ${r.name.zh}`, values: r.issued })) }));
    const labels = f.flow.map((b) => b.at);
    fill($('#flow'), bars({ title: `${day} 每 15 分钟取号与办结 Issued and served per 15 minutes`, labels, width: 1000, height: 260,
      showLabel: (i) => labels[i].endsWith(':00'),
      series: [{ name: '取号 issued', color: '#0b5394', values: f.flow.map((b) => b.issued) },
        { name: '办结 served', color: '#1d6b3a', values: f.flow.map((b) => b.served) }] }));
    $('#defs').textContent = `口径：取号按取号时的业务计（转移后不变）；等候 = 取号到叫号；办理 = 开始到办结；窗口处理 = 叫号到办结；达标 = 等候不超过 ${Math.round(f.target_s / 60)} 分钟。`
      + ` Definitions: tickets count for the service they were taken for; wait = ticket to call; service = start to done; handling = call to done; within target = waited at most ${Math.round(f.target_s / 60)} min.`;
    history.replaceState(null, '', `/report?day=${day}`);
  } catch (e) {
    $('#error').textContent = describe(e);
    $('#error').hidden = false;
  }
}

$('#pick').addEventListener('submit', (e) => {
  e.preventDefault();
  show($('#day').value);
});
$('#print').addEventListener('click', () => window.print());

loginForm($('#login'), 'dashboard',
  (m) => (m.role === Role.Manager || m.role === Role.Admin ? '' : '需要管理令牌 · This needs a manager or admin token'),
  async (t, m) => {
    token = t;
    $('#who').textContent = `${m.name} (${m.role})`;
    fill($('#hall'), (m.hall && m.hall.name && m.hall.name.zh) || '大厅');
    $('#report').hidden = false;
    const asked = new URL(location.href).searchParams.get('day');
    setHallZone(m.hall && m.hall.time_zone);
    const today = hallDay();
    $('#day').value = /^\d{4}-\d{2}-\d{2}$/.test(asked || '') ? asked : today;
    show($('#day').value);
  });

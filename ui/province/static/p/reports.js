// reports.js — reports by hall, service or matter, per day, month or the
// whole range (/province/reports), from GET /api/v1/reports/summary, with
// the same report as a CSV download (the link carries the same query, so
// the file is exactly what the table shows). A supervisor's report holds
// their halls only (the central decides).

import { el, fill } from '/assets/js/hallq.js';
import { call, hallDay, t } from '/p/portal.js';
import { hallNames, satisfied, showError, start } from '/province/p/dash.js';

const $ = (s) => document.querySelector(s);
let names = {};
let rep = null;
let halls = [];

function params() {
  const q = { from: $('#from').value, to: $('#to').value, group: $('#group').value, by: $('#by').value };
  if ($('#hall').value) q.hall = $('#hall').value;
  return q;
}

function csvLink() {
  const u = new URL('/api/v1/reports/summary', location.origin);
  for (const [k, v] of Object.entries({ ...params(), format: 'csv' })) u.searchParams.set(k, v);
  $('#csv').href = u.pathname + u.search;
  $('#csv').setAttribute('download', `hallq-report-${$('#from').value}-${$('#to').value}.csv`);
}

const cols = {
  service: [
    ['issued', { zh: '取号', en: 'Issued' }], ['served', { zh: '办结', en: 'Served' }], ['no_show', { zh: '过号', en: 'No-show' }],
    ['cancelled', { zh: '取消', en: 'Cancelled' }], ['mean_wait_s', { zh: '平均等候（分）', en: 'Mean wait (min)' }, (v) => (v / 60).toFixed(1)],
    ['mean_service_s', { zh: '平均办理（分）', en: 'Mean service (min)' }, (v) => (v / 60).toFixed(1)],
    ['ratings', { zh: '满意率', en: 'Satisfied' }, (v) => `${satisfied(v)} (${v.slice(1).reduce((a, b) => a + b, 0)})`],
    ['bookings_booked', { zh: '预约', en: 'Booked' }], ['bookings_arrived', { zh: '到场', en: 'Arrived' }], ['bookings_missed', { zh: '爽约', en: 'Missed' }],
  ],
  matter: [
    ['handled', { zh: '办理', en: 'Handled' }], ['done', { zh: '办结', en: 'Done' }], ['accepted', { zh: '受理', en: 'Accepted' }],
    ['incomplete', { zh: '材料不全', en: 'Incomplete' }], ['refused', { zh: '不予受理', en: 'Refused' }],
    ['ratings', { zh: '满意率', en: 'Satisfied' }, (v) => `${satisfied(v)} (${v.slice(1).reduce((a, b) => a + b, 0)})`],
  ],
};

function render() {
  fill($('#hall'), el('option', { value: '', text: t({ zh: '我可查看的全部大厅', en: 'Every hall I may see' }) }),
    halls.map((h) => el('option', { value: h, text: names[h] ? `${t(names[h])} (${h})` : h })));
  if (rep) $('#hall').value = rep.hall || '';
  if (!rep) return;
  const matter = rep.by.includes('matter');
  const dims = [['period', { zh: '时间', en: 'Period' }]];
  if (rep.by.includes('hall')) dims.push(['hall', { zh: '大厅', en: 'Hall' }]);
  if (rep.by.includes('service')) dims.push(['service', { zh: '业务', en: 'Service' }]);
  if (matter) dims.push(['matter', { zh: '事项', en: 'Matter' }]);
  const figs = matter ? cols.matter : cols.service;
  fill($('#report thead'), el('tr', {}, dims.map(([, w]) => el('th', { scope: 'col', text: t(w) })), figs.map(([, w]) => el('th', { scope: 'col', class: 'num', text: t(w) }))));
  fill($('#report tbody'), rep.rows.length ? rep.rows.map((r) => el('tr', {},
    dims.map(([k]) => el('td', { 'data-col': k, text: k === 'hall' && names[r.hall] ? `${t(names[r.hall])} (${r.hall})` : r[k] })),
    figs.map(([k, , f]) => el('td', { class: 'num', 'data-col': k, text: f ? f(r[k]) : r[k] }))))
    : [el('tr', {}, el('td', { colspan: dims.length + figs.length, class: 'empty', text: t({ zh: '该时段没有数据', en: 'No figures in that range' }) }))]);
  $('#summary').textContent = t({ zh: `${rep.from} 至 ${rep.to}，共 ${rep.rows.length} 行`, en: `${rep.from} to ${rep.to}, ${rep.rows.length} rows` });
}

let asked = 0; // only the latest report asked for is shown, whichever answer comes last

async function load() {
  csvLink();
  const mine = ++asked;
  try {
    const q = params();
    const r = await call('GET', 'reports/summary', { query: q });
    if (mine !== asked) return;
    rep = { ...r, hall: q.hall || '' };
    showError(null);
  } catch (err) {
    if (mine !== asked) return;
    showError(err);
  }
  render();
}

$('#pick').addEventListener('submit', (e) => {
  e.preventDefault();
  load();
});
$('#pick').addEventListener('change', csvLink);

let started = false;
start(async () => {
  if (started) return render();
  started = true;
  names = await hallNames();
  try {
    const ov = await call('GET', 'overview');
    halls = ov.halls.map((h) => h.hall);
    const today = hallDay(ov.now);
    $('#to').value = today;
    $('#from').value = today.slice(0, 8) + '01';
  } catch (err) {
    showError(err);
  }
  load();
});

// overview.js — every hall on one screen (/province/): the live queue,
// service-level breaches, forwarding health and today's figures of every
// hall the signed-in staff member may see (the central decides which:
// GET /api/v1/overview), sortable and filterable, asked again every few
// seconds (polling, refreshMs in dash.js).

import { el, fill } from '/assets/js/hallq.js';
import { call, hallTime, t } from '/p/portal.js';
import { alertWords, every, hallNames, lagWords, minutes, refreshMs, shares, showError, start } from '/province/p/dash.js';

let data = null;
let names = {};
let sort = { key: 'hall', dir: 1 };
const $ = (s) => document.querySelector(s);

const name = (id) => (names[id] ? t(names[id]) : '');

function satisfiedShare(r) {
  const n = r.slice(1).reduce((a, b) => a + b, 0);
  return n ? (r[4] + r[5]) / n : -1;
}

function value(h, key) {
  if (key === 'satisfied') return satisfiedShare(h.ratings);
  if (key === 'hall') return (name(h.hall) || '') + ' ' + h.hall;
  return h[key];
}

function health(h) {
  const kinds = h.alerts.map((a) => a.kind);
  if (kinds.length === 0) return el('span', { class: 'pill good', text: t({ zh: '正常', en: 'OK' }) });
  return el('span', { class: 'pill alert', text: kinds.map((k) => t(alertWords[k] || { zh: k, en: k })).join('、') });
}

function options(select, values, all) {
  const key = [all, ...values].join('\n');
  if (select.dataset.options === key) return; // unchanged: leave an open list alone
  select.dataset.options = key;
  const keep = select.value;
  fill(select, el('option', { value: '', text: all }), values.map((v) => el('option', { value: v, text: v })));
  select.value = values.includes(keep) ? keep : '';
}

function render() {
  if (!data) return;
  const q = $('#q').value.trim().toLowerCase();
  const district = $('#district').value;
  const service = $('#service').value;
  options($('#district'), [...new Set(data.halls.map((h) => h.district))].sort(), t({ zh: '全部区县', en: 'Every district' }));
  options($('#service'), [...new Set(data.halls.flatMap((h) => h.services.map((s) => s.service)))].sort(), t({ zh: '全部业务', en: 'Every service' }));
  $('#district').value = district;
  $('#service').value = service;
  const shown = data.halls
    .filter((h) => !q || h.hall.toLowerCase().includes(q) || name(h.hall).toLowerCase().includes(q) || (names[h.hall] && JSON.stringify(names[h.hall]).toLowerCase().includes(q)))
    .filter((h) => !district || h.district === district)
    .filter((h) => !service || h.services.some((s) => s.service === service))
    .sort((a, b) => {
      const x = value(a, sort.key), y = value(b, sort.key);
      return (typeof x === 'string' ? x.localeCompare(y) : x - y) * sort.dir || a.hall.localeCompare(b.hall);
    });
  for (const th of document.querySelectorAll('#halls th')) {
    if (th.dataset.key === sort.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  const target = data.sla_target_s;
  fill($('#rows'), shown.length ? shown.map((h) => el('tr', { class: h.alerts.length ? 'bad' : '', 'data-hall': h.hall },
    el('td', {}, el('a', { href: '/province/hall/' + encodeURIComponent(h.hall), class: 'drill' }, name(h.hall) || h.hall), name(h.hall) ? el('div', { class: 'en', text: h.hall }) : null),
    el('td', { text: h.district }),
    el('td', { class: 'num', text: h.waiting }),
    el('td', { class: 'num' + (h.longest_wait_s > target ? ' breach' : ''), text: h.waiting ? minutes(h.longest_wait_s) : '—' }),
    el('td', { class: 'num', text: h.open_windows }),
    el('td', { class: 'num' + (h.sla_breaches ? ' breach' : ''), text: h.sla_breaches }),
    el('td', { class: 'num', text: h.issued }),
    el('td', { class: 'num', text: h.served }),
    el('td', {}, shares(h.ratings)),
    el('td', {}, health(h), ' ', el('span', { class: 'last' }, h.last_event_at ? t({ zh: `最后事件 ${hallTime(h.last_event_at)}，滞后 ${lagWords(h.lag_s)}`, en: `last event ${hallTime(h.last_event_at)}, ${lagWords(h.lag_s)} ago` }) : '—'))))
    : [el('tr', {}, el('td', { colspan: 10, class: 'empty', text: t({ zh: '没有符合条件的大厅', en: 'No hall matches' }) }))]);
  const alerts = data.halls.flatMap((h) => h.alerts.map((a) => ({ ...a, name: name(h.hall) || h.hall })));
  fill($('#alerts'), alerts.length ? alerts.map((a) => el('li', { 'data-kind': a.kind, 'data-hall': a.hall },
    el('a', { href: '/province/hall/' + encodeURIComponent(a.hall) }, a.name), ': ', el('strong', { text: t(alertWords[a.kind] || { zh: a.kind, en: a.kind }) }),
    a.kind === 'gap' ? t({ zh: `，缺少 ${a.count} 个事件（序号 ${a.detail}）`, en: `, ${a.count} events missing (seq ${a.detail})` }) : '',
    a.kind === 'silent' ? t({ zh: `，窗口开放但已 ${lagWords(data.halls.find((h) => h.hall === a.hall).lag_s)} 无事件上报`, en: `, windows open but nothing forwarded for ${lagWords(data.halls.find((h) => h.hall === a.hall).lag_s)}` }) : ''))
    : [el('li', { class: 'empty', text: t({ zh: '没有告警', en: 'No alerts' }) })]);
  $('#updated').textContent = t({
    zh: `${hallTime(data.now)} 更新，每 ${refreshMs / 1000} 秒刷新 · 等候超过 ${minutes(target)} 计为超时 · ${shown.length}/${data.halls.length} 个大厅`,
    en: `Updated ${hallTime(data.now)}, refreshed every ${refreshMs / 1000} s · a wait over ${minutes(target)} is over target · ${shown.length} of ${data.halls.length} halls`,
  });
}

async function load() {
  try {
    data = await call('GET', 'overview');
    showError(null);
  } catch (err) {
    showError(err);
  }
  render();
}

for (const b of document.querySelectorAll('#halls th button.sort')) {
  b.addEventListener('click', () => {
    const key = b.parentElement.dataset.key;
    sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: key === 'hall' || key === 'district' ? 1 : -1 };
    render();
  });
}
$('#filters').addEventListener('input', render);
$('#filters').addEventListener('submit', (e) => e.preventDefault());

let started = false;
start(async () => {
  if (started) return render();
  started = true;
  names = await hallNames();
  every(load);
});

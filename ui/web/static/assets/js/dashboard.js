// dashboard.js — the hall manager's view: live queues and windows with
// alerts, kiosk health and forwarding backlog, today's charts, reports,
// and administration (tokens, blacklist, day close, appointments, the hall
// configuration).
import { $, el, fill, api, describe, since, mmss, Stream, connectionBadge, loginForm, windowWords, both } from './hallq.js';
import { bars } from './charts.js';
import * as hallConfig from './hallconfig.js';

let token = '';
let overview = null;
let tickets = [];
let zone = 'Asia/Shanghai';
let timer = 0;

const thresholds = {
  get wait() { return Number(localStorage.getItem('hallq.alert.wait') || 30); },
  get pause() { return Number(localStorage.getItem('hallq.alert.pause') || 15); },
};

function showError(text) {
  $('#error').textContent = text;
  $('#error').hidden = !text;
}

const td = (text, attrs = {}) => el('td', { ...attrs, text: String(text) });
const num = (text, attrs = {}) => td(text, { ...attrs, class: 'num' });
const empty = (cols, text = '无 · None') => el('tr', {}, el('td', { colspan: cols, class: 'empty', text }));
const waitText = (s) => (s < 0 ? '—' : mmss(s));

// ---- live ----

function renderLive() {
  if (!overview) return;
  const svcs = overview.services;
  const byId = new Map(tickets.map((t) => [t.id, t]));
  $('#kpi-waiting').textContent = svcs.reduce((a, s) => a + s.waiting, 0);
  $('#kpi-longest').textContent = mmss(Math.max(0, ...svcs.map((s) => s.longest_wait_s)));
  $('#kpi-open').textContent = overview.windows.filter((w) => w.status === 'open').length;
  $('#kpi-served').textContent = tickets.filter((t) => t.status === 'done').length;
  fill($('#services'), svcs.map((s) => el('tr', { 'data-service': s.code },
    td(`${s.code} ${s.name.zh}`),
    num(s.waiting, { 'data-field': 'waiting' }),
    num(mmss(s.longest_wait_s), { 'data-field': 'longest' }),
    num(waitText(s.estimated_wait_s), { 'data-field': 'estimated' }),
    num(mmss(s.mean_service_s), { 'data-field': 'service' }),
    num(s.open_windows, { 'data-field': 'windows' }),
    num(s.issued, { 'data-field': 'issued' }))));
  fill($('#windows'), overview.windows.map((w) => el('tr', { 'data-window': w.number },
    td(w.name.zh),
    el('td', {}, el('span', { class: 'pill ' + w.status, text: both(windowWords[w.status]) })),
    td(w.clerk || '—'),
    td((w.current && byId.get(w.current) && byId.get(w.current).number) || '—'),
    num(w.status === 'paused' ? `${mmss(since(w.since))} ${w.pause_reason || ''}` : '—'))));
  const alerts = [];
  for (const s of svcs) {
    if (s.longest_wait_s > thresholds.wait * 60) alerts.push(`${s.code} ${s.name.zh}：最长等候 ${mmss(s.longest_wait_s)} · longest wait over ${thresholds.wait} min`);
    if (s.waiting > 0 && s.open_windows === 0) alerts.push(`${s.code} ${s.name.zh}：有人等候但无开放窗口 · people waiting, no open window`);
  }
  for (const w of overview.windows) {
    if (w.status === 'paused' && since(w.since) > thresholds.pause * 60) alerts.push(`${w.name.zh}：暂停 ${mmss(since(w.since))} · paused over ${thresholds.pause} min`);
  }
  fill($('#alerts'), alerts.map((a) => el('li', { text: a })));
  $('#alerts-card').hidden = alerts.length === 0;
}

// ---- charts ----

const hm = (at) => {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hour12: false })
    .formatToParts(new Date(at)).map((x) => [x.type, x.value]));
  return Number(p.hour) * 60 + Number(p.minute);
};

function renderCharts() {
  const from = 8 * 60;
  const to = 18 * 60;
  const n = (to - from) / 15;
  const labels = Array.from({ length: n }, (_, i) => { const m = from + i * 15; return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`; });
  const bin = (at) => Math.min(n - 1, Math.max(0, Math.floor((hm(at) - from) / 15)));
  const arrivals = new Array(n).fill(0);
  const served = new Array(n).fill(0);
  for (const t of tickets) {
    arrivals[bin(t.issued_at)]++;
    if (t.status === 'done' && t.finished_at) served[bin(t.finished_at)]++;
  }
  fill($('#chart-flow'), bars({ title: '每 15 分钟取号与办结 Arrivals and served per 15 minutes', labels, labelEvery: 8,
    series: [{ name: '取号 arrivals', color: '#0b5394', values: arrivals }, { name: '办结 served', color: '#1d6b3a', values: served }] }));

  const edges = [5, 10, 15, 20, 30, 45, 60];
  const hist = new Array(edges.length + 1).fill(0);
  const waitOf = (t) => (Date.parse(t.called_at) - Date.parse(t.issued_at)) / 60000;
  for (const t of tickets) if (t.called_at) hist[edges.filter((e) => waitOf(t) >= e).length]++;
  const hl = ['<5', '5–10', '10–15', '15–20', '20–30', '30–45', '45–60', '≥60'];
  fill($('#chart-hist'), bars({ title: '等候时长分布（分钟）Wait-time distribution (minutes)', labels: hl,
    series: [{ name: '人数 tickets', color: '#0b5394', values: hist }] }));

  const codes = overview.services.map((s) => s.code);
  const mean = (xs) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
  const waits = codes.map((c) => mean(tickets.filter((t) => t.service === c && t.called_at).map(waitOf)));
  const svc = codes.map((c) => mean(tickets.filter((t) => t.service === c && t.status === 'done' && t.called_at && t.finished_at)
    .map((t) => (Date.parse(t.finished_at) - Date.parse(t.called_at)) / 60000)));
  fill($('#chart-svc'), bars({ title: '各业务平均等候与办理（分钟）Mean wait and service time per service (minutes)', labels: codes,
    series: [{ name: '等候 wait', color: '#8a5200', values: waits }, { name: '办理 service', color: '#0b5394', values: svc }] }));
}

// ---- health ----

async function renderHealth() {
  const [devices, health] = await Promise.all([
    api('GET', 'devices', { token }),
    fetch('/healthz').then((r) => r.json()),
  ]);
  fill($('#devices'), (devices || []).length ? devices.map((d) => el('tr', {},
    td(d.kiosk), td(d.online ? '在线 online' : '离线 offline'), td(d.reader), td(d.printer), td(d.scanner),
    num(d.pending_offline + (d.set_aside_offline ? ` · 搁置 ${d.set_aside_offline} set aside` : ''), { 'data-field': 'offline' }),
    td(new Date(d.reported_at).toLocaleTimeString('zh-CN', { hour12: false })))) : empty(7));
  const ob = health.outbox || {};
  $('#kpi-backlog').textContent = ob.backlog ?? '—';
  $('#outbox').textContent = ob.backlog ? `待上传 ${ob.backlog} 条，最早 ${mmss(since(ob.oldest))} 前 · ${ob.backlog} events waiting, oldest ${mmss(since(ob.oldest))} ago`
    : '全部已上传 · Everything forwarded';
}

async function refresh() {
  clearTimeout(timer);
  try {
    [overview, tickets] = await Promise.all([api('GET', 'overview', { token }), api('GET', 'tickets', { token })]);
    zone = overview.hall.time_zone || zone;
    fill($('#hall'), overview.hall.name.zh);
    renderLive();
    renderCharts();
    await renderHealth();
    showError('');
  } catch (e) {
    showError(describe(e));
  }
}

const later = () => {
  clearTimeout(timer);
  timer = setTimeout(refresh, 500);
};
setInterval(() => overview && refresh(), 15000);

// ---- thresholds ----

$('#thr-wait').value = thresholds.wait;
$('#thr-pause').value = thresholds.pause;
$('#thresholds').addEventListener('submit', (e) => {
  e.preventDefault();
  localStorage.setItem('hallq.alert.wait', $('#thr-wait').value);
  localStorage.setItem('hallq.alert.pause', $('#thr-pause').value);
  renderLive();
});

// ---- reports ----

const reportQuery = () => ({ from: $('#rep-from').value, to: $('#rep-to').value, by: $('#rep-by').value });

$('#report').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const rows = await api('GET', 'reports', { token, query: reportQuery() });
    fill($('#report-rows'), (rows || []).length ? rows.map((r) => el('tr', {},
      td(r.group), num(r.tickets), num(r.served), num(r.no_show), num(r.abandoned), num(mmss(Math.round(r.mean_wait_s))),
      num(mmss(Math.round(r.p90_wait_s))), num(mmss(Math.round(r.mean_service_s))), num(r.ratings), num(r.mean_rating.toFixed(2)),
      num(r.dissatisfied))) : empty(11));
  } catch (err) {
    showError(describe(err));
  }
});

$('#rep-csv').addEventListener('click', async () => {
  try {
    const text = await api('GET', 'reports', { token, query: { ...reportQuery(), format: 'csv' } });
    const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: `hallq-${reportQuery().from}-${reportQuery().to}-${reportQuery().by}.csv` });
    a.click();
    URL.revokeObjectURL(a.href);
  } catch (err) {
    showError(describe(err));
  }
});

// ---- administration ----

async function renderTokens() {
  const list = await api('GET', 'tokens', { token });
  fill($('#tokens'), list.map((t) => el('tr', {},
    td(t.name), td(t.role), num(t.window || ''), td(new Date(t.created).toLocaleDateString('zh-CN')),
    td(t.revoked ? '已吊销 revoked' : '有效 active'),
    el('td', {}, t.revoked ? '' : el('button', { type: 'button', class: 'danger', 'aria-label': `吊销 Revoke ${t.name}`,
      onclick: () => api('DELETE', `tokens/${t.id}`, { token }).then(renderTokens, (e) => showError(describe(e))) }, '吊销 Revoke')))));
}

$('#tok-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { name: $('#tok-name').value.trim(), role: $('#tok-role').value };
  if (Number($('#tok-window').value) > 0) body.window = Number($('#tok-window').value);
  if ($('#tok-ttl').value.trim()) body.ttl = $('#tok-ttl').value.trim();
  try {
    const t = await api('POST', 'tokens', { token, body });
    $('#tok-secret').textContent = t.token;
    $('#tok-created').hidden = false;
    e.target.reset();
    renderTokens();
  } catch (err) {
    showError(describe(err));
  }
});

$('#bl-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const v = $('#bl-id').value.trim();
  const body = /^[0-9a-f]{64}$/.test(v) ? { citizen_key: v } : { id_number: v };
  if ($('#bl-note').value.trim()) body.note = $('#bl-note').value.trim();
  if (e.submitter && e.submitter.value === 'remove') body.remove = true;
  try {
    await api('POST', 'blacklist', { token, body });
    $('#bl-result').textContent = body.remove ? '已移除 Removed' : '已加入 Added';
    e.target.reset();
  } catch (err) {
    $('#bl-result').textContent = describe(err);
  }
});

$('#day-close').addEventListener('click', () => $('#confirm-close').showModal());
$('#confirm-close').addEventListener('close', async () => {
  if ($('#confirm-close').returnValue !== 'ok') return;
  try {
    await api('POST', 'day/close', { token });
    $('#day-result').textContent = '已日结 The day is closed';
  } catch (err) {
    $('#day-result').textContent = describe(err);
  }
});

async function renderAppointments() {
  const list = await api('GET', 'appointments', { token });
  const when = (a) => new Date(a).toLocaleString('zh-CN', { timeZone: zone, hour12: false, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const words = { booked: '已预约 booked', checked_in: '已签到 checked in', cancelled: '已取消 cancelled' };
  fill($('#appointments'), list.length ? list.map((b) => el('tr', {},
    td(b.id), td(b.service), td(`${when(b.slot_start)}–${when(b.slot_end)}`), td(b.masked_id || '—'), td(words[b.status] || b.status))) : empty(5));
}

// ---- start ----

const stream = new Stream('', {
  onState: connectionBadge($('#conn')),
  onResync: later,
  onEvent: (ev) => {
    later();
    if (ev.type === 'config.changed') hallConfig.changed();
  },
  onServices(list) {
    if (!overview) return;
    overview.services = list;
    renderLive();
  },
  onDenied: (message) => {
    $('#dash').hidden = true;
    signOut(message);
  },
});

const signOut = loginForm($('#login'), 'dashboard',
  (me) => (me.role === 'manager' || me.role === 'admin' ? '' : '需要管理令牌 · This needs a manager or admin token'),
  async (t, me) => {
    token = t;
    $('#who').textContent = `${me.name} (${me.role})`;
    $('#dash').hidden = false;
    await refresh();
    $('#rep-from').value = $('#rep-to').value = overview ? overview.day : '';
    stream.use(token);
    renderTokens().catch((e) => showError(describe(e)));
    renderAppointments().catch((e) => showError(describe(e)));
    hallConfig.start(token).catch((e) => showError(describe(e)));
  });

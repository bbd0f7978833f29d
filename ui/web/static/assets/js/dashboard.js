// dashboard.js — the hall manager's view: live queues and windows, alerts
// in words (with an optional sound), kiosk health and forwarding backlog,
// today's charts, reports, and administration (tokens, password accounts,
// blacklist, day close, bookings, the hall configuration).
//
// Live tables apply the events the stream delivers (tickets and windows
// change in place; services come as `services` frames). Every figure —
// served today, waits, shares, charts — and every alert is computed by the
// server (GET /figures, GET /alerts) with the hall's one set of
// definitions; the page only shows them, re-reading them at most every few
// seconds while events arrive.
import { $, el, fill, api, APIError, describe as describeAPI, since, serverNow, mmss, Stream, connectionBadge, loginForm, windowWords, statusWords, both, setHallZone, hallTime } from './hallq.js';
import { bars, heatTable } from './charts.js';
import * as hallConfig from './hallconfig.js';
import { EventType, Role, TicketStatus, WindowStatus } from './codes.js';

let token = '';
let me = null;
let readAt = 0; // the seq loadAll read at sign-in, until the stream's first resync or event
let overview = null;
const tickets = new Map(); // today's tickets by id, kept in step with the events

// describe puts a failed request in words; a fault in the page itself is
// named as such instead of looking like a network problem.
function describe(e) {
  if (e instanceof APIError || (e instanceof TypeError && /fetch/i.test(e.message))) return describeAPI(e);
  console.error(e);
  return `页面出错，请刷新 · The page hit a fault, please reload: ${e && e.message}`;
}

function showError(text) {
  $('#error').textContent = text;
  $('#error').hidden = !text;
}

const td = (text, attrs = {}) => el('td', { ...attrs, text: String(text) });
const num = (text, attrs = {}) => td(text, { ...attrs, class: 'num' });
const empty = (cols, text = '无 · None') => el('tr', {}, el('td', { colspan: cols, class: 'empty', text }));
const waitText = (s) => (s < 0 ? '—' : mmss(s));
const mins = (s) => (s > 0 ? (s / 60).toFixed(1) : '0');
const pct = (x) => (x < 0 ? '—' : `${Math.round(x * 100)}%`);
const dateOnly = { year: 'numeric', month: 'numeric', day: 'numeric' };

/** throttle runs fn at most every ms, and once more after the last call. */
function throttle(fn, ms) {
  let last = 0;
  let timer = 0;
  return () => {
    clearTimeout(timer);
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => { last = Date.now(); fn(); }, wait);
  };
}

// ---- live: services and windows, from the stream ----

function renderLive() {
  if (!overview) return;
  const svcs = overview.services;
  $('#kpi-waiting').textContent = svcs.reduce((a, s) => a + s.waiting, 0);
  $('#kpi-longest').textContent = mmss(Math.max(0, ...svcs.map((s) => s.longest_wait_s)));
  $('#kpi-open').textContent = overview.windows.filter((w) => w.status === WindowStatus.Open).length;
  fill($('#services'), svcs.map((s) => el('tr', { 'data-service': s.code },
    td(`${s.code} ${s.name.zh}`),
    num(s.waiting, { 'data-field': 'waiting' }),
    num(mmss(s.longest_wait_s), { 'data-field': 'longest' }),
    num(waitText(s.estimated_wait_s), { 'data-field': 'estimated' }),
    num(mmss(s.mean_service_s), { 'data-field': 'service' }),
    num(s.open_windows, { 'data-field': 'windows' }),
    num(s.issued, { 'data-field': 'issued' }))));
  fill($('#windows'), overview.windows.map((w) => {
    const cur = w.current && tickets.get(w.current);
    return el('tr', { 'data-window': w.number },
      td(w.name.zh),
      el('td', {}, el('span', { class: 'pill ' + w.status, text: both(windowWords[w.status]) })),
      td(w.clerk || '—'),
      td(cur ? `${cur.number} ${both(statusWords[cur.status])}` : '—'),
      num(w.status === WindowStatus.Paused ? `${mmss(since(w.since))} ${w.pause_reason || ''}` : '—'));
  }));
}

function applyEvent(ev) {
  if (ev.ticket) tickets.set(ev.ticket.id, ev.ticket);
  if (ev.window && overview) {
    const i = overview.windows.findIndex((w) => w.number === ev.window.number);
    if (i >= 0) overview.windows[i] = ev.window;
    else overview.windows.push(ev.window);
  }
  if (ev.type === EventType.DayClosed) tickets.clear();
  if (ev.type === EventType.ConfigChanged && ev.config) {
    setHallZone(ev.config.hall.time_zone); // every time on the page, dashboard-board.js's and dashboard-help.js's too
    fill($('#hall'), ev.config.hall.name.zh);
    hallConfig.changed(ev.config);
  }
}

// ---- figures and charts, computed by the server ----

function renderFigures(f) {
  $('#kpi-served').textContent = f.total.served;
  $('#kpi-wait').textContent = f.total.called ? mmss(Math.round(f.total.mean_wait_s)) : '—';
  $('#kpi-within').textContent = pct(f.total.within_target);
  $('#kpi-target-label').textContent = `等候不超过 ${Math.round(f.target_s / 60)} 分钟 Waited ≤ ${Math.round(f.target_s / 60)} min`;
  const labels = f.flow.map((b) => b.at);
  fill($('#chart-flow'), bars({
    title: `每 15 分钟取号与办结（${f.open}–${f.close}，大厅时间）Issued and served per 15 minutes (${f.open}–${f.close}, hall time)`,
    labels, showLabel: (i) => labels[i].endsWith(':00') && Number(labels[i].slice(0, 2)) % (labels.length > 48 ? 3 : 1) === 0,
    series: [{ name: '取号 issued', color: '#0b5394', values: f.flow.map((b) => b.issued) },
      { name: '办结 served', color: '#1d6b3a', values: f.flow.map((b) => b.served) }] }));
  const hl = ['<5', '5–10', '10–15', '15–20', '20–30', '30–45', '45–60', '≥60'];
  fill($('#chart-hist'), bars({ title: '等候时长分布（分钟）Wait-time distribution (minutes)', labels: hl,
    series: [{ name: '人数 tickets', color: '#0b5394', values: f.wait_hist }] }));
  fill($('#clerks'), (f.clerks || []).length ? f.clerks.map((c) => el('tr', { 'data-clerk': c.key },
    td(c.key), num(c.served), num(c.served ? mmss(Math.round(c.mean_handling_s)) : '—'), num(c.ratings),
    num(c.ratings ? c.mean_rating.toFixed(2) : '—'), num(c.dissatisfied),
    num(c.mean_walk_s ? mmss(Math.round(c.mean_walk_s)) : '—'), num(mmss(Math.round(c.idle_s || 0))))) : empty(8));
  for (const hook of figureHooks) hook(f);
  fill($('#heat'), heatTable({ caption: '按取号时的业务与大厅时间 By issuing service and hall hour',
    columns: f.hours.map((h) => `${String(h).padStart(2, '0')}时`),
    rows: f.heat.map((r) => ({ key: r.service, label: `${r.service} ${r.name.zh}`, values: r.issued })) }));
  const svcs = f.services;
  fill($('#chart-svc'), bars({ title: '各业务平均等候与办理（分钟）Mean wait and service time per service (minutes)', labels: svcs.map((s) => s.key), integer: false,
    series: [{ name: '等候 wait', color: '#8a5200', values: svcs.map((s) => Math.round(s.mean_wait_s / 6) / 10) },
      { name: '办理 service', color: '#0b5394', values: svcs.map((s) => Math.round(s.mean_service_s / 6) / 10) }] }));
}

// figureHooks are the other parts of the page drawn from the figures (dashvisit.js).
export const figureHooks = [];

async function loadFigures() {
  try {
    renderFigures(await api('GET', 'figures', { token }));
  } catch (e) {
    showError(describe(e));
  }
}
const figuresSoon = throttle(loadFigures, 3000);

// ---- alerts, computed by the server with the hall's thresholds ----

const seenAlerts = new Set();
let firstAlerts = true;
const sound = {
  get on() { return localStorage.getItem('hallq.alert.sound') === 'on'; },
  set on(v) { localStorage.setItem('hallq.alert.sound', v ? 'on' : 'off'); },
};
let audio = null;

function chime() {
  try {
    audio = audio || new AudioContext();
    const t = audio.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t + i * 0.25);
      g.gain.exponentialRampToValueAtTime(0.3, t + i * 0.25 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.22);
      o.connect(g).connect(audio.destination);
      o.start(t + i * 0.25);
      o.stop(t + i * 0.25 + 0.25);
    }
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  } catch {
    // no audio device: the alert list still shows
  }
}

function renderAlerts(list) {
  const fresh = list.filter((a) => !seenAlerts.has(a.key));
  fill($('#alerts'), list.map((a) => el('li', { class: a.severity, 'data-kind': a.kind, 'data-key': a.key },
    a.severity === 'critical' ? '紧急 · ' : '注意 · ', a.zh, el('span', { class: 'en', lang: 'en', text: a.en }))));
  $('#alerts-none').hidden = list.length > 0;
  $('#alerts-count').textContent = list.length ? `(${list.length})` : '';
  $('#alerts-card').classList.toggle('has-critical', list.some((a) => a.severity === 'critical'));
  $('#alerts-card').classList.toggle('has-warning', list.length > 0 && !list.some((a) => a.severity === 'critical'));
  seenAlerts.clear();
  for (const a of list) seenAlerts.add(a.key);
  if (fresh.length && !firstAlerts && sound.on) chime();
  firstAlerts = false;
}

async function loadAlerts() {
  try {
    renderAlerts(await api('GET', 'alerts', { token }));
  } catch (e) {
    showError(describe(e));
  }
}
const alertsSoon = throttle(loadAlerts, 1000);

$('#alert-sound').checked = sound.on;
$('#alert-sound').addEventListener('change', (e) => {
  sound.on = e.target.checked;
  if (e.target.checked) chime(); // lets the manager hear it (and unlocks audio in the browser)
});

// ---- kiosk health ----

const deviceWords = {
  ok: '正常 ok', absent: '未接 missing', error: '故障 error', paper_low: '纸少 paper low', paper_out: '缺纸 out of paper',
  cover_open: '盖未关 cover open', offline: '无响应 offline',
};

async function loadHealth() {
  const [devices, health] = await Promise.all([
    api('GET', 'devices', { token }),
    fetch('/healthz').then((r) => r.json()),
  ]);
  fill($('#devices'), (devices || []).length ? devices.map((d) => el('tr', { 'data-kiosk': d.kiosk },
    td(d.kiosk), td(d.online ? '在线 online' : '离线 offline'), td(deviceWords[d.reader] || d.reader),
    td(deviceWords[d.printer] || d.printer, { 'data-field': 'printer' }), td(deviceWords[d.scanner] || d.scanner),
    num(d.pending_offline + (d.set_aside_offline ? ` · 搁置 ${d.set_aside_offline} set aside` : ''), { 'data-field': 'offline' }),
    td(`${mmss(Math.max(0, Math.round((Date.now() - Date.parse(d.reported_at)) / 1000)))} 前 ago`))) : empty(7));
  const ob = health.outbox || {};
  $('#kpi-backlog').textContent = ob.backlog ?? '—';
  $('#outbox').textContent = ob.backlog ? `待上传 ${ob.backlog} 条，最早 ${mmss(since(ob.oldest))} 前 · ${ob.backlog} events waiting, oldest ${mmss(since(ob.oldest))} ago`
    : '全部已上传 · Everything forwarded';
}

// ---- loading ----

async function loadAll() {
  const [o, list] = await Promise.all([api('GET', 'overview', { token }), api('GET', 'tickets', { token })]);
  overview = o;
  tickets.clear();
  for (const t of list) tickets.set(t.id, t);
  setHallZone(overview.hall.time_zone); // every time on the page, dashboard-board.js's and dashboard-help.js's too
  fill($('#hall'), overview.hall.name.zh);
  renderLive();
  await Promise.all([loadFigures(), loadAlerts(), loadHealth()]);
  showError('');
}

const reload = throttle(() => loadAll().catch((e) => showError(describe(e))), 500);

setInterval(() => {
  if (!overview) return;
  renderLive(); // waits and pause times grow
  loadAlerts();
  loadHealth().catch((e) => showError(describe(e)));
}, 10000);
setInterval(() => overview && loadFigures(), 30000);
setInterval(() => {
  $('#clock').textContent = `大厅时间 ${hallTime(serverNow(), { hour: '2-digit', minute: '2-digit', second: '2-digit' })}`;
}, 1000);

// ---- alert thresholds: hall settings on the server ----

function showThresholds(cfg) {
  const a = (cfg && cfg.alerts) || {};
  const d = (v, unit) => Math.round(hallConfig.seconds(v) / unit);
  if (document.activeElement && document.activeElement.closest('#thresholds')) return; // being edited
  $('#thr-wait').value = d(a.wait_over || '30m', 60);
  $('#thr-pause').value = d(a.pause_over || '15m', 60);
  $('#thr-silent').value = d(a.kiosk_silent || '1m', 1);
}
hallConfig.onLoad(showThresholds);

$('#thresholds').addEventListener('submit', async (e) => {
  e.preventDefault();
  const say = (t, bad = false) => { $('#thr-result').textContent = t; $('#thr-result').classList.toggle('error', bad); };
  const n = (id) => Number($(id).value);
  const bad = [];
  if (!Number.isInteger(n('#thr-wait')) || n('#thr-wait') < 1 || n('#thr-wait') > 480) bad.push('等候阈值须为 1–480 分钟 · wait threshold must be 1–480 minutes');
  if (!Number.isInteger(n('#thr-pause')) || n('#thr-pause') < 1 || n('#thr-pause') > 480) bad.push('暂停阈值须为 1–480 分钟 · pause threshold must be 1–480 minutes');
  if (!Number.isInteger(n('#thr-silent')) || n('#thr-silent') < 20 || n('#thr-silent') > 3600) bad.push('失联阈值须为 20–3600 秒 · kiosk silence must be 20–3600 seconds');
  if (bad.length) return say(`请先改正 · Please correct: ${bad.join('；')}`, true);
  say('保存中… · Saving…');
  try {
    await hallConfig.saveAlerts({ wait_over: `${n('#thr-wait')}m`, pause_over: `${n('#thr-pause')}m`, kiosk_silent: `${n('#thr-silent')}s` });
    say('已保存，所有管理员的看板都按新阈值告警 · Saved; every dashboard alerts with these thresholds now');
    loadAlerts();
    loadFigures();
  } catch (err) {
    say(hallConfig.words(err), true);
  }
});

// ---- reports ----

const reportQuery = () => ({ from: $('#rep-from').value, to: $('#rep-to').value, by: $('#rep-by').value });

$('#report').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const rows = await api('GET', 'reports', { token, query: reportQuery() });
    fill($('#report-rows'), (rows || []).length ? rows.map((r) => el('tr', { 'data-group': r.group },
      td(r.label), num(r.issued), num(r.served), num(r.no_show), num(r.cancelled), num(r.expired),
      num(mins(r.mean_wait_s)), num(mins(r.p90_wait_s)), num(pct(r.within_target)), num(mins(r.mean_service_s)),
      num(mins(r.mean_handling_s)), num(r.ratings), num(r.ratings ? r.mean_rating.toFixed(2) : '—'), num(r.dissatisfied))) : empty(14));
  } catch (err) {
    showError(describe(err));
  }
});

$('#rep-csv').addEventListener('click', async () => {
  try {
    const q = reportQuery();
    const text = await api('GET', 'reports', { token, query: { ...q, format: 'csv' } });
    const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/csv' })), download: `hallq-report-${q.from}-${q.to}-by-${q.by}.csv` });
    document.body.dataset.csv = text.slice(0, 2000);
    a.click();
    URL.revokeObjectURL(a.href);
  } catch (err) {
    showError(describe(err));
  }
});
$('#rep-from').addEventListener('change', () => { $('#rep-daily').href = `/report?day=${$('#rep-from').value}`; });

// ---- confirmation: the safe answer first, naming what stops working ----

function confirmAction(question, body, yes) {
  return new Promise((resolve) => {
    const d = $('#confirm');
    $('#confirm-q').textContent = question;
    $('#confirm-body').textContent = body;
    $('#confirm-ok').textContent = yes;
    d.returnValue = '';
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

const roleWords = { clerk: '窗口 clerk', display: '显示屏 display', kiosk: '自助机 kiosk', manager: '管理 manager', admin: '系统 admin' };

function whatStops(t) {
  const self = me && t.name === me.name && t.role === me.role ? '这可能是您正在使用的令牌，您会被退出。This may be the token you are signed in with: you will be signed out. ' : '';
  switch (t.role) {
    case Role.Kiosk:
      return `${self}自助机“${t.name}”将立即断开：不能再取号、签到，也不能交接离线票，直到用新令牌重新登记。Kiosk “${t.name}” is cut off at once: no tickets, no check-in, no hand-over of offline tickets until it is enrolled with a new token.`;
    case Role.Display:
      return `${self}显示屏“${t.name}”将立即停止更新叫号和语音，直到输入新令牌。Display “${t.name}” stops showing and announcing calls at once until it gets a new token.`;
    case Role.Clerk:
      return `${self}${t.window} 号窗口的“${t.name}”将立即退出，不能再叫号或办理。“${t.name}” at window ${t.window} is signed out at once and can no longer call or serve.`;
    default:
      return `${self}“${t.name}”（${roleWords[t.role]}）将立即失去看板和管理权限。“${t.name}” (${t.role}) loses the dashboard and administration at once.`;
  }
}

async function loadTokens() {
  const list = await api('GET', 'tokens', { token });
  fill($('#tokens'), list.map((t) => el('tr', { 'data-token': t.id },
    td(t.name), td(roleWords[t.role] || t.role), num(t.window || ''), td(hallTime(t.created, dateOnly)),
    td(t.revoked ? '已吊销 revoked' : t.expires && Date.parse(t.expires) < Date.now() ? '已过期 expired' : '有效 active'),
    el('td', {}, t.revoked ? '' : el('button', { type: 'button', class: 'danger', 'aria-label': `吊销 Revoke ${t.name}`,
      onclick: async () => {
        if (!(await confirmAction(`吊销令牌“${t.name}”？Revoke the token “${t.name}”?`, whatStops(t), '吊销 Revoke'))) return;
        try {
          await api('DELETE', `tokens/${t.id}`, { token });
          $('#tok-result').textContent = `已吊销“${t.name}” · Revoked “${t.name}”`;
          await loadTokens();
        } catch (e) {
          $('#tok-result').textContent = describe(e);
        }
      } }, '吊销 Revoke')))));
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
    $('#tok-result').textContent = '';
    e.target.reset();
    loadTokens();
  } catch (err) {
    $('#tok-result').textContent = describe(err);
  }
});

// ---- password accounts ----

async function loadUsers() {
  const list = await api('GET', 'users', { token });
  fill($('#users'), (list || []).length ? list.map((u) => el('tr', { 'data-user': u.name },
    td(u.name), td(roleWords[u.role] || u.role), num(u.window || ''), td(hallTime(u.created, dateOnly)),
    el('td', {}, el('button', { type: 'button', class: 'danger', 'aria-label': `删除账号 Remove ${u.name}`,
      onclick: async () => {
        const where = u.role === Role.Clerk ? `（${u.window} 号窗口 window ${u.window}）` : `（${roleWords[u.role]}）`;
        if (!(await confirmAction(`删除账号“${u.name}”？Remove the account “${u.name}”?`,
          `“${u.name}”${where}将不能再登录，已登录的会话立即结束。“${u.name}” can no longer sign in, and any session signed in now ends at once.`, '删除 Remove'))) return;
        try {
          const r = await api('DELETE', `users/${encodeURIComponent(u.name)}`, { token });
          $('#user-result').textContent = `已删除“${u.name}”，结束 ${r.sessions_ended} 个会话 · Removed “${u.name}”, ended ${r.sessions_ended} session(s)`;
          await loadUsers();
          loadTokens();
        } catch (e) {
          $('#user-result').textContent = describe(e);
        }
      } }, '删除 Remove')))) : empty(5));
}

$('#user-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { name: $('#user-name').value.trim(), password: $('#user-password').value, role: $('#user-role').value };
  if (body.role === Role.Clerk) body.window = Number($('#user-window').value) || 0;
  try {
    await api('POST', 'users', { token, body });
    $('#user-result').textContent = `已添加“${body.name}” · Added “${body.name}”`;
    e.target.reset();
    loadUsers();
  } catch (err) {
    $('#user-result').textContent = describe(err);
  }
});

// ---- blacklist ----

async function loadBlacklist() {
  const list = await api('GET', 'blacklist', { token });
  fill($('#blacklist'), list.length ? list.map((b) => el('tr', { 'data-ref': b.ref },
    td(b.ref), td(b.note || '—'), td(b.since ? hallTime(b.since, { ...dateOnly, hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '—'), td(b.by || '—'),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `移出黑名单 Lift ${b.ref}`,
      onclick: async () => {
        if (!(await confirmAction(`移出黑名单 ${b.ref}？Lift blacklist entry ${b.ref}?`,
          `此人将可以再次取号${b.note ? `（备注：${b.note}）` : ''}。This person can take tickets again.`, '移出 Lift'))) return;
        try {
          await api('DELETE', `blacklist/${b.ref}`, { token });
          $('#bl-result').textContent = `已移出 ${b.ref} · Lifted`;
          loadBlacklist();
        } catch (e) {
          $('#bl-result').textContent = describe(e);
        }
      } }, '移出 Lift')))) : empty(5));
}

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
    loadBlacklist();
  } catch (err) {
    $('#bl-result').textContent = describe(err);
  }
});

// ---- day close: preview first, the safe button first ----

const statusOrder = [TicketStatus.Waiting, TicketStatus.Called, TicketStatus.Serving, TicketStatus.Parked];

$('#day-close').addEventListener('click', async () => {
  try {
    const p = await api('GET', 'day/close', { token });
    if (p.closed) {
      $('#day-result').textContent = `今日（${p.day}）已日结，午夜后恢复取号 · Today (${p.day}) is closed; issuing resumes after midnight`;
      return;
    }
    const parts = statusOrder.filter((s) => p.by_status[s]).map((s) => `${statusWords[s][0]} ${p.by_status[s]}`);
    const partsEn = statusOrder.filter((s) => p.by_status[s]).map((s) => `${p.by_status[s]} ${statusWords[s][1].toLowerCase()}`);
    fill($('#confirm-what'),
      el('p', { 'data-field': 'expire' }, `将失效 ${p.expire} 张号${parts.length ? `（${parts.join('、')}）` : ''}。`,
        el('span', { lang: 'en', text: ` ${p.expire} ticket(s) will expire${partsEn.length ? ` (${partsEn.join(', ')})` : ''}.` })),
      el('p', { 'data-field': 'carry' }, p.carry_over
        ? `顺延到明天 ${p.carry} 张（等候中的号码明天重新编号）。`
        : '不顺延：按大厅设置，等候中的号码全部失效。',
      el('span', { lang: 'en', text: p.carry_over ? ` ${p.carry} waiting ticket(s) carry over to tomorrow with new numbers.` : ' Nothing carries over: the hall is set to expire waiting tickets.' })),
      el('p', {}, `将关闭 ${p.open_windows} 个窗口；午夜前自助机不再取号。`,
        el('span', { lang: 'en', text: ` ${p.open_windows} window(s) will close; kiosks issue no more tickets until midnight.` })));
    $('#confirm-close').returnValue = '';
    $('#confirm-close').showModal();
  } catch (err) {
    $('#day-result').textContent = describe(err);
  }
});
$('#confirm-close').addEventListener('close', async () => {
  if ($('#confirm-close').returnValue !== 'ok') return;
  try {
    await api('POST', 'day/close', { token });
    $('#day-result').textContent = '已日结，午夜前不再取号 · The day is closed; no tickets until midnight';
    reload();
  } catch (err) {
    $('#day-result').textContent = describe(err);
  }
});

async function loadBookings() {
  const list = await api('GET', 'bookings', { token });
  const when = (a) => hallTime(a, { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  const words = { booked: '已预约 booked', checked_in: '已签到 checked in', cancelled: '已取消 cancelled' };
  fill($('#bookings'), list.length ? list.map((b) => el('tr', {},
    td(b.id), td(b.service), td(`${when(b.slot_start)}–${when(b.slot_end)}`), td(b.masked_id || '—'), td(words[b.status] || b.status))) : empty(5));
}

// ---- start ----

const stream = new Stream('', {
  onState: connectionBadge($('#conn')),
  // A page that has just signed in has no epoch to say hello with, so the
  // server answers with the whole overview (a resync) at once; at the very
  // sequence number loadAll just read it holds nothing new, and reading
  // everything again would only race the events that follow.
  onResync: (o) => {
    const same = readAt && o.seq === readAt;
    readAt = 0;
    // the page has caught up with the stream once this is set (tests wait for it)
    const caughtUp = () => { $('#conn').dataset.resynced = String(o.seq); };
    if (same) caughtUp();
    else loadAll().then(caughtUp, (e) => showError(describe(e)));
  },
  // On each (re)connect the missed events are replayed, but the service
  // figures come only with the next change: read them once now.
  onWelcome: () => {
    if (!overview) return;
    api('GET', 'services', { token }).then((list) => { overview.services = list; renderLive(); }, (e) => showError(describe(e)));
  },
  onEvent: (ev) => {
    document.dispatchEvent(new CustomEvent('hallq:event', { detail: ev })); // dashboard-help.js
    readAt = 0;
    applyEvent(ev);
    renderLive();
    if (ev.ticket || ev.window || ev.type === EventType.DayClosed) {
      figuresSoon();
      alertsSoon();
    }
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
  (m) => (m.role === Role.Manager || m.role === Role.Admin ? '' : '需要管理令牌 · This needs a manager or admin token'),
  async (t, m) => {
    token = t;
    me = m;
    $('#who').textContent = `${m.name} (${m.role})`;
    $('#dash').hidden = false;
    try {
      await loadAll();
    } catch (e) {
      showError(describe(e));
    }
    $('#rep-from').value = $('#rep-to').value = overview ? overview.day : '';
    if (overview) {
      $('#rep-daily').href = `/report?day=${overview.day}`;
      stream.seq = overview.seq; // resume from what was just read: events after it are applied, nothing is read twice
      readAt = overview.seq;
    }
    stream.use(token);
    document.dispatchEvent(new CustomEvent('hallq:token', { detail: token })); // dashboard-help.js
    for (const load of [loadTokens, loadUsers, loadBlacklist, loadBookings]) load().catch((e) => showError(describe(e)));
    hallConfig.start(token).catch((e) => showError(describe(e)));
  });

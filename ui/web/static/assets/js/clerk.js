// clerk.js — the window clerk's console: call, recall, start, complete,
// no-show, transfer, park and resume tickets, call a specific ticket, and
// open, pause or close the window; every action has a key.
import { $, el, fill, api, describe, since, mmss, serverNow, Stream, connectionBadge, loginForm, statusWords, channelWords, windowWords, both } from './hallq.js';
import { Action, WindowAction } from './codes.js';

let token = '';
let me = null;
let services = new Map(); // code → ServiceView
let win = null;
let current = null;
let refreshTimer = 0;

const serviceName = (code) => (services.get(code) ? both([services.get(code).name.zh, services.get(code).name.en]) : code);

function show(kind, text) {
  const node = $('#' + kind);
  node.textContent = text;
  node.hidden = !text;
}

async function run(what, fn) {
  show('error', '');
  show('info', '');
  try {
    await fn();
  } catch (e) {
    show('error', `${what}: ${describe(e)}`);
  }
  refresh();
}

// ---- actions ----

const act = (name, body) => () => {
  if (!current) return;
  const t = current;
  run(name, () => api('POST', `tickets/${t.id}/${name}`, { token, body }));
};

function callNext(ticket) {
  run('叫号 Call', async () => {
    const t = await api('POST', `windows/${me.window}/call`, { token, body: ticket ? { ticket } : undefined });
    if (!t) show('info', '暂无等候 · Nobody is waiting');
  });
}

const setWindow = (state, reason) => run('窗口 Window', () => api('POST', `windows/${me.window}/${state}`, { token, body: reason ? { reason } : undefined }));

function transfer() {
  if (!current) return;
  const select = $('#transfer-service');
  fill(select, [...services.values()].map((s) => el('option', { value: s.code, text: `${s.code} ${s.name.zh} ${s.name.en}` })));
  $('#transfer-window').value = '';
  $('#transfer-dialog').showModal();
}

$('#transfer-dialog').addEventListener('close', () => {
  if ($('#transfer-dialog').returnValue !== 'ok' || !current) return;
  const body = { service: $('#transfer-service').value };
  const w = Number($('#transfer-window').value);
  if (w > 0) body.window = w;
  act(Action.Transfer, body)();
});

$('#pause-dialog').addEventListener('close', () => {
  if ($('#pause-dialog').returnValue === 'ok') setWindow(WindowAction.Pause, $('#pause-reason').value);
});

const buttons = {
  call: { key: ['n', ' '], run: () => callNext() },
  recall: { key: ['r'], run: act(Action.Recall) },
  start: { key: ['s'], run: act(Action.Start) },
  complete: { key: ['c'], run: act(Action.Complete) },
  noshow: { key: ['x'], run: act(Action.NoShow) },
  transfer: { key: ['t'], run: transfer },
  park: { key: ['p'], run: act(Action.Park) },
  open: { key: ['o'], run: () => setWindow(WindowAction.Open) },
  pause: { key: ['b'], run: () => $('#pause-dialog').showModal() },
  close: { key: ['l'], run: () => setWindow(WindowAction.Close) },
};

for (const [id, b] of Object.entries(buttons)) $('#' + id).addEventListener('click', b.run);

document.addEventListener('keydown', (e) => {
  if (!me || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
  if (e.target.closest('input, select, textarea')) return;
  if (e.key === ' ' && e.target.closest('button')) return; // Space presses the focused button
  const hit = Object.entries(buttons).find(([, b]) => b.key.includes(e.key.toLowerCase()));
  if (!hit || $('#' + hit[0]).disabled) return;
  e.preventDefault();
  hit[1].run();
});

// ---- state ----

function render() {
  const st = current && current.status;
  const open = win && win.status === 'open';
  const enable = { call: open && !current, recall: st === 'called', start: st === 'called', complete: st === 'serving',
    noshow: st === 'called', transfer: !!current, park: !!current,
    open: win && win.status !== 'open', pause: open, close: win && win.status !== 'closed' };
  for (const [id, on] of Object.entries(enable)) $('#' + id).disabled = !on;

  $('#cur-number').textContent = current ? current.number : '—';
  $('#cur-status').textContent = current ? both(statusWords[current.status]) : '—';
  $('#cur-service').textContent = current ? serviceName(current.service) : '—';
  $('#cur-channel').textContent = current ? both(channelWords[current.channel]) + (current.transferred ? ' · 转入 transferred' : '') : '—';
  $('#cur-id').textContent = (current && current.masked_id) || '—';
  tickWaited();

  if (win) {
    const pill = $('#win-state');
    pill.textContent = both(windowWords[win.status]);
    pill.className = 'pill ' + win.status;
    $('#win-detail').textContent = `${win.name.zh} ${win.name.en} · ${win.services.map(serviceName).join('、')}` +
      (win.status === 'paused' ? ` · 原因 reason: ${win.pause_reason || '—'} · ${mmss(since(win.since))}` : '');
  }
}

function tickWaited() {
  if (!current) {
    $('#cur-waited').textContent = '—';
    return;
  }
  const end = current.called_at ? Date.parse(current.called_at) : serverNow();
  $('#cur-waited').textContent = mmss(Math.max(0, Math.floor((end - Date.parse(current.issued_at)) / 1000)));
}
setInterval(tickWaited, 1000);

function queueRow(t) {
  return el('tr', {},
    el('td', { text: t.number }),
    el('td', { text: serviceName(t.service) }),
    el('td', { text: both(channelWords[t.channel]) }),
    el('td', { class: 'num', text: mmss(since(t.queued_at)) }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `叫此号 Call ${t.number}`, onclick: () => callNext(t.id), disabled: !!current || !win || win.status !== 'open' }, '叫此号 Call')));
}

function parkedRow(t) {
  return el('tr', {},
    el('td', { text: t.number }),
    el('td', { text: serviceName(t.service) }),
    el('td', { class: 'num', text: t.called_at ? new Date(t.called_at).toLocaleTimeString('zh-CN', { hour12: false }) : '' }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `恢复 Resume ${t.number}`, disabled: !!current,
      onclick: () => run('恢复 Resume', () => api('POST', `tickets/${t.id}/resume`, { token })) }, '恢复 Resume')));
}

const emptyRow = (cols, text) => el('tr', {}, el('td', { colspan: cols, class: 'empty', text }));

async function refresh() {
  clearTimeout(refreshTimer);
  try {
    const [windows, queue, parked, mine] = await Promise.all([
      api('GET', 'windows', { token }),
      api('GET', `windows/${me.window}/queue`, { token }),
      api('GET', 'tickets', { token, query: { status: 'parked', window: me.window } }),
      api('GET', 'tickets', { token, query: { window: me.window } }),
    ]);
    win = windows.find((w) => w.number === me.window);
    current = win && win.current ? await api('GET', `tickets/${win.current}`, { token }) : null;
    fill($('#queue'), queue.length ? queue.map(queueRow) : emptyRow(5, '暂无等候 · Nobody waiting'));
    fill($('#parked'), parked.length ? parked.map(parkedRow) : emptyRow(4, '无 · None'));
    const own = mine.filter((t) => t.clerk === me.name);
    const done = own.filter((t) => t.status === 'done');
    $('#count-done').textContent = done.length;
    $('#count-noshow').textContent = own.filter((t) => t.status === 'no_show').length;
    $('#count-transfer').textContent = own.filter((t) => t.transferred && t.status !== 'done').length;
    const spans = done.filter((t) => t.called_at && t.finished_at).map((t) => (Date.parse(t.finished_at) - Date.parse(t.called_at)) / 1000);
    $('#count-mean').textContent = spans.length ? mmss(Math.round(spans.reduce((a, b) => a + b, 0) / spans.length)) : '—';
    render();
  } catch (e) {
    show('error', describe(e));
  }
}

// loadServices reads the services' names (at sign-in and after the hall's
// configuration changes).
async function loadServices() {
  try {
    services = new Map((await api('GET', 'services', { token })).map((s) => [s.code, s]));
    render();
  } catch (e) {
    show('error', describe(e));
  }
}

const later = () => {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 150);
};

const stream = new Stream('', {
  onState: connectionBadge($('#conn')),
  onResync: later,
  onEvent(ev) {
    if (ev.type === 'config.changed') loadServices();
    later();
  },
  onDenied: (message) => leave(message),
});

function leave(message) {
  stream.stop();
  me = null;
  $('#console').hidden = true;
  $('#logout').hidden = true;
  signOut(message);
}

const signOut = loginForm($('#login'), 'clerk',
  (m) => (m.role === 'clerk' && m.window ? '' : '这不是窗口令牌 · This is not a clerk token bound to a window'),
  async (t, m) => {
    token = t;
    me = m;
    $('#title').textContent = `${me.window} 号窗口工作台`;
    $('#who').textContent = me.name;
    $('#console').hidden = false;
    $('#logout').hidden = false;
    await loadServices();
    stream.use(token);
    refresh();
  });

$('#logout').addEventListener('click', () => leave(''));

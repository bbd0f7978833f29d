// clerk.js — the window clerk's console: call (next or by number), recall,
// start, complete (and call the next one), no-show, requeue a late citizen,
// transfer, park, resume and cancel tickets, and open, pause or close the
// window; every action has a key (single-letter keys can be turned off).
//
// The page keeps the hall in a HallState fed by the event stream; it asks
// the server only for what events cannot tell it: the window's tickets
// once after a resync, and the window's queue order when a queue changes.
import { $, el, fill, api, since, mmss, serverNow, Stream, HallState, connectionBadge, accountForm, sayError, statusWords, channelWords, windowWords, both, hallTime } from './hallq.js';
import { Action, ClientErrorCode, ErrorCode, Role, TicketStatus, WindowAction, WindowStatus } from './codes.js';

const hs = new HallState();
let token = '';
let me = null;
let queue = []; // this window's callable tickets, in call order (from the server)
let busy = false; // an action is on its way: a key pressed meanwhile waits for its result
let pendingKey = '';
let errorIsNetwork = false;

const win = () => (me ? hs.windows.get(me.window) : null);
const current = () => {
  const w = win();
  return w && w.current ? hs.tickets.get(w.current) || null : null;
};
const serviceName = (code) => {
  const s = hs.service(code);
  return s ? both([s.name.zh, s.name.en]) : code;
};

export const pauseWords = {
  break: ['短暂休息', 'Short break'],
  meeting: ['会议', 'Meeting'],
  system: ['系统故障', 'System problem'],
  consult: ['业务咨询', 'Consulting colleagues'],
  other: ['其他', 'Other'],
};

function show(kind, text) {
  const node = $('#' + kind);
  node.textContent = text;
  node.hidden = !text;
  if (kind === 'error') errorIsNetwork = false;
}

function showError(what, e) {
  if (e && e.code === ErrorCode.Unauthorized && me) {
    leave(both(sayError(e))); // the session ended (signed out elsewhere, expired, revoked)
    return;
  }
  show('error', `${what}：${both(sayError(e))}`);
  errorIsNetwork = !e || e.code === ClientErrorCode.Network || e.code === undefined;
}

async function run(what, fn) {
  show('error', '');
  show('info', '');
  busy = true;
  sentSeq = hs.seq;
  try {
    await fn();
  } catch (e) {
    showError(what, e);
  } finally {
    busy = false;
    render();
    if (pendingKey) {
      const k = pendingKey;
      pendingKey = '';
      onKey(k);
    }
  }
}

// took applies what the server answered to an action at once (its event
// follows and says the same), so the next key acts on the new state.
// sentSeq is the last event seen when the running action was sent: an
// event after it about the same ticket is at least as new as the answer
// (the action's own event, or a later change made elsewhere), so the
// answer must not overwrite it.
let sentSeq = 0;

function took(t) {
  if (!t || !t.id) return;
  const known = hs.tickets.get(t.id);
  if (known && known.seq > sentSeq) return;
  hs.remember([t], true);
  const w = win();
  if (!w || t.window !== me.window) return;
  if (t.status === TicketStatus.Called || t.status === TicketStatus.Serving) hs.windows.set(w.number, { ...w, current: t.id });
  else if (w.current === t.id) hs.windows.set(w.number, { ...w, current: '' });
}

// ---- what is possible now, and why not ----

const canCompleteCalled = () => !!hs.rules.complete_from_called;

// Each action: its key, whether it is possible now ('' = yes, else why
// not, in words), and what it does.
function why(id) {
  const w = win();
  const t = current();
  const st = t && t.status;
  const open = w && w.status === WindowStatus.Open;
  const need = (ok, zh, en) => (ok ? '' : `${zh} · ${en}`);
  const notOpen = need(open, '窗口未开放，请先开始服务（O）', 'The window is not open: open it first (O)');
  const nobody = need(!t, `请先办结、挂起或转移 ${t ? t.number : ''}`, 'Finish, park or transfer the current ticket first');
  const called = need(st === TicketStatus.Called, '没有已叫号、未开始办理的号码', 'No ticket has been called and not yet started');
  const completable = st === TicketStatus.Serving || (st === TicketStatus.Called && canCompleteCalled());
  const complete = need(completable, st === TicketStatus.Called ? '请先开始办理（S）' : '没有正在办理的号码',
    st === TicketStatus.Called ? 'Start the service first (S)' : 'No ticket is being served');
  switch (id) {
    case 'call':
    case 'callno':
      return notOpen || nobody;
    case 'recall':
    case 'start':
    case 'noshow':
      return called;
    case 'complete':
      return complete;
    case 'completenext':
      return complete || notOpen;
    case 'transfer':
      return need(t, '没有当前号码可转移', 'No current ticket to transfer');
    case 'park':
      return need(t, '没有当前号码可挂起', 'No current ticket to park');
    case 'postpone': // 暂离: the called citizen is not ready; back a few places, once
      return called || need(!t.postponed, `${t.number} 已暂离过一次`, `${t.number} was already postponed once`);
    case 'cancel':
      return need(st === TicketStatus.Called, st === TicketStatus.Serving ? '正在办理的号码不能取消，请办结或挂起' : '没有已叫号的号码可取消',
        st === TicketStatus.Serving ? 'A ticket being served cannot be cancelled: complete or park it' : 'No called ticket to cancel');
    case 'requeue':
      return need(missed().length > 0, '没有可重新排队的过号号码', 'No missed ticket can be requeued now');
    case 'open':
      return need(w && w.status !== WindowStatus.Open, '窗口已经开放', 'The window is already open');
    case 'pause':
      return need(open, '窗口未开放，不能暂停', 'The window is not open, so it cannot pause');
    case 'close':
      return need(w && w.status !== WindowStatus.Closed, '窗口已经关闭', 'The window is already closed');
  }
  return '';
}

// ---- actions ----

const act = (what, name, t, body) => run(what, async () => took(await api('POST', `tickets/${t.id}/${name}`, { token, body })));
const onCurrent = (what, name, body) => () => {
  const t = current();
  if (t) act(what, name, t, body);
};

async function callNext(ticket) {
  const t = await api('POST', `windows/${me.window}/call`, { token, body: ticket ? { ticket } : undefined });
  if (!t) show('info', '暂无等候 · Nobody is waiting');
  else took(t);
}

async function completeAndNext() {
  const t = current();
  if (!t) return;
  await run('办结 Complete', async () => {
    took(await api('POST', `tickets/${t.id}/complete`, { token }));
    await callNext();
  });
}

// normalNumber turns what a clerk types ("a23", " A023 ") into a ticket
// number with the hall's digits ("A023").
function normalNumber(s) {
  const m = /^([A-Za-z])\s*0*(\d+)$/.exec(s.trim());
  if (!m) return '';
  return m[1].toUpperCase() + m[2].padStart(hs.rules.number_digits || 3, '0');
}

async function callNumber(typed) {
  const number = normalNumber(typed);
  if (!number) {
    show('error', `按号叫 Call a number：号码应为字母加数字，如 A023 · A number is a letter and digits, like A023`);
    return;
  }
  await run('按号叫 Call a number', async () => {
    const waiting = await api('GET', 'tickets', { token, query: { status: TicketStatus.Waiting } });
    const t = waiting.find((w) => w.number === number);
    if (t) await callNext(t.id);
    else show('error', `按号叫 Call a number：没有等候中的 ${number} 号 · No ticket ${number} is waiting`);
  });
}

// missed are this window's no-show tickets still within the grace period,
// latest first.
function missed() {
  const grace = goDuration(hs.rules.no_show_grace);
  return [...hs.tickets.values()]
    .filter((t) => me && t.window === me.window && t.status === TicketStatus.NoShow && t.finished_at && serverNow() - Date.parse(t.finished_at) <= grace)
    .sort((a, b) => Date.parse(b.finished_at) - Date.parse(a.finished_at));
}

// goDuration reads a Go duration ("30m0s", "1h30m0s") into milliseconds.
function goDuration(s) {
  let ms = 0;
  for (const [, n, unit] of String(s || '').matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) ms += Number(n) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[unit];
  return ms;
}

function openTransfer() {
  const t = current();
  if (!t) return;
  $('#transfer-number').textContent = t.number;
  fill($('#transfer-service'), hs.serviceList.map((s) => el('option', { value: s.code, selected: s.code === t.service,
    text: `${s.code} ${s.name.zh} ${s.name.en} · 等候 ${s.waiting} 人 waiting` })));
  transferWindows();
  openDialog($('#transfer-dialog'));
}

// transferWindows lists the windows that serve the chosen service, with
// their state, so the clerk sends the citizen where someone is working.
function transferWindows() {
  const code = $('#transfer-service').value;
  const ws = [...hs.windows.values()].filter((w) => w.services.includes(code));
  fill($('#transfer-window'), el('option', { value: '0', text: '任一窗口 Any window' }),
    ws.map((w) => el('option', { value: String(w.number), text: `${w.number} 号 ${w.name.zh} · ${both(windowWords[w.status])}` +
      (w.status === WindowStatus.Paused && w.pause_reason && pauseWords[w.pause_reason] ? `（${pauseWords[w.pause_reason][0]}）` : '') })));
}
$('#transfer-service').addEventListener('change', transferWindows);

$('#transfer-dialog').addEventListener('close', () => {
  const t = current();
  if ($('#transfer-dialog').returnValue !== 'ok' || !t) return;
  const body = { service: $('#transfer-service').value };
  const w = Number($('#transfer-window').value);
  if (w > 0) body.window = w;
  act('转移 Transfer', Action.Transfer, t, body);
});

fill($('#pause-reason'), Object.entries(pauseWords).map(([v, [zh, en]]) => el('option', { value: v, text: `${zh} ${en}` })));
$('#pause-dialog').addEventListener('close', () => {
  if ($('#pause-dialog').returnValue === 'ok') setWindow(WindowAction.Pause, $('#pause-reason').value);
});

$('#callno-dialog').addEventListener('close', () => {
  if ($('#callno-dialog').returnValue === 'ok') callNumber($('#callno-number').value);
});

$('#cancel-dialog').addEventListener('close', () => {
  const t = current();
  if ($('#cancel-dialog').returnValue === 'ok' && t) act('取消 Cancel', Action.Cancel, t, { reason: 'clerk' });
});

// Enter submits a dialog (also from its select), the same as its main button;
// in the cancel dialog Enter presses the focused button, "Keep" at first.
for (const id of ['transfer-dialog', 'pause-dialog', 'callno-dialog']) {
  const d = $('#' + id);
  d.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.target.closest('button')) return;
    e.preventDefault();
    d.querySelector('form').requestSubmit(d.querySelector('button[value="ok"]'));
  });
}

// openDialog shows a dialog. The focus leaves the button that opened it
// first: closing a dialog gives the focus back to that button, which must
// not then take the Enter that submitted the dialog as a press of its own.
function openDialog(d) {
  if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  d.showModal();
}

// visitConsole is what the visit's matters panel (clerkvisit.js) uses of the console.
export const visitConsole = { current, token: () => token, act, openDialog, onRender: [] };

const setWindow = (state, reason) => run('窗口 Window', () => api('POST', `windows/${me.window}/${state}`, { token, body: reason ? { reason } : undefined }));

const buttons = {
  call: { key: ['n', ' '], run: () => run('叫号 Call', () => callNext()) },
  // by key, it opens when the key is let go, so the "g" is not typed into its field
  callno: { key: ['g'], onKeyUp: true, run: () => { $('#callno-number').value = ''; openDialog($('#callno-dialog')); } },
  recall: { key: ['r'], run: onCurrent('重呼 Recall', Action.Recall) },
  start: { key: ['s'], run: onCurrent('开始办理 Start', Action.Start) },
  complete: { key: ['c'], run: onCurrent('办结 Complete', Action.Complete) },
  completenext: { key: ['d'], run: completeAndNext },
  noshow: { key: ['x'], run: onCurrent('过号 No-show', Action.NoShow) },
  requeue: { key: ['q'], run: () => { const [t] = missed(); if (t) act('过号重排 Requeue', Action.Requeue, t); } },
  transfer: { key: ['t'], run: openTransfer },
  park: { key: ['p'], run: onCurrent('挂起 Park', Action.Park) },
  postpone: { key: ['w'], run: () => { const t = current(); if (t) run('暂离 Postpone', async () => took(await api('POST', `tickets/${t.id}/postpone`, { token }))); } },
  cancel: { key: ['k'], run: () => { const t = current(); if (t) { $('#cancel-number').textContent = t.number; openDialog($('#cancel-dialog')); } } },
  open: { key: ['o'], run: () => setWindow(WindowAction.Open) },
  pause: { key: ['b'], run: () => openDialog($('#pause-dialog')) },
  close: { key: ['l'], run: () => setWindow(WindowAction.Close) },
};

for (const [id, b] of Object.entries(buttons)) $('#' + id).addEventListener('click', b.run);

// Single-letter shortcuts (WCAG 2.1.4): on by default, a checkbox turns them
// off for this browser; the buttons always work.
const keysOn = () => localStorage.getItem('hallq.clerk.keys') !== 'off';
$('#keys').checked = keysOn();
$('#keys').addEventListener('change', () => localStorage.setItem('hallq.clerk.keys', $('#keys').checked ? 'on' : 'off'));

document.addEventListener('keydown', (e) => {
  if (!me || !keysOn() || e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
  if (e.target.closest('input, select, textarea, summary')) return;
  if (e.key === ' ' && e.target.closest('button')) return; // Space presses the focused button
  if (!keyAction(e.key)) return;
  e.preventDefault();
  if (busy) pendingKey = e.key;
  else onKey(e.key);
});

const keyAction = (key) => Object.entries(buttons).find(([, b]) => b.key.includes(key.toLowerCase()));

function onKey(key) {
  const [id, b] = keyAction(key);
  const no = why(id);
  if (no) {
    show('error', '');
    show('info', `${$('#' + id).firstChild.textContent.trim()}：${no}`);
    return;
  }
  show('info', '');
  if (b.onKeyUp && held.has(key.toLowerCase())) runOnKeyUp = key.toLowerCase();
  else b.run();
}

// held are the keys down now; a key whose action waited for a busy moment
// may have been let go already.
const held = new Set();
let runOnKeyUp = '';
document.addEventListener('keydown', (e) => held.add(e.key.toLowerCase()), true);
document.addEventListener('keyup', (e) => {
  held.delete(e.key.toLowerCase());
  if (!runOnKeyUp || e.key.toLowerCase() !== runOnKeyUp) return;
  runOnKeyUp = '';
  keyAction(e.key)[1].run();
});
addEventListener('blur', () => held.clear());

// ---- drawing ----

function render() {
  const w = win();
  const t = current();
  for (const id of Object.keys(buttons)) {
    const no = why(id);
    const b = $('#' + id);
    b.disabled = !!no;
    b.title = no;
  }

  $('#cur-number').textContent = t ? t.number : '—';
  $('#cur-status').textContent = t ? both(statusWords[t.status]) : '—';
  $('#cur-service').textContent = t ? serviceName(t.service) : '—';
  $('#cur-channel').textContent = t ? both(channelWords[t.channel]) + (t.transferred ? ' · 转入 transferred' : '') : '—';
  $('#cur-id').textContent = (t && t.masked_id) || '—';
  tickWaited();

  if (w) {
    const pill = $('#win-state');
    pill.textContent = both(windowWords[w.status]);
    pill.className = 'pill ' + w.status;
    const reason = pauseWords[w.pause_reason] ? both(pauseWords[w.pause_reason]) : w.pause_reason || '—';
    $('#win-detail').textContent = `${w.name.zh} ${w.name.en} · ${w.services.map(serviceName).join('、')}` +
      (w.status === WindowStatus.Paused ? ` · 原因 Reason: ${reason} · ${mmss(since(w.since))}` : '');
  }

  const free = !t && w && w.status === WindowStatus.Open;
  // a ticket an event has since taken out of the queue is not shown in it
  const queue = waitingQueue();
  fill($('#queue'), queue.length ? queue.map((q) => queueRow(q, free)) : emptyRow(5, '暂无等候 · Nobody waiting'));
  $('#queue-count').textContent = `${queue.length} 人 waiting`;
  const mine = [...hs.tickets.values()].filter((x) => me && x.window === me.window);
  const parked = mine.filter((x) => x.status === TicketStatus.Parked).sort((a, b) => Date.parse(a.parked_at || 0) - Date.parse(b.parked_at || 0));
  fill($('#parked'), parked.length ? parked.map((p) => parkedRow(p, !t)) : emptyRow(4, '无 · None'));
  const late = missed();
  fill($('#missed'), late.length ? late.map(missedRow) : emptyRow(3, '无 · None'));

  const own = mine.filter((x) => x.clerk === me.name);
  const done = own.filter((x) => x.status === TicketStatus.Done);
  $('#count-done').textContent = done.length;
  $('#count-noshow').textContent = own.filter((x) => x.status === TicketStatus.NoShow).length;
  $('#count-transfer').textContent = own.filter((x) => x.transferred && x.status !== TicketStatus.Done).length;
  const spans = done.filter((x) => x.called_at && x.finished_at).map((x) => (Date.parse(x.finished_at) - Date.parse(x.called_at)) / 1000);
  $('#count-mean').textContent = spans.length ? mmss(Math.round(spans.reduce((a, b) => a + b, 0) / spans.length)) : '—';
  for (const f of visitConsole.onRender) f();
}

function tickWaited() {
  const t = current();
  if (!t) {
    $('#cur-waited').textContent = '—';
    return;
  }
  const end = t.called_at ? Date.parse(t.called_at) : serverNow();
  $('#cur-waited').textContent = mmss(Math.max(0, Math.floor((end - Date.parse(t.issued_at)) / 1000)));
}
setInterval(tickWaited, 1000);

const localTime = (at) => hallTime(at, { hour: '2-digit', minute: '2-digit', second: '2-digit' }); // the hall's zone (HallState sets it)

function queueRow(t, free) {
  return el('tr', { 'data-ticket': t.number },
    el('td', { text: t.number }),
    el('td', { text: serviceName(t.service) }),
    el('td', { text: both(channelWords[t.channel]) + (t.postponed ? ' · 暂离 Postponed' : '') }),
    el('td', { class: 'num', text: mmss(since(t.queued_at)) }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `叫此号 Call ${t.number}`, disabled: !free,
      onclick: () => run('叫号 Call', () => callNext(t.id)) }, '叫此号 Call')));
}

function parkedRow(t, free) {
  return el('tr', { 'data-ticket': t.number },
    el('td', { text: t.number }),
    el('td', { text: serviceName(t.service) }),
    el('td', { class: 'num', text: localTime(t.parked_at) }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `恢复 Resume ${t.number}`, disabled: !free,
      onclick: () => act('恢复 Resume', Action.Resume, t) }, '恢复 Resume')));
}

function missedRow(t) {
  return el('tr', { 'data-ticket': t.number },
    el('td', { text: t.number }),
    el('td', { class: 'num', text: localTime(t.finished_at) }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `重新排队 Requeue ${t.number}`,
      onclick: () => act('过号重排 Requeue', Action.Requeue, t) }, '重新排队 Requeue')));
}

const emptyRow = (cols, text) => el('tr', {}, el('td', { colspan: cols, class: 'empty', text }));

// ---- following the hall ----

function waitingQueue() {
  return queue.filter((q) => {
    const known = hs.tickets.get(q.id);
    return !known || known.status === TicketStatus.Waiting;
  });
}

let queueTimer = 0;
let queueAsked = 0;
let queueShown = 0;
// loadQueue asks for the window's queue order (the server's rule, with
// priorities and aging); events say that it changed, not the new order.
// An answer older than one already shown is dropped.
function loadQueue() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(async () => {
    const n = ++queueAsked;
    try {
      const q = await api('GET', `windows/${me.window}/queue`, { token });
      if (n < queueShown) return;
      queueShown = n;
      queue = q;
      render();
    } catch (e) {
      showError('队列 Queue', e);
    }
  }, 60);
}

// touchesQueue: the event moved a ticket into or out of a queue this window calls from.
function touchesQueue(change) {
  const w = win();
  if (!w) return false;
  const serves = (t) => t && w.services.includes(t.service);
  const { ticket: t, prev } = change;
  return (serves(t) && t.status === TicketStatus.Waiting) || (serves(prev) && prev.status === TicketStatus.Waiting) ||
    (serves(t) && (!prev || queue.some((q) => q.id === t.id)));
}

async function resync(o) {
  hs.reset(o);
  try {
    const [mine, q] = await Promise.all([
      api('GET', 'tickets', { token, query: { window: me.window } }),
      api('GET', `windows/${me.window}/queue`, { token }),
    ]);
    hs.remember(mine);
    queue = q;
    const w = win();
    if (w && w.current && !hs.tickets.has(w.current)) hs.remember([await api('GET', `tickets/${w.current}`, { token })]);
  } catch (e) {
    showError('读取 Loading', e);
  }
  render();
}

const badge = connectionBadge($('#conn'));
const stream = new Stream('', {
  onState(state) {
    badge(state);
    if (state === 'open' && errorIsNetwork) show('error', ''); // the server is back: the old "cannot reach" is no longer true
  },
  onResync: resync,
  onEvent(ev) {
    const change = hs.apply(ev);
    if (change.config || touchesQueue(change)) loadQueue();
    render();
  },
  onServices(list) {
    hs.services(list);
    if ($('#transfer-dialog').open) return; // keep the clerk's choice steady
  },
  onDenied: (message) => leave(message),
});

function leave(message) {
  stream.stop();
  me = null;
  $('#console').hidden = true;
  $('#logout').hidden = true;
  $('#who').textContent = '';
  return signOut(message);
}

const signOut = accountForm($('#login'), 'clerk',
  (m) => (m.role === Role.Clerk && m.window ? '' : '这个账号不是窗口工作人员 · This account is not a clerk of a window'),
  (t, m) => {
    token = t;
    me = m;
    $('#title').textContent = `${me.window} 号窗口工作台`;
    $('#who').textContent = me.name;
    $('#console').hidden = false;
    $('#logout').hidden = false;
    stream.use(token);
  });

$('#logout').addEventListener('click', () => leave(''));

// hallq.js — what every page shares: the event stream (one websocket,
// reconnecting and resuming), REST calls, token storage, the server clock,
// and small DOM helpers that never parse data as HTML.

import { ClientErrorCode, ErrorCode, EventType, FrameType, TicketStatus, WindowStatus } from './codes.js';

// ---- DOM ----

/** el builds an element; children may be strings (set as text) or nodes. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** fill replaces the children of a node. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

// ---- tokens ----

/**
 * Tokens: staff pages keep theirs in sessionStorage (gone when the tab
 * closes); display screens take `?token=` once, keep it in localStorage so
 * a TV that reboots comes back by itself, and drop it from the address bar.
 */
export const tokens = {
  get: (key, store = sessionStorage) => store.getItem('hallq.token.' + key) || '',
  set: (key, value, store = sessionStorage) => store.setItem('hallq.token.' + key, value),
  clear: (key, store = sessionStorage) => store.removeItem('hallq.token.' + key),
  /** fromAddress moves a `?token=` in the address into localStorage under key. */
  fromAddress(key) {
    const url = new URL(location.href);
    const given = url.searchParams.get('token');
    if (!given) return;
    tokens.set(key, given, localStorage);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  },
};

// ---- REST ----

/** APIError carries the server's {"error":{code,reason,message}}. */
export class APIError extends Error {
  constructor(status, code, reason, message) {
    super(message);
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

const plainWords = {
  invalid: '输入有误 · Some input is not valid',
  unauthorized: '登录已失效或令牌无效 · The token is not valid',
  forbidden: '没有权限 · Not allowed for this token',
  not_found: '找不到 · Not found',
  conflict: '当前状态不允许此操作 · Not possible right now',
  closed: '大厅未在服务时间 · The hall is closed now',
  quota_exceeded: '已达限额 · Quota reached',
  unavailable: '服务器暂时不可用 · The server is unavailable',
  network: '无法连接服务器 · Cannot reach the server',
};

/** describe turns an error into words for people: a headline and the server's detail. */
export function describe(err) {
  if (err instanceof APIError) {
    const head = plainWords[err.code] || '操作失败 · The request failed';
    return err.message ? `${head}: ${err.message}` : head;
  }
  return plainWords.network;
}

// idemKey makes a random Idempotency-Key (crypto.randomUUID needs HTTPS;
// a hall LAN is often plain HTTP).
function idemKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * api calls the REST API. It returns the parsed JSON (null for 204) and
 * throws APIError with the server's code and message otherwise.
 */
export async function api(method, path, { token = '', body, query } = {}) {
  const url = new URL('/api/v1/' + path.replace(/^\//, ''), location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== '' && v !== undefined) url.searchParams.set(k, v);
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['Idempotency-Key'] = idemKey();
  let res;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new APIError(0, ClientErrorCode.Network, '', '');
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) {
    const data = type.includes('json') ? await res.json().catch(() => null) : null;
    const e = (data && data.error) || {};
    throw new APIError(res.status, e.code || ErrorCode.Unavailable, e.reason || '', e.message || res.statusText);
  }
  return type.includes('json') ? res.json() : res.text();
}

// ---- clock ----

let clockOffset = 0;

/**
 * serverNow is the hall server's time as best known: the browser clock
 * corrected by what live events say (an event's `at` is the server's "now"
 * when it arrives live). Durations shown on pages use it.
 */
export const serverNow = () => Date.now() + clockOffset;

function learnClock(at) {
  const t = Date.parse(at);
  if (!Number.isNaN(t)) clockOffset = t - Date.now();
}

// ---- the hall's zone ----
// Times shown and typed on every page are the hall's wall time (config
// hall.time_zone), never the browser's zone: a manager's laptop set to
// another zone, or a citizen's phone abroad, still sees the hall's 09:30.
// The pure helpers take the zone; the hall's pages set it once they know
// the hall (setHallZone) and use hallTime and friends.

/** zoneParts is the wall time of the instant ms in zone, as numbers. */
function zoneParts(ms, zone) {
  const f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: +p.year, mo: +p.month, d: +p.day, h: +p.hour % 24, mi: +p.minute, s: +p.second };
}

/** zoneTime formats at (RFC 3339, ms or Date) in zone: "09:30" by default, opts as Intl's. */
export function zoneTime(at, zone, opts = { hour: '2-digit', minute: '2-digit' }) {
  if (at === '' || at === null || at === undefined) return '';
  return new Date(at).toLocaleString('zh-CN', { timeZone: zone, hour12: false, ...opts });
}

/** zoneDay is the calendar day "2026-11-30" of at (default now) in zone. */
export function zoneDay(zone, at = Date.now()) {
  const p = zoneParts(new Date(at).getTime(), zone);
  return `${String(p.y).padStart(4, '0')}-${String(p.mo).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`;
}

/**
 * zoneInstant turns a wall time typed in zone (a datetime-local value,
 * "2026-11-30T09:30") into an RFC 3339 instant (UTC), or '' for an empty
 * or unreadable value.
 */
export function zoneInstant(local, zone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local || '');
  if (!m) return '';
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
  let t = wall;
  for (let i = 0; i < 3; i++) { // the zone's offset at the instant itself (twice settles a DST change)
    const p = zoneParts(t, zone);
    t = wall - (Date.UTC(p.y, p.mo - 1, p.d, p.h, p.mi, p.s) - t);
  }
  return new Date(t).toISOString();
}

let hallZone = 'Asia/Shanghai'; // the configuration's default until the page knows the hall

/** setHallZone records the hall's zone (config hall.time_zone) for hallTime and friends. */
export function setHallZone(zone) {
  if (zone) hallZone = zone;
}

/** hallTime formats at in the hall's zone ("09:30"; opts as Intl's). */
export const hallTime = (at, opts) => zoneTime(at, hallZone, opts);

/** hallDay is the hall's calendar day of at (default now), "2026-11-30". */
export const hallDay = (at) => zoneDay(hallZone, at);

/** hallInstant is a wall time typed in the hall (datetime-local) as an RFC 3339 instant. */
export const hallInstant = (local) => zoneInstant(local, hallZone);

/** since returns whole seconds from an RFC 3339 time to the server's now. */
export function since(at) {
  if (!at) return 0;
  return Math.max(0, Math.floor((serverNow() - Date.parse(at)) / 1000));
}

/** mmss formats seconds as m:ss (h:mm:ss past an hour); negative is unknown. */
export function mmss(s) {
  if (s < 0) return '—';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

// ---- the event stream ----

/**
 * Stream is the one websocket connection of a page. Its state machine has
 * four states and a single socket slot, so a page can never hold two
 * connections:
 *
 *   idle ──start──▶ connecting ──welcome──▶ open
 *                      ▲   │                  │
 *                 timer│   └──close──▶ waiting ◀──close──┘
 *                      └──────────────────┘
 *   any ──stop / auth refused──▶ stopped
 *
 * After a drop it waits an exponential back-off with jitter (0.5 s doubling
 * to 15 s, each scaled by a random 50–100 %), then says hello with the last
 * sequence number it applied; the server replays what was missed or sends
 * a resync (the whole overview). Events at or below the last applied
 * sequence number are dropped, so nothing is applied — or announced — twice.
 *
 * Handlers: onEvent(ev, {live, replay}), onServices(list), onResync(overview),
 * onState(state), onDenied(message). `replay` marks events the server sends
 * as catch-up after a reconnect; `live` ones happen now.
 */
export class Stream {
  constructor(token, handlers = {}) {
    this.token = token;
    this.h = handlers;
    this.state = 'idle';
    this.ws = null;
    this.seq = 0;
    this.caughtUpTo = 0;
    this.attempt = 0;
    this.timer = 0;
    addEventListener('online', () => this.state === 'waiting' && this.retryNow());
  }

  start() {
    if (this.state === 'idle') this.connect();
  }

  /** use (re)starts the stream with a token, e.g. after signing in again. */
  use(token) {
    this.token = token;
    if (this.state === 'stopped') this.state = 'idle';
    this.start();
  }

  stop() {
    this.set('stopped');
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    this.ws = null;
  }

  retryNow() {
    clearTimeout(this.timer);
    this.connect();
  }

  set(state) {
    this.state = state;
    if (this.h.onState) this.h.onState(state);
  }

  connect() {
    if (this.ws || this.state === 'stopped') return;
    this.set('connecting');
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
    this.ws = ws;
    // the epoch names the store incarnation this.seq counts in: after a
    // restore from a backup the server answers a resume with a resync
    ws.onopen = () => ws.send(JSON.stringify({ type: FrameType.Hello, token: this.token, last_seq: this.seq, epoch: this.epoch || '' }));
    ws.onmessage = (m) => {
      if (this.ws === ws) this.frame(JSON.parse(m.data));
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.state === 'stopped') return;
      this.set('waiting');
      const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
      this.attempt = Math.min(this.attempt + 1, 10);
      this.timer = setTimeout(() => this.connect(), delay);
    };
  }

  frame(f) {
    switch (f.type) {
      case FrameType.Welcome:
        this.attempt = 0;
        this.caughtUpTo = f.seq || 0;
        this.epoch = f.epoch || '';
        this.set('open');
        if (this.h.onWelcome) this.h.onWelcome(f);
        break;
      case FrameType.Event: {
        const ev = f.event;
        if (ev.seq <= this.seq) return; // already applied: a replay after a reconnect
        this.seq = ev.seq;
        const replay = ev.seq <= this.caughtUpTo;
        if (!replay) learnClock(ev.at);
        if (this.h.onEvent) this.h.onEvent(ev, { live: !replay, replay });
        break;
      }
      case FrameType.Resync:
        this.seq = f.overview.seq;
        if (this.h.onResync) this.h.onResync(f.overview);
        break;
      case FrameType.Services:
        if (this.h.onServices) this.h.onServices(f.services);
        break;
      case FrameType.Error:
        if (f.error && (f.error.code === ErrorCode.Unauthorized || f.error.code === ErrorCode.Forbidden)) {
          this.stop();
          if (this.h.onDenied) this.h.onDenied(f.error.message);
        }
        break;
    }
  }
}

// ---- shared words ----

export const statusWords = {
  waiting: ['等候中', 'Waiting'],
  called: ['已叫号', 'Called'],
  serving: ['办理中', 'Being served'],
  done: ['已办结', 'Done'],
  no_show: ['过号', 'Missed'],
  parked: ['挂起', 'On hold'],
  cancelled: ['已取消', 'Cancelled'],
  expired: ['未办结', 'Expired'],
};

export const channelWords = {
  walk_in: ['现场取号', 'Walk-in'],
  booking: ['网上预约', 'Booking'],
  remote: ['线上取号', 'Remote'],
  priority: ['绿色通道', 'Priority'],
};

export const windowWords = {
  open: ['服务中', 'Open'],
  paused: ['暂停服务', 'Paused'],
  closed: ['已关闭', 'Closed'],
};

/** both joins a [zh, en] pair for bilingual labels. */
export const both = (pair) => (pair ? `${pair[0]} ${pair[1]}` : '');

/** connectionBadge keeps a small status element in step with a Stream. */
export function connectionBadge(node) {
  const words = {
    connecting: '连接中… Connecting…',
    open: '已连接 Live',
    waiting: '连接中断，正在重连 · Reconnecting…',
    stopped: '未连接 Not connected',
  };
  return (state) => {
    node.textContent = words[state] || '';
    node.dataset.state = state;
  };
}

/**
 * loginForm wires a token form. A saved token (in store under key) is tried
 * first; otherwise the form asks for one. Each token is checked with
 * GET /me and accept(me), which returns '' or why the token does not fit
 * this page; then done(token, me) runs. While the server cannot be reached
 * a saved token is kept and tried again, so a screen that boots before the
 * server still comes up by itself. It returns signOut(message), which
 * forgets the token and shows the form again.
 */
export function loginForm(form, key, accept, done, store = sessionStorage) {
  const input = form.querySelector('input');
  const msg = form.querySelector('.form-error');
  const signOut = (message = '') => {
    tokens.clear(key, store);
    form.hidden = false;
    msg.textContent = message;
    input.value = '';
    input.focus();
  };
  const tryToken = async (token, saved) => {
    try {
      const me = await api('GET', 'me', { token });
      const bad = accept(me);
      if (bad) throw new APIError(403, ErrorCode.Forbidden, '', bad);
      tokens.set(key, token, store);
      form.hidden = true;
      done(token, me);
    } catch (e) {
      if (saved && (e.code === ClientErrorCode.Network || e.code === ErrorCode.Unavailable)) {
        setTimeout(() => tryToken(token, true), 3000);
        return;
      }
      signOut(saved ? '' : describe(e));
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    msg.textContent = '';
    tryToken(input.value.trim(), false);
  });
  const saved = tokens.get(key, store);
  if (saved) tryToken(saved, true);
  else signOut();
  return signOut;
}

// ---- applying events ----

/**
 * HallState is a page's copy of the live hall, kept by applying what the
 * stream delivers instead of asking the server again: reset(overview) on a
 * resync, apply(event) for each event, services(list) for the periodic
 * figures. It holds the hall, the rules, the services (with their waiting
 * counts), the windows and every ticket seen today (the newest snapshot of
 * each). apply returns what changed, so a page redraws only that:
 *   { ticket, prev, window, config, day }
 * where prev is the ticket's snapshot before the event (undefined if the
 * page had not seen it). The board, the window strip and the clerk console
 * all keep their state here.
 */
export class HallState {
  constructor() {
    this.reset({ seq: 0, day: '', hall: { name: { zh: '', en: '' } }, rules: {}, services: [], windows: [], calls: [] });
  }

  reset(o) {
    this.seq = o.seq;
    this.day = o.day;
    this.hall = o.hall;
    setHallZone(o.hall && o.hall.time_zone); // times on the page are the hall's
    this.rules = o.rules || {};
    this.serviceList = o.services || [];
    this.windows = new Map((o.windows || []).map((w) => [w.number, w]));
    this.tickets = new Map((o.calls || []).map((t) => [t.id, t]));
  }

  /** services takes the server's periodic list of services and their figures. */
  services(list) {
    this.serviceList = list;
  }

  service(code) {
    return this.serviceList.find((s) => s.code === code);
  }

  /**
   * remember adds tickets read over REST (e.g. a window's parked ones); a
   * snapshot already known from an event is kept, unless fresh says the
   * REST answer is newer (the reply to an action just taken).
   */
  remember(list, fresh = false) {
    for (const t of list) {
      const known = this.tickets.get(t.id);
      if (!known || !known.seq) this.tickets.set(t.id, t);
      else if (fresh) this.tickets.set(t.id, { ...t, seq: known.seq });
    }
  }

  apply(ev) {
    this.seq = Math.max(this.seq, ev.seq);
    const change = {};
    if (ev.ticket) {
      change.prev = this.tickets.get(ev.ticket.id);
      change.ticket = { ...ev.ticket, seq: ev.seq, event: ev.type, event_at: ev.at };
      this.tickets.set(ev.ticket.id, change.ticket);
    }
    if (ev.window) {
      this.windows.set(ev.window.number, ev.window);
      change.window = ev.window;
    }
    if (ev.type === EventType.ConfigChanged && ev.config) {
      const c = ev.config;
      this.hall = c.hall;
      setHallZone(c.hall && c.hall.time_zone);
      this.rules = c.rules || this.rules;
      const names = new Map(c.services.map((s) => [s.code, s.name]));
      this.serviceList = c.services.map((s) => ({ waiting: 0, ...this.service(s.code), code: s.code, name: names.get(s.code) }));
      const windows = new Map();
      for (const wc of c.windows) {
        // a renamed window keeps its state; a new one starts closed
        windows.set(wc.number, { status: WindowStatus.Closed, ...this.windows.get(wc.number), number: wc.number, name: wc.name, services: wc.services });
      }
      this.windows = windows;
      change.config = c;
    }
    if (ev.type === EventType.DayClosed) {
      this.tickets = new Map();
      change.day = true;
    }
    return change;
  }

  /** calls are the tickets last called, newest first, that are still called, served or done. */
  calls(n = 20) {
    return [...this.tickets.values()]
      .filter((t) => t.called_at && [TicketStatus.Called, TicketStatus.Serving, TicketStatus.Done, TicketStatus.NoShow].includes(t.status))
      .sort((a, b) => Date.parse(b.called_at) - Date.parse(a.called_at))
      .slice(0, n);
  }
}

// ---- errors in words ----

/**
 * reasonWords says, for each refusal the server gives, what it means to the
 * person at the screen, in the hall's words ([zh, en]). Pages show these,
 * never the server's developer message.
 */
export const reasonWords = {
  illegal_transition: ['这个号码现在不能这样操作', 'This ticket cannot do that now'],
  window_busy: ['本窗口正在办理另一位，请先办结或挂起', 'This window is busy with another citizen: complete or park first'],
  window_not_open: ['窗口未开放，请先开始服务', 'The window is not open: open it first'],
  not_served_here: ['本窗口不办理这项业务', 'This window does not handle that service'],
  grace_expired: ['过号已超过可重新排队的时间', 'Too late to requeue: the grace period is over'],
  already_rated: ['已评价过', 'Already rated'],
  not_your_window: ['这不是您的窗口的号码', 'That ticket is not at your window'],
  not_your_ticket: ['这不是本机发出的号码', 'That ticket was not issued here'],
  action_not_allowed: ['您的账号不能做这项操作', 'Your account may not do that'],
  too_many_attempts: ['登录失败次数过多，请几分钟后再试', 'Too many failed sign-ins: try again in a few minutes'],
  not_a_session: ['这是令牌，不是账号登录', 'This is a token, not a signed-in account'],
  closed: ['现在不在办理时间', 'Not within service hours now'],
  lunch: ['午休时间暂停取号', 'No tickets during the lunch break'],
  issuing_stopped: ['今日取号已停止', 'Ticket issuing has stopped for today'],
  service_quota: ['今日号码已发完', 'No more tickets for this service today'],
  citizen_limit: ['今日取号次数已达上限', 'Daily limit for this citizen reached'],
  numbers_exhausted: ['今日号码已用完', 'No more numbers today'],
  blacklisted: ['暂不能为您取号，请到咨询台', 'Please ask at the information desk'],
  storage: ['服务器保存失败，未做任何更改，请重试', 'The server could not save: nothing changed, please try again'],
  too_many_requests: ['请求过于频繁，请稍后再试或到咨询台', 'Too many requests: try again later or ask at the information desk'],
  already_postponed: ['这个号码已暂离过一次', 'This ticket was already postponed once'],
  already_acknowledged: ['已有工作人员接手', 'A member of staff has already taken this up'],
};

const codeWords = {
  invalid: ['输入有误', 'Some input is not valid'],
  unauthorized: ['登录已失效，请重新登录', 'Signed out: please sign in again'],
  forbidden: ['没有权限', 'Not allowed'],
  not_found: ['找不到这个号码或窗口', 'No such ticket or window'],
  conflict: ['当前状态不允许此操作', 'Not possible right now'],
  closed: ['现在不在办理时间', 'Not within service hours now'],
  quota_exceeded: ['已达限额', 'Limit reached'],
  unavailable: ['服务器暂时不可用，请稍后重试', 'The server is unavailable: try again shortly'],
  internal: ['服务器出错，请联系管理员', 'Server fault: please tell the manager'],
  network: ['无法连接服务器', 'Cannot reach the server'],
};

/** sayError is an error in people's words, [zh, en]: by its reason, else its code. */
export function sayError(err) {
  if (err instanceof APIError) return reasonWords[err.reason] || codeWords[err.code] || ['操作失败', 'That did not work'];
  return codeWords.network;
}

// ---- signing in with an account ----

/**
 * accountForm wires a sign-in form with a name and a password (a password
 * account on the server → a session of a shift), and, in a <details> of
 * the form, a token for those who have one. The session is kept in
 * localStorage until it expires, so a browser restart during the shift
 * comes back signed in. accept(me) returns '' or why the credential does
 * not fit the page; done(token, me) runs once signed in. It returns
 * signOut(message): it ends a session on the server (POST /logout), forgets
 * the credential and shows the form again.
 */
export function accountForm(form, key, accept, done) {
  const f = (name) => form.querySelector(`[name="${name}"]`);
  const msg = form.querySelector('.form-error');
  const storeKey = 'hallq.session.' + key;
  const saved = () => {
    try {
      const s = JSON.parse(localStorage.getItem(storeKey) || 'null');
      return s && (!s.expires || s.expires > Date.now()) ? s : null;
    } catch {
      return null;
    }
  };
  const show = (message = '') => {
    localStorage.removeItem(storeKey);
    form.hidden = false;
    msg.textContent = message;
    f('password').value = '';
    f('token').value = '';
    (f('name').value ? f('password') : f('name')).focus();
  };
  const signOut = async (message = '') => {
    const s = saved();
    localStorage.removeItem(storeKey);
    if (s && s.session) await api('POST', 'logout', { token: s.token }).catch(() => {});
    show(message);
  };
  const use = async (cred, isSaved) => {
    try {
      const me = await api('GET', 'me', { token: cred.token });
      const bad = accept(me);
      if (bad) throw new APIError(403, ErrorCode.Forbidden, '', bad);
      localStorage.setItem(storeKey, JSON.stringify(cred));
      form.hidden = true;
      done(cred.token, me);
    } catch (e) {
      if (isSaved && (e.code === ClientErrorCode.Network || e.code === ErrorCode.Unavailable)) {
        setTimeout(() => use(cred, true), 3000);
        return;
      }
      if (cred.session && !isSaved) await api('POST', 'logout', { token: cred.token }).catch(() => {});
      show(isSaved ? '' : e.reason === '' && e.code === ErrorCode.Forbidden ? e.message : both(sayError(e)));
    }
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    msg.textContent = '';
    const token = f('token').value.trim();
    if (token) return use({ token, expires: Date.now() + 12 * 3600 * 1000 }, false); // a shift
    const name = f('name').value.trim();
    if (!name || !f('password').value) {
      msg.textContent = '请输入用户名和密码 · Enter your name and password';
      return;
    }
    try {
      const s = await api('POST', 'login', { body: { name, password: f('password').value } });
      use({ token: s.token, session: true, expires: Date.now() + s.expires_in_s * 1000 }, false);
    } catch (err) {
      msg.textContent = err.code === ErrorCode.Unauthorized ? '用户名或密码不对 · Wrong name or password' : both(sayError(err));
      f('password').value = '';
      f('password').focus();
    }
  });
  const s = saved();
  if (s) use(s, true);
  else show();
  return signOut;
}

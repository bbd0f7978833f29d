// hallconfig.js — the dashboard's "Administration → Hall configuration":
// services (names, quotas, limits, hours) and windows (names, services in
// order of preference) as editable tables, and the alert thresholds.
// Saving PUTs the whole configuration to /api/v1/config with the version
// it was loaded at (If-Match), so a change another manager saved in the
// meantime is never overwritten: the server refuses with config_changed
// and the page says so. The server checks everything again and records it
// as a config.changed event. Values are set as properties and text, never
// parsed as HTML.
import { $, el, fill, APIError, describe } from './hallq.js';
import { ClientErrorCode, ErrorCode, Reason } from './codes.js';

let token = '';
let loaded = null; // the configuration as the server last returned it
let version = ''; // its ETag
let dirty = false;
const listeners = [];

/** onLoad calls fn(config) whenever the configuration is (re)loaded or saved. */
export function onLoad(fn) { listeners.push(fn); }

// request GETs or PUTs the configuration, keeping its version (ETag).
async function request(method, body) {
  const headers = { Authorization: 'Bearer ' + token };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    if (version) headers['If-Match'] = version;
  }
  let res;
  try {
    res = await fetch('/api/v1/config', { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new APIError(0, ClientErrorCode.Network, '', '');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data && data.error) || {};
    throw new APIError(res.status, e.code || ErrorCode.Unavailable, e.reason || '', e.message || res.statusText);
  }
  version = res.headers.get('ETag') || '';
  loaded = data;
  for (const fn of listeners) fn(loaded);
  return data;
}

/** seconds reads a Go duration ("1h30m0s", "45s") as seconds. */
export function seconds(d) {
  let total = 0;
  for (const [, n, u] of String(d || '').matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) total += Number(n) * { h: 3600, m: 60, s: 1, ms: 0.001 }[u];
  return total;
}

const keyWords = {
  daily_quota: '每日限额 daily quota', per_citizen_limit: '每人限取 per-citizen limit', mean_service: '平均办理时长 mean service time',
  hours: '时间 hours', code: '代码 code', name: '名称 name', number: '编号 number', services: '办理业务 services',
  'alerts.wait_over': '等候告警阈值 wait alert threshold', 'alerts.pause_over': '暂停告警阈值 pause alert threshold',
  'alerts.kiosk_silent': '自助机失联阈值 kiosk silence threshold', 'hall.id': '大厅编号 hall id', 'hall.name': '大厅名称 hall name',
  'hall.time_zone': '时区 time zone', 'rules.number_digits': '号码位数 number digits', 'rules.elderly_age': '老年人年龄 elderly age',
};

/** fieldWords rewrites the server's configuration keys into words a manager reads. */
export function fieldWords(message) {
  return String(message)
    .replace(/services\[(\d+)\]\.?([a-z_]*)/g, (_, i, k) => {
      const s = loaded && loaded.services[Number(i)];
      return `第 ${Number(i) + 1} 项业务${s ? ` ${s.code}` : ''} service row ${Number(i) + 1}${k ? ` ${keyWords[k] || k}` : ''}`;
    })
    .replace(/windows\[(\d+)\]\.?([a-z_]*)/g, (_, i, k) => `第 ${Number(i) + 1} 个窗口 window row ${Number(i) + 1}${k ? ` ${keyWords[k] || k}` : ''}`)
    .replace(/\b(alerts|hall|rules)\.[a-z_]+/g, (k) => keyWords[k] || k);
}

/** words describes a failed save for a manager. */
export function words(err) {
  if (err instanceof APIError && err.reason === Reason.ConfigChanged) {
    return `其他管理员刚刚修改了配置，您的修改未保存。请点“放弃修改”载入最新配置后重做。Another manager changed the configuration first; yours was not saved. Press “Discard changes” to load theirs, then make your change again. (${err.message})`;
  }
  return fieldWords(describe(err));
}

/** saveAlerts changes only the alert thresholds of the configuration as the server has it. */
export async function saveAlerts(alerts) {
  if (!loaded) await load();
  const cfg = { ...loaded, alerts: { ...loaded.alerts, ...alerts } };
  const keepForm = dirty;
  await request('PUT', cfg);
  if (!keepForm) render(loaded);
}

const clock = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const duration = /^(\d+(\.\d+)?(h|m|s|ms))+$/;
// shortDuration shows Go's "6m0s" as "6m" and "1h0m0s" as "1h".
const shortDuration = (d) => String(d || '').replace(/(\d[hm])0s$/, '$1').replace(/(\d)h0m$/, '$1h');

function field(f, label, value, attrs = {}) {
  const e = el('input', { 'data-f': f, 'aria-label': label, ...attrs });
  if (attrs.type === 'checkbox') e.checked = Boolean(value);
  else e.value = value ?? '';
  return el('td', {}, e);
}

function removeButton(label) {
  return el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': label,
    onclick: (e) => { e.currentTarget.closest('tr').remove(); dirty = true; } }, '删除 Remove'));
}

function serviceRow(s) {
  const who = s.code ? `业务 ${s.code} service` : '新业务 new service';
  const h = s.hours || {};
  return el('tr', { 'data-service': s.code || '' },
    field('code', `${who}: 代码 code`, s.code, { class: 'code', maxlength: 1 }),
    field('zh', `${who}: 中文名 Chinese name`, s.name && s.name.zh, { class: 'wide' }),
    field('en', `${who}: 英文名 English name`, s.name && s.name.en, { class: 'wide', lang: 'en' }),
    field('quota', `${who}: 每日限额 daily quota (0 = unlimited)`, s.daily_quota ?? 0, { type: 'number', min: 0, step: 1 }),
    field('limit', `${who}: 每人限取 per-citizen limit (0 = unlimited)`, s.per_citizen_limit ?? 0, { type: 'number', min: 0, step: 1 }),
    field('id', `${who}: 需身份证 requires an ID card`, s.requires_id, { type: 'checkbox' }),
    field('remote', `${who}: 可线上取号 may be taken remotely`, s.remote, { type: 'checkbox' }),
    field('mean', `${who}: 平均办理时长 mean service time`, shortDuration(s.mean_service || '5m')),
    field('open', `${who}: 开始 opens (HH:MM)`, h.open || '08:30'),
    field('lunch_start', `${who}: 午休开始 lunch starts (HH:MM, optional)`, h.lunch_start),
    field('lunch_end', `${who}: 午休结束 lunch ends (HH:MM, optional)`, h.lunch_end),
    field('close', `${who}: 结束 closes (HH:MM)`, h.close || '17:30'),
    field('stop', `${who}: 提前停号 stop issuing before closing`, shortDuration(h.stop_before || '0s')),
    removeButton(`删除 Remove ${who}`));
}

function windowRow(w) {
  const who = w.number ? `${w.number} 号窗口 window ${w.number}` : '新窗口 new window';
  return el('tr', { 'data-window': w.number || '' },
    field('number', `${who}: 编号 number`, w.number || '', { type: 'number', min: 1, step: 1, class: 'code' }),
    field('zh', `${who}: 中文名 Chinese name`, w.name && w.name.zh, { class: 'wide' }),
    field('en', `${who}: 英文名 English name`, w.name && w.name.en, { class: 'wide', lang: 'en' }),
    field('services', `${who}: 办理业务代码，按优先顺序，如 A,E · service codes in order of preference, e.g. A,E`, (w.services || []).join(',')),
    removeButton(`删除 Remove ${who}`));
}

function render(cfg) {
  fill($('#cfg-services'), cfg.services.map(serviceRow));
  fill($('#cfg-windows'), cfg.windows.map(windowRow));
  dirty = false;
}

function say(text, error = false) {
  $('#cfg-result').textContent = text;
  $('#cfg-result').classList.toggle('error', error);
}

// collect reads the form into a configuration and lists, in plain words,
// what is obviously wrong. The server checks everything again.
function collect() {
  const problems = [];
  const codes = new Set();
  const services = [...$('#cfg-services').children].map((tr, i) => {
    const v = (f) => tr.querySelector(`[data-f="${f}"]`);
    const text = (f) => v(f).value.trim();
    const code = text('code').toUpperCase();
    const at = `第 ${i + 1} 行业务 service row ${i + 1}${code ? ` (${code})` : ''}`;
    if (!/^[A-Z]$/.test(code)) problems.push(`${at}：代码须为一个大写字母 · the code must be one capital letter`);
    else if (codes.has(code)) problems.push(`${at}：代码重复 · the code is used twice`);
    codes.add(code);
    if (!text('zh') || !text('en')) problems.push(`${at}：需要中英文名称 · both names are needed`);
    const count = (f, what) => {
      const n = Number(v(f).value || 0);
      if (!Number.isInteger(n) || n < 0) problems.push(`${at}：${what}须为非负整数 · must be a whole number, 0 or more`);
      return n;
    };
    const s = {
      code, name: { zh: text('zh'), en: text('en') },
      daily_quota: count('quota', '每日限额 daily quota '), per_citizen_limit: count('limit', '每人限取 per-citizen limit '),
      requires_id: v('id').checked, remote: v('remote').checked,
      mean_service: text('mean') || '5m',
      hours: { open: text('open'), close: text('close'), stop_before: text('stop') || '0s' },
    };
    if (text('lunch_start') || text('lunch_end')) {
      s.hours.lunch_start = text('lunch_start');
      s.hours.lunch_end = text('lunch_end');
    }
    for (const [k, val] of Object.entries(s.hours)) {
      if (k === 'stop_before') continue;
      if (!clock.test(val)) problems.push(`${at}：时间 ${k} 须为 HH:MM · ${k} must be a time like 08:30`);
    }
    for (const [k, val] of [['mean_service', s.mean_service], ['stop_before', s.hours.stop_before]]) {
      if (!duration.test(val)) problems.push(`${at}：${k} 须为时长，如 5m · ${k} must be a duration like 5m`);
    }
    return s;
  });
  if (services.length === 0) problems.push('至少需要一项业务 · At least one service is needed');
  const numbers = new Set();
  const windows = [...$('#cfg-windows').children].map((tr, i) => {
    const v = (f) => tr.querySelector(`[data-f="${f}"]`).value.trim();
    const number = Number(v('number'));
    const at = `第 ${i + 1} 行窗口 window row ${i + 1}`;
    if (!Number.isInteger(number) || number < 1) problems.push(`${at}：编号须为正整数 · the number must be 1 or more`);
    else if (numbers.has(number)) problems.push(`${at}：编号 ${number} 重复 · number ${number} is used twice`);
    numbers.add(number);
    const list = v('services').toUpperCase().split(/[\s,，、]+/).filter(Boolean);
    if (list.length === 0) problems.push(`${at}：至少办理一项业务 · a window serves at least one service`);
    for (const c of list) if (!codes.has(c)) problems.push(`${at}：没有业务 ${c} · there is no service ${c}`);
    return { number, name: { zh: v('zh'), en: v('en') }, services: list };
  });
  return { cfg: { ...loaded, services, windows }, problems };
}

async function load() {
  await request('GET');
  render(loaded);
}

/** start shows the hall configuration to a signed-in manager or admin. */
export async function start(t) {
  token = t;
  await load();
}

/**
 * changed re-reads the configuration after a config.changed event, unless
 * the form holds edits or the event carries what the form already shows
 * (this page's own save: re-rendering it would replace the rows under the
 * manager's next tap).
 */
export function changed(cfg) {
  if (!token || dirty) return;
  if (cfg && loaded && JSON.stringify(cfg) === JSON.stringify(loaded)) return;
  load().catch((e) => say(words(e), true));
}

$('#cfg-form').addEventListener('input', () => { dirty = true; });
$('#cfg-add-service').addEventListener('click', () => {
  $('#cfg-services').append(serviceRow({}));
  dirty = true;
  $('#cfg-services').lastElementChild.querySelector('input').focus();
});
$('#cfg-add-window').addEventListener('click', () => {
  $('#cfg-windows').append(windowRow({}));
  dirty = true;
  $('#cfg-windows').lastElementChild.querySelector('input').focus();
});
$('#cfg-reload').addEventListener('click', () => {
  say('');
  load().catch((e) => say(words(e), true));
});
$('#cfg-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!loaded) return;
  const { cfg, problems } = collect();
  if (problems.length) {
    say(`请先改正 · Please correct: ${problems.join('；')}`, true);
    return;
  }
  say('保存中… · Saving…');
  try {
    await request('PUT', cfg);
    render(loaded);
    say('已保存，立即生效 · Saved; in effect now');
  } catch (err) {
    say(words(err), true);
  }
});

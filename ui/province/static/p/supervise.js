// supervise.js — what the province's supervision pages share (booking
// supervision, work orders, catalogue and calendar editing): the staff
// sign-in check (a staff session, central/session), the page's words in
// zh/en, the top bar with language and sign-out, and refusals shown in
// people's words at the field the server names.

import { $, el, fill, zoneDay, zoneInstant } from '/assets/js/hallq.js';
import { call, lang, setLang, t } from '/p/portal.js';
import { BookingReason, StaffRole } from '/p/booking-codes.js';
import { ClientErrorCode, ErrorCode } from '/assets/js/codes.js';

/** words fills every [data-t] element from dict (key → {zh, en}) and the title. */
export function words(dict) {
  for (const n of document.querySelectorAll('[data-t]')) {
    const w = dict[n.dataset.t];
    if (w) n.textContent = t(w);
  }
  for (const n of document.querySelectorAll('[data-t-label]')) {
    const w = dict[n.dataset.tLabel];
    if (w) n.setAttribute('aria-label', t(w));
  }
  if (dict.title) document.title = t(dict.title) + ' · hallq';
}

const common = {
  signin: { zh: '工作人员登录', en: 'Staff sign-in' },
  signout: { zh: '退出', en: 'Sign out' },
  needSignin: { zh: '请先以省级工作人员身份登录。', en: 'Please sign in as province staff.' },
  notStaff: { zh: '当前登录的是群众账号，本页面仅供工作人员使用。', en: 'You are signed in as a citizen; this page is for staff.' },
  admin: { zh: '省级管理员', en: 'Province admin' },
  supervisor: { zh: '大厅主管', en: 'Hall supervisor' },
  nav: { zh: '省级监管', en: 'Province supervision' },
  overview: { zh: '总览', en: 'Overview' },
  bookings: { zh: '预约监管', en: 'Bookings' },
  workorders: { zh: '差评工单', en: 'Work orders' },
  catalog: { zh: '事项目录', en: 'Catalogue' },
};

/** roleName is the staff role in the current language. */
export const roleName = (role) => t(role === StaffRole.ProvinceAdmin ? common.admin : common.supervisor);

/**
 * chrome draws the top bar (navigation, language, who is signed in, sign
 * out) into header#top and returns the staff member ({name, role, halls}),
 * or shows the sign-in link and returns null. rerender runs after a
 * language change.
 */
export async function chrome(rerender) {
  const top = $('#top');
  const here = location.pathname;
  const link = (href, w) => el('a', { href, 'aria-current': here === href ? 'page' : null }, t(w));
  const other = lang() === 'zh' ? 'en' : 'zh';
  let me = null;
  let problem = '';
  try {
    const m = await call('GET', 'me');
    if (m.staff) me = m.staff;
    else problem = t(common.notStaff);
  } catch (e) {
    problem = e.status === 401 ? t(common.needSignin) : sayErr(e);
  }
  fill(top,
    el('nav', { 'aria-label': t(common.nav) },
      link('/province/', common.overview), link('/province/bookings', common.bookings),
      link('/province/workorders', common.workorders), link('/province/catalog', common.catalog)),
    el('span', { class: 'spacer' }),
    el('button', { type: 'button', class: 'secondary lang', id: 'lang', lang: other, onclick: () => setLang(other, rerender) },
      other === 'en' ? 'English' : '中文'),
    me ? el('span', { class: 'who', id: 'who' }, `${me.name} · ${roleName(me.role)}`) : null,
    me ? el('button', { type: 'button', class: 'secondary', id: 'signout', onclick: signOut }, t(common.signout)) : null);
  const gate = $('#gate');
  if (gate) {
    gate.hidden = !!me;
    if (!me) {
      fill(gate, el('p', {}, problem),
        el('a', { class: 'button', id: 'signin', href: '/auth/login?next=' + encodeURIComponent(here + location.search) }, t(common.signin)));
    }
  }
  return me;
}

async function signOut() {
  try {
    await fetch('/auth/logout', { method: 'POST', headers: { 'X-Hallq-CSRF': '1' }, credentials: 'same-origin' });
  } catch {
    /* the page below asks to sign in again either way */
  }
  location.reload(); // the page asks to sign in again
}

// The refusals the supervision routes give, in people's words.
const reasonWords = {
  [BookingReason.NotStaff]: { zh: '没有权限：需要省级管理员或该大厅的主管', en: 'Not allowed: this needs a province admin or the hall’s supervisor' },
  not_your_hall: { zh: '这不是您负责的大厅', en: 'That hall is not one of yours' },
  [BookingReason.NotBanned]: { zh: '该群众目前未被限制预约（可能已解除）', en: 'This citizen is not barred now (it may have been lifted already)' },
  [BookingReason.UnknownBooking]: { zh: '找不到这条爽约记录', en: 'No such missed booking' },
  unknown_order: { zh: '找不到这张工单', en: 'No such work order' },
  [BookingReason.UnknownHall]: { zh: '没有这个大厅', en: 'No such hall' },
  not_followed_up: { zh: '请先填写回访记录，再办结工单', en: 'Record a follow-up (回访) before closing' },
  closed: { zh: '工单已办结', en: 'The work order is closed already' },
  [BookingReason.Changed]: { zh: '别人刚刚修改过，请重新载入后再改', en: 'Someone changed it meanwhile: reload, then edit again' },
  [BookingReason.BadField]: { zh: '输入有误', en: 'Some input is not valid' },
  [BookingReason.BadJson]: { zh: '输入有误', en: 'Some input is not valid' },
  [BookingReason.UnknownField]: { zh: '输入有误', en: 'Some input is not valid' },
};
const codeWords = {
  [ErrorCode.Unauthorized]: { zh: '登录已失效，请重新登录', en: 'Signed out: please sign in again' },
  [ErrorCode.Forbidden]: { zh: '没有权限', en: 'Not allowed' },
  [ErrorCode.NotFound]: { zh: '找不到', en: 'Not found' },
  [ErrorCode.Conflict]: { zh: '当前状态不允许此操作', en: 'Not possible right now' },
  [ErrorCode.Invalid]: { zh: '输入有误', en: 'Some input is not valid' },
  [ErrorCode.Unavailable]: { zh: '服务器暂时不可用，请稍后重试', en: 'The server is unavailable: try again shortly' },
  [ClientErrorCode.Network]: { zh: '无法连接服务器', en: 'Cannot reach the server' },
};

/** sayErr is an API error in people's words, with the server's detail for invalid input. */
export function sayErr(e) {
  const w = t(reasonWords[e.reason] || codeWords[e.code] || codeWords[ClientErrorCode.Network]);
  return e.code === ErrorCode.Invalid && e.message ? `${w}：${e.message}` : w;
}

/**
 * showErr puts an API error at the field the server names (a form
 * control with name=field inside form gets aria-invalid and the message
 * after it), else in the form's [role=alert].
 */
export function showErr(form, e, field) {
  clearErr(form);
  const msg = sayErr(e);
  const f = field || (e && (e.field || (e.details && e.details.field)));
  const input = f && form.querySelector(`[name="${f}"]`);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    const id = input.id + '-err';
    input.setAttribute('aria-describedby', id);
    input.after(el('p', { class: 'form-error field-error', id, role: 'alert' }, msg));
    input.focus();
    return;
  }
  const a = form.querySelector('[role=alert]');
  if (a) a.textContent = msg;
}

/** clearErr removes what showErr put into form. */
export function clearErr(form) {
  for (const n of form.querySelectorAll('.field-error')) n.remove();
  for (const n of form.querySelectorAll('[aria-invalid]')) n.removeAttribute('aria-invalid');
  for (const n of form.querySelectorAll('[role=alert]')) n.textContent = '';
}

/** pct is a rate 0…1 as a percentage, or '—'. */
export const pct = (r) => (r === null || r === undefined ? '—' : `${Math.round(r * 1000) / 10}%`);

// ---- each hall's zone ----
// A day or a time typed or shown for a hall is that hall's (its calendar's
// zone, from GET /api/v1/staff/halls), whatever the browser's zone; what
// belongs to no one hall is in the province's zone, the one the central
// keeps its own records in (central/booking's provinceZone).

/** provinceZone is the zone of what belongs to no one hall. */
export const provinceZone = 'Asia/Shanghai';

/** hallToday is today's date plus offsetDays in zone (default the province's), YYYY-MM-DD. */
export function hallToday(offsetDays = 0, zone = provinceZone) {
  const [y, m, d] = zoneDay(zone || provinceZone).split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + offsetDays)).toISOString().slice(0, 10); // calendar arithmetic, no zone
}

/** wallInstant is a wall time typed for a hall (datetime-local) as an RFC 3339 instant, or undefined when empty. */
export const wallInstant = (local, zone) => (local ? zoneInstant(local, zone || provinceZone) || local : undefined);

/**
 * zoneOf is a staff hall's zone (its calendar's), the halls read once; the
 * province's when the hall is not known or the list cannot be read now
 * (the server then answers the write itself).
 */
let zones = null;
export async function zoneOf(hall) {
  if (!zones) zones = call('GET', 'staff/halls').then((r) => new Map(r.halls.map((h) => [h.id, h.calendar && h.calendar.zone])));
  try {
    return (await zones).get(hall) || provinceZone;
  } catch {
    zones = null; // asked again next time
    return provinceZone;
  }
}

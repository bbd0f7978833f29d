// citizen.js — what the citizen's booking pages share (home, book, my
// bookings): the header with sign-in, who is signed in and sign-out, the
// language and reading-preference switches, a session that ran out sending
// the citizen to sign in and back to the same page, the catalogue and hall
// names, and refusals explained in plain words with what to do next.

import { $, el, fill } from '/assets/js/hallq.js';
import { ErrorCode } from '/assets/js/codes.js';
import { BookingReason, BookingStatus, StaffRole } from '/p/booking-codes.js';
import { call, lang, prefs, setLang, t } from '/p/portal.js';

// ---- sign-in ----

let who = null; // {citizen:{masked}} | {staff:{…}} | null (not signed in)

/** here is this page's address, to come back to after signing in. */
export const here = () => location.pathname + location.search;

/** signIn goes to the province's sign-in and comes back to next (this page by default). */
export function signIn(next = here()) {
  location.assign('/auth/login?next=' + encodeURIComponent(next));
}

/** me asks the central who is signed in (null when nobody is). */
export async function me() {
  try {
    who = await call('GET', 'me');
  } catch (err) {
    if (err.status !== 401) throw err;
    who = null;
  }
  return who;
}

/** signedIn is the citizen's masked number, or '' when not signed in as a citizen. */
export const signedIn = () => (who && who.citizen ? who.citizen.masked : '');

/**
 * needsSignIn reports whether an API error means the sign-in is missing or
 * over; then it keeps `state` (the page's choices) in sessionStorage under
 * `key` and sends the citizen to sign in, to come back here.
 */
export function needsSignIn(err, key, state) {
  if (!err || err.status !== 401) return false;
  if (key) sessionStorage.setItem(key, JSON.stringify(state || {}));
  signIn();
  return true;
}

/** restore takes back what needsSignIn kept (once). */
export function restore(key) {
  const s = sessionStorage.getItem(key);
  if (!s) return null;
  sessionStorage.removeItem(key);
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

// ---- header ----

/**
 * header fills the page's <header id="bar">: the site name, the links,
 * who is signed in (or the sign-in button), the language and the reading
 * preferences. rerender redraws the page after a switch.
 */
export function header(rerender) {
  const bar = $('#bar');
  const link = (href, text) => el('a', { href, class: 'navlink', 'aria-current': location.pathname === href ? 'page' : null }, t(text));
  const staff = who && who.staff;
  const whoBox = staff && !signedIn()
    ? el('div', { class: 'who' },
        el('span', { id: 'who-staff' }, t({ zh: '工作人员：', en: 'Staff: ' }), staff.role === StaffRole.ProvinceAdmin
          ? t({ zh: '省级管理员', en: 'Province admin' }) : t({ zh: '大厅主管', en: 'Hall supervisor' })),
        el('a', { class: 'button secondary', href: '/province/' }, t({ zh: '省级看板', en: 'Province dashboard' })),
        el('button', { type: 'button', id: 'signout', class: 'secondary', onclick: signOut }, t({ zh: '退出登录', en: 'Sign out' })))
    : signedIn()
    ? el('div', { class: 'who' },
        el('span', { id: 'who-masked' }, t({ zh: '已登录 ', en: 'Signed in: ' }), el('bdi', {}, signedIn())),
        el('button', { type: 'button', id: 'signout', class: 'secondary', onclick: signOut }, t({ zh: '退出登录', en: 'Sign out' })))
    : el('div', { class: 'who' },
        el('button', { type: 'button', id: 'signin', onclick: () => signIn() }, t({ zh: '登录', en: 'Sign in' })));
  const toggle = (id, on, text, flip) =>
    el('button', { type: 'button', id, class: 'secondary pref', 'aria-pressed': on ? 'true' : 'false', onclick: flip }, t(text));
  fill(bar,
    el('div', { class: 'bar-top' },
      el('a', { href: '/', class: 'brand' }, t({ zh: '公安政务服务 · 网上预约', en: 'Public security services · Book online' })),
      whoBox),
    el('nav', { 'aria-label': t({ zh: '主要链接', en: 'Main links' }) },
      link('/', { zh: '首页', en: 'Home' }), link('/book', { zh: '预约办事', en: 'Book' }), link('/bookings', { zh: '我的预约', en: 'My bookings' })),
    el('div', { class: 'prefs', role: 'group', 'aria-label': t({ zh: '显示设置', en: 'Display settings' }) },
      el('button', { type: 'button', id: 'lang', class: 'secondary pref', lang: lang() === 'zh' ? 'en' : 'zh-CN',
        onclick: () => switchLang(rerender) }, lang() === 'zh' ? 'English' : '中文'),
      toggle('large', prefs.get('large'), { zh: '大字', en: 'Large text' }, () => { prefs.set('large', !prefs.get('large')); rerender(); }),
      toggle('contrast', prefs.get('contrast'), { zh: '高对比', en: 'High contrast' }, () => { prefs.set('contrast', !prefs.get('contrast')); rerender(); })));
  document.title = t(document.body.dataset.title ? JSON.parse(document.body.dataset.title) : { zh: '网上预约', en: 'Book online' });
}

// switchLang turns the page to the other language, kept (portal.js).
function switchLang(rerender) {
  const next = lang() === 'zh' ? 'en' : 'zh';
  setLang(next);
  rerender();
}

async function signOut() {
  try {
    await fetch('/auth/logout', { method: 'POST', headers: { 'X-Hallq-CSRF': '1' }, credentials: 'same-origin' });
  } catch {
    // the session may be gone already: the page shows signed out either way
  }
  location.assign('/');
}

// ---- the catalogue and the halls ----

let catalogue = null;

/** matters is the current catalogue's matters (fetched once per page). */
export async function matters() {
  if (!catalogue) catalogue = await call('GET', 'catalog');
  return catalogue.matters || [];
}

/** matterByCode finds a matter of the catalogue. */
export async function matterByCode(code) {
  return (await matters()).find((m) => m.code === code) || null;
}

/** search finds matters whose Chinese or English name (or code) holds every word of q. */
export function search(list, q) {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  return list.filter((m) => {
    const hay = [m.code, m.name && m.name.zh, m.name && m.name.en].join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** bookable: the matter may be booked online. */
export const bookable = (m) => m && m.booking !== 'none';

let halls = null;

/** hallNames maps each hall taking bookings to its record (id, name, zone, services). */
export async function hallNames() {
  if (!halls) {
    const rep = await call('GET', 'booking-halls');
    halls = new Map((rep.halls || []).map((h) => [h.id, h]));
  }
  return halls;
}

// ---- words ----

/** statusWord is a booking status in plain words. */
export function statusWord(s) {
  switch (s) {
    case BookingStatus.Booked: return t({ zh: '已预约', en: 'Booked' });
    case BookingStatus.Cancelled: return t({ zh: '已取消', en: 'Cancelled' });
    case BookingStatus.Arrived: return t({ zh: '已到场取号', en: 'Checked in' });
    case BookingStatus.Missed: return t({ zh: '未到（爽约）', en: 'Missed' });
    case BookingStatus.Served: return t({ zh: '已办结', en: 'Done' });
  }
  return s;
}

const weekdays = { zh: ['周日', '周一', '周二', '周三', '周四', '周五', '周六'], en: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] };

/** dayWords is "11月30日 周一" / "Mon 30 Nov" for a hall day YYYY-MM-DD. */
export function dayWords(day) {
  const [y, m, d] = day.split('-').map(Number);
  const wd = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // the calendar day itself, no zone involved
  if (lang() === 'zh') return `${m}月${d}日 ${weekdays.zh[wd]}`;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1];
  return `${weekdays.en[wd]} ${d} ${mon}`;
}

/** minutes is a wait in seconds as words. */
export function minutes(s) {
  if (s === null || s === undefined) return t({ zh: '暂无估计', en: 'no estimate' });
  const m = Math.max(1, Math.round(s / 60));
  return t({ zh: `约 ${m} 分钟`, en: `about ${m} min` });
}

// ---- refusals ----

/**
 * explain turns an API error into {title, next}: what happened and what to
 * do, in plain words. The caller adds the buttons for the next step.
 */
export function explain(err) {
  const d = err.details || {};
  const reason = (d.reason && t(d.reason)) || '';
  switch (err.reason) {
    case BookingReason.SlotFull:
      return { title: t({ zh: '这个时段刚刚约满了', en: 'This time has just been taken' }),
        next: t({ zh: '请从下面还有空位的时段中再选一个。', en: 'Please pick another time below that still has places.' }) };
    case BookingReason.DayCap:
      return { title: t({ zh: '您这一天的预约已达上限', en: 'You have reached the limit of bookings for that day' }),
        next: t({ zh: '请换一天，或在“我的预约”里取消一个不需要的预约。', en: 'Please choose another day, or cancel a booking you no longer need in My bookings.' }) };
    case BookingReason.WeekCap:
      return { title: t({ zh: '您这一周的预约已达上限', en: 'You have reached the limit of bookings for that week' }),
        next: t({ zh: '请选下一周的日期，或在“我的预约”里取消一个不需要的预约。', en: 'Please choose a day in another week, or cancel a booking you no longer need in My bookings.' }) };
    case BookingReason.AlreadyBooked:
      return { title: t({ zh: '您已经预约了这个大厅的这项业务', en: 'You already have a booking for this at this hall' }),
        next: t({ zh: '如需换时间，请在“我的预约”里改期。', en: 'To change the time, reschedule it in My bookings.' }) };
    case BookingReason.Banned:
      return { title: t({ zh: `因多次预约未到，网上预约暂停到 ${d.until || ''}`, en: `Online booking is paused until ${d.until || ''} because of missed bookings` }),
        next: t({ zh: `近期有 ${d.missed ?? ''} 次预约未到。暂停期间仍可直接到大厅取号办理。`, en: `You missed ${d.missed ?? ''} bookings recently. Meanwhile you can still take a ticket at the hall.` }) };
    case BookingReason.HallClosed:
      return { title: t({ zh: `大厅 ${d.day || ''} 不办公`, en: `The hall is closed on ${d.day || 'that day'}` }) + (reason ? `：${reason}` : ''),
        next: t({ zh: '请换一天或换一个大厅。', en: 'Please choose another day or another hall.' }) };
    case BookingReason.NotReleased:
      return { title: t({ zh: '这一天还没有开放预约', en: 'That day is not open for booking yet' }),
        next: t({ zh: `现在最远可约到 ${d.last_day || ''}；每天 ${d.release_at || ''} 放出新的一天。`, en: `You can book up to ${d.last_day || ''} now; a new day opens every day at ${d.release_at || ''}.` }) };
    case BookingReason.BookingCutoff:
    case BookingReason.SlotInPast:
      return { title: t({ zh: '这个时段马上开始，已不能预约', en: 'This time starts too soon to book' }),
        next: t({ zh: '请选一个更晚的时段。', en: 'Please choose a later time.' }) };
    case BookingReason.CancelCutoff:
      return { title: t({ zh: '离开始时间太近，已不能取消或改期', en: 'It is too close to the time to cancel or change it' }),
        next: t({ zh: '如果来不了，请尽早致电大厅说明；未到会记一次爽约。', en: 'If you cannot come, please call the hall; a booking you miss counts as missed.' }) };
    case BookingReason.NotOpen:
      return { title: t({ zh: '这个预约已不能修改', en: 'This booking can no longer be changed' }),
        next: t({ zh: '它已取消、已到场或已结束。', en: 'It was cancelled, checked in or is over.' }) };
    case BookingReason.SameSlot:
      return { title: t({ zh: '这就是原来的时段', en: 'That is the time you already have' }), next: t({ zh: '请选另一个时段。', en: 'Please choose another time.' }) };
    case BookingReason.UnknownBooking:
      return { title: t({ zh: '找不到这个预约', en: 'This booking was not found' }), next: t({ zh: '请回到“我的预约”。', en: 'Please go back to My bookings.' }) };
    case BookingReason.NotCitizen:
      return { title: t({ zh: '工作人员账号不能预约', en: 'A staff account cannot book' }), next: t({ zh: '请退出后用身份证号登录。', en: 'Please sign out and sign in with your ID number.' }) };
  }
  if (err.code === ErrorCode.Unavailable || err.status === 0) {
    return { title: t({ zh: '暂时连不上服务器', en: 'The service cannot be reached just now' }),
      next: t({ zh: '请稍后再按一次，不会重复预约。', en: 'Please press again in a moment; it will not book twice.' }) };
  }
  return { title: t({ zh: '没有成功', en: 'That did not work' }), next: err.message || '' };
}

/** refusal is the box that shows an explained error, with the actions given. */
export function refusal(err, ...actions) {
  const x = explain(err);
  return el('div', { class: 'refusal', role: 'alert', 'data-reason': err.reason || err.code || '' },
    el('h3', {}, x.title), el('p', {}, x.next), actions.length ? el('div', { class: 'choices' }, ...actions) : null);
}

/** warning shows the missed-booking warning the server gave. */
export function warningBox(w) {
  if (!w) return null;
  return el('p', { class: 'notice warn', id: 'warning', role: 'status' }, t(w.message));
}

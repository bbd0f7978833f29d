// dash.js — what the province dashboard's pages share (overview, one
// hall, reports): the staff sign-in check, the top bar (who is signed in,
// language, sign out), words in zh/en and number formats. Figures come
// from the central's API as computed there; the pages compute none of
// their own beyond shares and sums for display.

import { el, fill } from '/assets/js/hallq.js';
import { call, lang, setLang, t } from '/p/portal.js';
import { StaffRole } from '/p/booking-codes.js';

/** How often the live pages ask the central again (they poll: no stream). */
export const refreshMs = 5000;

export const roleWords = {
  [StaffRole.ProvinceAdmin]: { zh: '省级管理员（全部大厅）', en: 'Province admin (every hall)' },
  [StaffRole.HallSupervisor]: { zh: '大厅督导', en: 'Hall supervisor' },
};

/** The five levels of 好差评, by score. */
export const levelWords = [
  null,
  { zh: '非常不满意', en: 'Very dissatisfied' },
  { zh: '不满意', en: 'Dissatisfied' },
  { zh: '基本满意', en: 'Basically satisfied' },
  { zh: '满意', en: 'Satisfied' },
  { zh: '非常满意', en: 'Very satisfied' },
];

export const alertWords = {
  gap: { zh: '事件缺失', en: 'Events missing' },
  duplicate: { zh: '重复事件', en: 'Duplicate events' },
  bad_msg_id: { zh: '消息编号错误', en: 'Bad message ids' },
  superseded: { zh: '旧存储事件', en: 'Events of a replaced store' },
  unreadable: { zh: '无法读取', en: 'Unreadable events' },
  key_scheme: { zh: '密钥方案不符', en: 'Other key scheme' },
  restored: { zh: '存储已恢复', en: 'Store restored' },
  audit_broken: { zh: '审计日志断链', en: 'Audit trail broken' },
  silent: { zh: '大厅失联', en: 'Hall silent' },
};

export const windowWords = {
  open: { zh: '服务中', en: 'Open' },
  paused: { zh: '暂停', en: 'Paused' },
  closed: { zh: '关闭', en: 'Closed' },
};

/** minutes says a duration in seconds as whole minutes ("12 分钟" / "12 min"). */
export function minutes(s) {
  if (s === null || s === undefined) return '—';
  const m = Math.round(s / 60);
  return t({ zh: `${m} 分钟`, en: `${m} min` });
}

/** lagWords says how far behind a hall's forwarding is. */
export function lagWords(s) {
  if (s < 90) return t({ zh: `${Math.round(s)} 秒`, en: `${Math.round(s)} s` });
  if (s < 5400) return minutes(s);
  return t({ zh: `${Math.round(s / 3600)} 小时`, en: `${Math.round(s / 3600)} h` });
}

/** satisfied is the share of ratings 4–5 (满意, 非常满意) as "83%", or "—". */
export function satisfied(r) {
  const n = r.slice(1).reduce((a, b) => a + b, 0);
  return n ? Math.round(((r[4] + r[5]) * 100) / n) + '%' : '—';
}

/** ratingTitle lists the five levels' counts. */
export function ratingTitle(r) {
  return [5, 4, 3, 2, 1].map((i) => `${t(levelWords[i])} ${r[i]}`).join(' · ');
}

/** shares draws the five levels' shares as a small stacked bar with a text for every reader. */
export function shares(r) {
  const n = r.slice(1).reduce((a, b) => a + b, 0);
  const bar = el('span', { class: 'shares', role: 'img', 'aria-label': ratingTitle(r), title: ratingTitle(r) });
  for (let i = 5; i >= 1; i--) {
    if (!n || !r[i]) continue;
    bar.append(el('span', { class: 'lvl lvl' + i, 'data-share': Math.round((r[i] * 100) / n) }));
  }
  for (const s of bar.children) s.classList.add('w' + Math.max(1, Math.round(Number(s.dataset.share) / 5)));
  return el('span', { class: 'rating' }, el('strong', { text: satisfied(r) }), ' ', bar, el('span', { class: 'count', text: `(${n})` }));
}

/** staffSignIn sends the browser to the identity provider and back to this page. */
export function staffSignIn() {
  location.assign('/auth/login?next=' + encodeURIComponent(location.pathname + location.search));
}

/**
 * start checks the staff sign-in (GET /api/v1/me), draws the top bar and
 * calls render(me.staff) now and on a language change. A page without a
 * sign-in goes to the identity provider; a citizen's sign-in is told this
 * is for province staff.
 */
export async function start(render) {
  let me;
  try {
    me = await call('GET', 'me');
  } catch (err) {
    if (err.status === 401) return staffSignIn();
    if (err.status === 404) return showError(null, t({ zh: '此平台未配置登录（central 的 -oidc-issuer），无法使用省级看板。', en: 'Sign-in is not configured on this central (-oidc-issuer): the dashboard cannot be used.' }));
    return showError(err);
  }
  const bar = document.querySelector('#who');
  const draw = () => {
    document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
    for (const n of document.querySelectorAll('[data-zh]')) n.textContent = t({ zh: n.dataset.zh, en: n.dataset.en });
    for (const n of document.querySelectorAll('[data-zh-label]')) n.setAttribute('aria-label', t({ zh: n.dataset.zhLabel, en: n.dataset.enLabel }));
    for (const n of document.querySelectorAll('[data-zh-placeholder]')) n.placeholder = t({ zh: n.dataset.zhPlaceholder, en: n.dataset.enPlaceholder });
    document.title = t({ zh: document.body.dataset.titleZh, en: document.body.dataset.titleEn }) + ' · hallq';
    const who = me.staff
      ? el('span', { id: 'who-name' }, me.staff.name, ' · ', t(roleWords[me.staff.role] || { zh: me.staff.role, en: me.staff.role }))
      : el('span', { id: 'who-name', text: t({ zh: '群众账号', en: 'A citizen account' }) });
    fill(bar, who,
      el('button', { type: 'button', class: 'secondary', id: 'lang', lang: lang() === 'zh' ? 'en' : 'zh-CN', onclick: () => setLang(lang() === 'zh' ? 'en' : 'zh', draw) }, lang() === 'zh' ? 'English' : '中文'),
      el('button', { type: 'button', class: 'secondary', id: 'signout', onclick: signOut }, t({ zh: '退出登录', en: 'Sign out' })));
    if (me.staff) render(me.staff);
  };
  if (!me.staff) {
    draw();
    return showError(null, t({ zh: '此页面供省级工作人员使用，请以工作人员账号登录。', en: 'This page is for province staff: sign in with a staff account.' }));
  }
  draw();
}

async function signOut() {
  let res;
  try {
    res = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin', headers: { 'X-Hallq-CSRF': '1' } });
  } catch {
    res = { ok: false, status: 0 };
  }
  if (!res.ok) return showError({ status: res.status, message: t({ zh: '退出失败，请重试', en: 'Signing out failed; try again' }) });
  fill(document.querySelector('#who'));
  for (const n of document.querySelectorAll('main > :not(#signedout)')) n.hidden = true;
  const out = document.querySelector('#signedout');
  fill(out, el('h2', { text: t({ zh: '您已退出登录', en: 'You are signed out' }) }),
    el('p', {}, el('button', { type: 'button', id: 'signin-again', onclick: staffSignIn }, t({ zh: '重新登录', en: 'Sign in again' }))));
  out.hidden = false;
  stopTimers();
}

const timers = new Set();

/** every calls f now and every refreshMs until sign-out. */
export function every(f) {
  f();
  timers.add(setInterval(f, refreshMs));
}

function stopTimers() {
  for (const id of timers) clearInterval(id);
  timers.clear();
}

/** showError shows an error (or a message) in #error; null hides it. */
export function showError(err, message) {
  const box = document.querySelector('#error');
  if (!box) return;
  if (!err && !message) {
    box.hidden = true;
    return;
  }
  box.textContent = message || errorWords(err);
  box.hidden = false;
}

export function errorWords(err) {
  switch (err && err.status) {
    case 403:
      return t({ zh: '您没有查看该大厅的权限。', en: 'You may not see this hall.' });
    case 404:
      return t({ zh: '找不到：', en: 'Not found: ' }) + (err.message || '');
    case 0:
      return t({ zh: '无法连接平台，稍后自动重试。', en: 'Cannot reach the platform; trying again shortly.' });
  }
  return t({ zh: '出错了：', en: 'Something went wrong: ' }) + ((err && err.message) || '');
}

/** hallNames reads the halls' names from the booking side (a map id → {zh, en}); empty when unknown. */
export async function hallNames() {
  try {
    const r = await call('GET', 'staff/halls');
    return Object.fromEntries((r.halls || []).map((h) => [h.id, h.name]));
  } catch {
    return {};
  }
}

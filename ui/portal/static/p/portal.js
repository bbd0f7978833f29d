// portal.js — what the platform's pages share (citizen portal and province
// dashboard), on top of the hall pages' helpers (/assets/js/hallq.js): the
// language (zh/en), the reading preferences (large text, high contrast),
// calls to the central's API with the sign-in session, and times in the
// hall's own zone.

import { APIError } from '/assets/js/hallq.js';
import { ClientErrorCode, ErrorCode } from '/assets/js/codes.js';

// ---- language ----

// A link may name the language (?lang=en, from an SMS or a QR code): the
// page opens in it and it becomes the citizen's choice, as if they had
// pressed the switch. It is taken once, as the page loads, and dropped
// from the address, so the switch on any page holds from then on: across
// pages, reloads and Back, and in an address copied from the bar.
{
  const u = new URL(location.href);
  if (u.searchParams.has('lang')) {
    const q = u.searchParams.get('lang');
    if (q === 'zh' || q === 'en') localStorage.setItem('hallq.lang', q);
    u.searchParams.delete('lang');
    history.replaceState(history.state, '', u.pathname + u.search + u.hash);
  }
}

// A page brought back by Back or Forward as it was left (the browser's
// back-forward cache) is drawn again when the language was switched on
// another page meanwhile.
addEventListener('pageshow', (e) => {
  if (e.persisted && document.documentElement.lang !== (lang() === 'zh' ? 'zh-CN' : 'en')) location.reload();
});

/** lang is 'zh' or 'en': the citizen's choice (the switch, or a link's ?lang=), else the browser's. */
export function lang() {
  const s = localStorage.getItem('hallq.lang');
  if (s === 'zh' || s === 'en') return s;
  return (navigator.language || 'zh').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** setLang stores the choice and re-renders through the callback. */
export function setLang(l, rerender) {
  localStorage.setItem('hallq.lang', l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  if (rerender) rerender();
}

/** t picks the text of the current language from {zh, en} (or a [zh, en] pair). */
export function t(text) {
  if (!text) return '';
  if (Array.isArray(text)) return lang() === 'zh' ? text[0] : text[1];
  return (lang() === 'zh' ? text.zh : text.en) || text.zh || text.en || '';
}

// ---- reading preferences (elderly-friendly) ----

const prefKeys = { large: 'hallq.large', contrast: 'hallq.contrast' };

/** prefs are the stored reading preferences. */
export const prefs = {
  get: (k) => localStorage.getItem(prefKeys[k]) === '1',
  set(k, on) {
    localStorage.setItem(prefKeys[k], on ? '1' : '0');
    applyPrefs();
  },
};

/** applyPrefs puts the preferences on <html> (classes large-text, high-contrast). */
export function applyPrefs() {
  document.documentElement.classList.toggle('large-text', prefs.get('large'));
  document.documentElement.classList.toggle('high-contrast', prefs.get('contrast'));
  document.documentElement.lang = lang() === 'zh' ? 'zh-CN' : 'en';
}
applyPrefs();

// ---- API ----

function idemKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * call calls the central's API (/api/v1/…) with the sign-in session's
 * cookie. Writes carry X-Hallq-CSRF (the session refuses a write without
 * it) and an Idempotency-Key (give `key` to retry one operation). It returns
 * the parsed JSON (text for CSV, null for 204) and throws hallq.js's
 * APIError with the server's code, reason, message and details.
 */
export async function call(method, path, { body, query, key } = {}) {
  const url = new URL('/api/v1/' + path.replace(/^\//, ''), location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== '' && v !== undefined && v !== null) url.searchParams.set(k, v);
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    headers['X-Hallq-CSRF'] = '1';
    headers['Idempotency-Key'] = key || idemKey();
  }
  let res;
  try {
    res = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new APIError(0, ClientErrorCode.Network, '', '');
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) {
    const data = type.includes('json') ? await res.json().catch(() => null) : null;
    const e = (data && data.error) || {};
    const err = new APIError(res.status, e.code || ErrorCode.Unavailable, e.reason || '', e.message || res.statusText);
    err.details = e.details;
    throw err;
  }
  return type.includes('json') ? res.json() : res.text();
}

// ---- times in the hall's zone ----
// The API gives times as RFC 3339 with the hall's offset
// (2026-11-30T09:30:00+08:00): show the wall time written there, never the
// browser's zone (a citizen abroad still sees the hall's 09:30).

/** hallTime is "09:30" from an RFC 3339 time with an offset. */
export const hallTime = (iso) => (iso ? iso.slice(11, 16) : '');

/** hallDay is "2026-11-30" from an RFC 3339 time or a day. */
export const hallDay = (iso) => (iso ? iso.slice(0, 10) : '');

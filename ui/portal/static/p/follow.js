// follow.js — what the live-waits, ticket and rating pages share: the
// header's controls (language, large text, high contrast) and the words
// for durations and for how fresh a figure is.

import { $, el, fill } from '/assets/js/hallq.js';
import { lang, prefs, setLang, t } from '/p/portal.js';

/** chrome wires the header's buttons; render draws the page again in the chosen language. */
export function chrome(title, render) {
  const draw = () => {
    document.title = t(title) + ' · hallq';
    $('#title').textContent = t(title);
    const l = $('#lang');
    l.textContent = lang() === 'zh' ? 'English' : '中文';
    l.lang = lang() === 'zh' ? 'en' : 'zh-CN';
    for (const [id, key, words] of [['#large', 'large', { zh: '大字', en: 'Large text' }], ['#contrast', 'contrast', { zh: '高对比度', en: 'High contrast' }]]) {
      $(id).textContent = t(words);
      $(id).setAttribute('aria-pressed', String(prefs.get(key)));
    }
    render();
  };
  $('#lang').addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh', draw);
  });
  $('#large').addEventListener('click', () => { prefs.set('large', !prefs.get('large')); draw(); });
  $('#contrast').addEventListener('click', () => { prefs.set('contrast', !prefs.get('contrast')); draw(); });
  draw();
  return draw;
}

/** minutes is a wait in words: "约 25 分钟" / "about 25 min". */
export function minutes(s) {
  if (s === null || s === undefined) return t({ zh: '暂无窗口服务', en: 'no window open' });
  const m = Math.max(1, Math.round(s / 60));
  return t({ zh: `约 ${m} 分钟`, en: `about ${m} min` });
}

/** age is how long ago an RFC 3339 time was, in whole minutes (null when unknown). */
export function age(iso, now = Date.now()) {
  if (!iso) return null;
  return Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
}

/** fresh says how fresh a figure is: "刚刚更新" / "updated 4 min ago". */
export function fresh(iso, now = Date.now()) {
  const m = age(iso, now);
  if (m === null) return t({ zh: '尚无数据', en: 'no data yet' });
  if (m < 1) return t({ zh: '刚刚更新', en: 'updated just now' });
  if (m < 120) return t({ zh: `${m} 分钟前更新`, en: `updated ${m} min ago` });
  return t({ zh: `${Math.floor(m / 60)} 小时前更新`, en: `updated ${Math.floor(m / 60)} h ago` });
}

/** text picks a {zh, en} name, falling back to the other language. */
export const named = (n, fallback = '') => (n && (t(n) || n.zh)) || fallback;

export { el, fill, $ };

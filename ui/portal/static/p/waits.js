// waits.js — /waits: every hall's live waits, public, no sign-in: the
// waiting count, the estimated wait now, the open windows and the next
// free booking slots of each hall, filtered by a search or a matter, the
// least busy hall for the matter recommended, and how fresh each hall's
// figures are (a hall whose link is slow says "updated 4 min ago").
// It polls GET /api/v1/halls every 30 s (and on "refresh").

import { describe } from '/assets/js/hallq.js';
import { call, hallDay, hallTime, lang, t } from '/p/portal.js';
import { $, age, chrome, el, fill, fresh, minutes, named } from '/p/follow.js';

const state = { halls: [], matters: [], loadedAt: null, error: null };
const STALE_MIN = 3; // a hall whose last event is older than this is said to be slow

const q = $('#q');
const matterSel = $('#matter');
const params = new URL(location.href).searchParams;
if (params.get('q')) q.value = params.get('q');
let askedMatter = params.get('matter'); // ?matter= chooses it once the catalogue is in

function matterOf(code) {
  return state.matters.find((m) => m.code === code);
}

function servicesFor() {
  const m = matterOf(matterSel.value);
  return m ? m.services || [] : null; // null: every service
}

function hallName(h) {
  return named(h.name && h.name.name, h.hall);
}

function matches(h) {
  const words = q.value.trim().toLowerCase();
  const svcs = servicesFor();
  if (svcs && !svcs.some((s) => (h.services || []).some((x) => x.service === s) || (h.next_slots || []).some((x) => x.service === s))) return false;
  if (!words) return true;
  const hay = [h.hall, h.name && h.name.name && h.name.name.zh, h.name && h.name.name && h.name.name.en,
    h.name && h.name.district && h.name.district.zh, h.name && h.name.district && h.name.district.en]
    .concat(state.matters.filter((m) => (h.services || []).some((s) => (m.services || []).includes(s.service))).flatMap((m) => [m.name.zh, m.name.en || '', m.code]))
    .filter(Boolean).join(' ').toLowerCase();
  return words.split(/\s+/).every((w) => hay.includes(w));
}

/** the wait of a hall for the chosen services: the least estimate among them. */
function waitFor(h, svcs) {
  let best = null;
  for (const s of h.services || []) {
    if (svcs && !svcs.includes(s.service)) continue;
    if (s.estimated_wait_s === null || s.estimated_wait_s === undefined) continue;
    if (best === null || s.estimated_wait_s < best) best = s.estimated_wait_s;
  }
  return best;
}

function recommend(list) {
  const svcs = servicesFor();
  if (!svcs) return null;
  let best = null;
  for (const h of list) {
    const w = waitFor(h, svcs);
    const a = age(h.last_event_at);
    if (w === null || h.silent || a === null || a >= STALE_MIN) continue; // only fresh figures are recommended on
    if (!best || w < best.w || (w === best.w && h.waiting < best.h.waiting)) best = { h, w };
  }
  return best;
}

function serviceWords(letter) {
  const ms = state.matters.filter((m) => (m.services || []).includes(letter)).map((m) => named(m.name));
  return ms.length ? `${letter} · ${ms.slice(0, 3).join(t({ zh: '、', en: ', ' }))}` : letter;
}

function card(h, isBest) {
  const a = age(h.last_event_at);
  const slow = h.silent || a === null || a >= STALE_MIN;
  const svcs = servicesFor();
  const rows = (h.services || []).filter((s) => !svcs || svcs.includes(s.service)).map((s) =>
    el('tr', {}, el('td', {}, serviceWords(s.service)), el('td', { 'data-field': 'waiting' }, String(s.waiting)),
      el('td', {}, String(s.open_windows)), el('td', { 'data-field': 'wait' }, minutes(s.estimated_wait_s))));
  const slots = (h.next_slots || []).filter((s) => !svcs || svcs.includes(s.service));
  return el('li', { class: 'card hall-card' + (isBest ? ' recommend' : ''), 'data-hall': h.hall },
    el('h2', {}, hallName(h), isBest ? ' ' : null, isBest ? el('span', { class: 'badge' }, t({ zh: '推荐', en: 'Least busy' })) : null),
    h.name && h.name.district ? el('p', { class: 'small' }, named(h.name.district)) : null,
    el('div', { class: 'figures' },
      el('div', {}, t({ zh: '等候人数', en: 'Waiting' }), el('strong', { 'data-field': 'hall-waiting' }, String(h.waiting))),
      el('div', {}, t({ zh: '开放窗口', en: 'Windows open' }), el('strong', { 'data-field': 'open-windows' }, String(h.open_windows))),
      el('div', {}, t({ zh: '预计等候', en: 'Wait now' }), el('strong', { 'data-field': 'hall-wait' }, minutes(waitFor(h, svcs))))),
    rows.length ? el('table', {},
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t({ zh: '业务', en: 'Service' })), el('th', { scope: 'col' }, t({ zh: '等候', en: 'Waiting' })),
        el('th', { scope: 'col' }, t({ zh: '窗口', en: 'Windows' })), el('th', { scope: 'col' }, t({ zh: '预计', en: 'Estimate' })))),
      el('tbody', {}, rows)) : el('p', { class: 'small' }, t({ zh: '今日暂无排队数据', en: 'No queue today yet' })),
    slots.length ? el('p', { 'data-field': 'slots' }, t({ zh: '最近可预约：', en: 'Next free booking slots: ' }),
      slots.flatMap((s, i) => [i ? t({ zh: '；', en: '; ' }) : '', el('a', { href: `/book?hall=${encodeURIComponent(h.hall)}&service=${encodeURIComponent(s.service)}` },
        `${s.service} ${hallDay(s.start).slice(5)} ${hallTime(s.start)}`), t({ zh: `（余 ${s.free}）`, en: ` (${s.free} free)` })])) : null,
    el('p', { class: slow ? (h.silent ? 'silent' : 'stale') : 'small', 'data-field': 'fresh' }, fresh(h.last_event_at),
      slow ? t({ zh: '，该大厅的网络连接较慢，数据可能不是最新', en: ': the hall\'s link is slow, the figures may be out of date' }) : ''));
}

function render() {
  $('#intro').textContent = t({ zh: '出门前看看各大厅现在排多少人、要等多久。数据来自各大厅实时上报。', en: 'Before you leave home: how many wait at each hall now and how long it takes. The halls report live.' });
  $('#q-label').textContent = t({ zh: '搜索大厅或事项', en: 'Search a hall or matter' });
  q.placeholder = t({ zh: '如：武昌、身份证', en: 'e.g. Wuchang, ID card' });
  $('#matter-label').textContent = t({ zh: '要办的事项', en: 'Matter to do' });
  const chosen = askedMatter || matterSel.value;
  if (state.matters.length) askedMatter = null;
  fill(matterSel, el('option', { value: '' }, t({ zh: '全部事项', en: 'All matters' })),
    state.matters.map((m) => el('option', { value: m.code }, named(m.name))));
  matterSel.value = matterOf(chosen) ? chosen : '';
  $('#refresh').textContent = t({ zh: '刷新', en: 'Refresh' });
  $('#error').textContent = state.error ? describe(state.error) : '';
  // No clock time here: the browser's zone is not the halls' (each hall's own freshness is said on its card).
  $('#loaded').textContent = state.loadedAt ? t({ zh: '每 30 秒自动刷新', en: 'Refreshes itself every 30 s' }) : '';
  const list = state.halls.filter(matches);
  const best = recommend(list);
  $('#best').hidden = !best;
  $('#hint').textContent = servicesFor() ? '' : t({ zh: '选择要办的事项，可看到当前最不拥挤的大厅。', en: 'Choose the matter to see the least busy hall for it.' });
  if (best) {
    $('#best-title').textContent = t({ zh: '推荐：现在最不拥挤', en: 'Recommended: least busy now' });
    $('#best-text').textContent = t({ zh: `${hallName(best.h)}，预计等候${minutes(best.w)}，${best.h.waiting} 人等候。`, en: `${hallName(best.h)}: wait ${minutes(best.w)}, ${best.h.waiting} waiting.` });
  }
  $('#count').textContent = t({ zh: `共 ${list.length} 个大厅`, en: `${list.length} hall(s)` });
  fill($('#halls'), list.map((h) => card(h, best && best.h === h)));
}

async function load() {
  try {
    const [halls, cat] = await Promise.all([call('GET', 'halls'), state.matters.length ? null : call('GET', 'catalog').catch(() => null)]);
    state.halls = halls.halls || [];
    if (cat) state.matters = cat.matters || [];
    state.error = null;
    state.loadedAt = Date.now();
  } catch (e) {
    state.error = e;
  }
  render();
}

const draw = chrome({ zh: '各大厅实时等候', en: 'Live waits of every hall' }, render);
$('#filter').addEventListener('submit', (e) => e.preventDefault());
q.addEventListener('input', draw);
matterSel.addEventListener('change', draw);
$('#refresh').addEventListener('click', load);
load();
setInterval(() => { if (!document.hidden) load(); }, 30000);

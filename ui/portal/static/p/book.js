// book.js — booking a visit (/book): the matter → its guide (办事指南:
// materials, fees, time limit, where; printable) → a hall (every hall
// offering it, with people waiting now, the estimated wait and the next
// free times; the least busy recommended) → a day and a time with places
// left → confirm (signed in; one Idempotency-Key kept across retries) →
// the confirmation with the booking QR code and the checklist.
//
// The choices live in the address (?m=&h=&s=&d=&at=&step=), so the back
// button, a reload and a sign-in in the middle all come back to the same
// step with the same choices; a session that ran out on confirming keeps
// them in sessionStorage too and returns here after signing in.

import { $, el, fill } from '/assets/js/hallq.js';
import { ErrorCode } from '/assets/js/codes.js';
import { BookingReason } from '/p/booking-codes.js';
import { call, hallDay, hallTime, t } from '/p/portal.js';
import {
  bookable, dayWords, header, hallNames, matterByCode, matters, me, minutes, needsSignIn, refusal, restore, search, signIn, signedIn, warningBox,
} from '/p/citizen.js';
import { qrSVG } from '/p/qr.js';

const keep = 'hallq.book.pending'; // choices kept across a sign-in
const keyStore = 'hallq.book.key'; // the Idempotency-Key of the booking being confirmed

let q = new URLSearchParams(location.search);
let list = []; // the catalogue's matters
let problem = null; // the refusal shown on the current step, with its actions
let done = null; // the confirmed booking (with its warning)
let searchText = '';

const p = (k) => q.get(k) || '';

/** go moves to a step with new choices (merged into the address). */
function go(changes, replace = false) {
  const n = new URLSearchParams(q);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === undefined || v === '') n.delete(k);
    else n.set(k, v);
  }
  q = n;
  problem = null;
  const url = '/book' + (n.toString() ? '?' + n.toString() : '');
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  q = new URLSearchParams(location.search);
  problem = null;
  render();
});

function steps(current) {
  const names = [
    ['guide', { zh: '办事指南', en: 'Guide' }], ['hall', { zh: '选大厅', en: 'Hall' }],
    ['slot', { zh: '选时间', en: 'Time' }], ['confirm', { zh: '确认', en: 'Confirm' }]];
  const at = names.findIndex((n) => n[0] === current);
  return el('ol', { class: 'stepper', 'aria-label': t({ zh: '预约步骤', en: 'Booking steps' }) },
    names.map(([k, n], i) => el('li', { class: i < at ? 'past' : i === at ? 'now' : '', 'aria-current': i === at ? 'step' : null }, `${i + 1}. ${t(n)}`)));
}

let rendering = 0;

// render draws the current step; main carries data-busy while it reads
// what the step needs (a control pressed then may be a stale one).
async function render() {
  const main = $('#main');
  const mine = ++rendering;
  main.dataset.busy = '1';
  header(render);
  try {
    const m = p('m') ? await matterByCode(p('m')) : null;
    const step = p('step') || (m ? 'guide' : 'matter');
    // a step that must read first is drawn off the page and shown only if
    // no newer step began meanwhile (two quick presses: the last one wins)
    const stage = document.createElement('div');
    const show = () => { if (mine === rendering) main.replaceChildren(...stage.childNodes); };
    if (!m || step === 'matter') renderMatter(main);
    else if (step === 'guide') renderGuide(main, m);
    else if (step === 'hall') await renderHalls(stage, m).then(show);
    else if (step === 'slot') await renderSlots(stage, m).then(show);
    else if (step === 'confirm') await renderConfirm(stage, m).then(show);
    else if (step === 'done') await renderDone(stage, m).then(show);
  } catch (err) {
    fill(main, el('h1', {}, t({ zh: '预约办事', en: 'Book a visit' })), refusal(err, el('button', { type: 'button', onclick: render }, t({ zh: '再试一次', en: 'Try again' }))));
  } finally {
    if (mine === rendering) delete main.dataset.busy;
  }
}

// ---- 1. the matter ----

function renderMatter(main) {
  const draw = () => {
    const found = search(list, searchText);
    fill($('#matters'), found.length
      ? found.map((m) => el('li', {}, el('button', { type: 'button', class: 'matter', 'data-matter': m.code, onclick: () => go({ m: m.code, step: 'guide' }) }, t(m.name))))
      : [el('li', { class: 'empty' }, t({ zh: '没有找到，换个词试试。', en: 'Nothing found; try another word.' }))]);
  };
  fill(main,
    el('h1', {}, t({ zh: '您要办什么？', en: 'What do you need to do?' })),
    el('label', { for: 'search' }, t({ zh: '搜索事项', en: 'Search' })),
    el('input', { id: 'search', type: 'search', value: searchText, autocomplete: 'off',
      placeholder: t({ zh: '例如：护照、身份证、户口', en: 'e.g. passport, ID card, household' }),
      oninput: (e) => { searchText = e.target.value; draw(); } }),
    el('ul', { id: 'matters', class: 'matters' }));
  draw();
}

// ---- 2. the guide ----

function guide(m) {
  return el('section', { class: 'card guide', id: 'guide', 'aria-labelledby': 'guide-h' },
    el('h2', { id: 'guide-h' }, t({ zh: '办事指南：', en: 'Guide: ' }), t(m.name)),
    el('h3', {}, t({ zh: '请带齐以下材料', en: 'Bring these' })),
    el('ul', { class: 'checklist', id: 'materials' }, (m.materials || []).map((x) => el('li', {},
      el('strong', {}, t(x.name)),
      x.original ? el('span', { class: 'tag' }, t({ zh: '原件', en: 'original' })) : null,
      x.copies ? el('span', { class: 'tag' }, t({ zh: `复印件 ${x.copies} 份`, en: `${x.copies} photocopy(ies)` })) : null,
      x.note ? el('div', { class: 'note' }, t(x.note)) : null))),
    el('dl', { class: 'kv' },
      el('dt', {}, t({ zh: '费用', en: 'Fees' })), el('dd', { id: 'fees' }, m.fees ? t(m.fees) : t({ zh: '免费', en: 'Free' })),
      el('dt', {}, t({ zh: '办结时限', en: 'Time limit' })), el('dd', { id: 'time-limit' }, m.time_limit_days
        ? t({ zh: `${m.time_limit_days} 个工作日`, en: `${m.time_limit_days} working day(s)` }) : t({ zh: '当场办结', en: 'Done on the spot' })),
      m.where ? el('dt', {}, t({ zh: '办理地点', en: 'Where' })) : null, m.where ? el('dd', { id: 'where' }, t(m.where)) : null,
      el('dt', {}, t({ zh: '预约', en: 'Booking' })), el('dd', {}, m.booking === 'required'
        ? t({ zh: '须先预约', en: 'Booking required' }) : m.booking === 'none'
          ? t({ zh: '无需预约，直接到大厅取号', en: 'No booking: take a ticket at the hall' }) : t({ zh: '可预约，也可现场取号', en: 'Book, or take a ticket at the hall' }))));
}

function renderGuide(main, m) {
  fill(main,
    steps('guide'),
    el('h1', {}, t(m.name)),
    guide(m),
    el('div', { class: 'choices no-print' },
      el('button', { type: 'button', id: 'print', class: 'secondary', onclick: () => window.print() }, t({ zh: '打印办事指南', en: 'Print the guide' })),
      bookable(m)
        ? el('button', { type: 'button', id: 'to-halls', onclick: () => go({ step: 'hall' }) }, t({ zh: '下一步：选择大厅', en: 'Next: choose a hall' }))
        : el('p', { class: 'notice info' }, t({ zh: '此事项不用预约，带齐材料到大厅取号即可。', en: 'This needs no booking: bring the materials and take a ticket at the hall.' })),
      el('button', { type: 'button', class: 'secondary', id: 'other-matter', onclick: () => go({ m: null, step: 'matter', h: null, s: null, d: null, at: null }) },
        t({ zh: '换一个事项', en: 'Another matter' }))));
}

// ---- 3. the hall ----

/** offers lists every hall offering the matter: its service there, next free times and live waits. */
async function offers(m) {
  const out = [];
  const [live, ...bySvc] = await Promise.all([
    call('GET', 'halls').catch(() => ({ halls: [] })),
    ...(m.services || []).map((s) => call('GET', 'booking-halls', { query: { service: s } }).then((r) => [s, r.halls || []])),
  ]);
  const seen = new Set();
  for (const [s, halls] of bySvc) {
    for (const h of halls) {
      if (seen.has(h.id)) continue; // a hall offering two of the matter's services: the first
      seen.add(h.id);
      const lv = (live.halls || []).find((x) => x.hall === h.id);
      const sv = lv && (lv.services || []).find((x) => x.service === s);
      out.push({ hall: h, service: s, slots: h.next_slots || [], live: !!lv, waiting: sv ? sv.waiting : lv ? 0 : null,
        wait: sv ? sv.estimated_wait_s : null, silent: lv ? lv.silent : false });
    }
  }
  // the rule: of the halls with a free time, the fewest people waiting for
  // this service now; equal queues, the earliest free time
  const ranked = out.filter((o) => o.slots.length).sort((a, b) =>
    (a.waiting ?? Infinity) - (b.waiting ?? Infinity) || a.slots[0].start.localeCompare(b.slots[0].start));
  if (ranked.length) ranked[0].recommended = true;
  out.sort((a, b) => (b.recommended ? 1 : 0) - (a.recommended ? 1 : 0));
  return out;
}

async function renderHalls(main, m) {
  const list = await offers(m);
  const slotButton = (o, s) => el('button', { type: 'button', class: 'slot secondary', 'data-start': s.start,
    onclick: () => go({ h: o.hall.id, s: o.service, d: hallDay(s.start), at: s.start, step: 'confirm' }) },
  `${dayWords(hallDay(s.start))} ${hallTime(s.start)}`);
  fill(main,
    steps('hall'),
    el('h1', {}, t({ zh: '选择大厅', en: 'Choose a hall' }), el('span', { class: 'sub' }, ' · ', t(m.name))),
    el('p', { class: 'rule', id: 'rule' }, t({ zh: '推荐规则：在有空闲时段的大厅中，推荐现在排队人数最少的；人数相同时，推荐空闲时段最早的。',
      en: 'How we recommend: of the halls with a free time, the one with the fewest people waiting now; if equal, the one free soonest.' })),
    list.length ? el('ul', { class: 'halls', id: 'halls' }, list.map((o) => el('li', { class: 'card hall' + (o.recommended ? ' recommended' : ''), 'data-hall': o.hall.id },
      el('h2', {}, t(o.hall.name), o.recommended ? el('span', { class: 'badge' }, t({ zh: '推荐', en: 'Recommended' })) : null),
      el('dl', { class: 'kv' },
        el('dt', {}, t({ zh: '现在排队', en: 'Waiting now' })),
        el('dd', { class: 'waiting' }, o.waiting === null ? t({ zh: '暂无实时数据', en: 'no live data' }) : t({ zh: `${o.waiting} 人`, en: `${o.waiting} people` })),
        el('dt', {}, t({ zh: '现在去约等', en: 'Wait if you go now' })), el('dd', { class: 'wait' }, o.live ? minutes(o.wait) : t({ zh: '暂无实时数据', en: 'no live data' })),
        el('dt', {}, t({ zh: '最近空闲', en: 'Next free times' })),
        el('dd', {}, o.slots.length ? el('div', { class: 'choices' }, o.slots.map((s) => slotButton(o, s))) : t({ zh: '近期已约满', en: 'Fully booked for now' }))),
      o.silent ? el('p', { class: 'note' }, t({ zh: '该大厅的实时数据暂时没有更新。', en: 'This hall\'s live figures have not updated for a while.' })) : null,
      el('button', { type: 'button', class: 'choose-hall', disabled: !o.slots.length,
        onclick: () => go({ h: o.hall.id, s: o.service, d: o.slots.length ? hallDay(o.slots[0].start) : '', at: null, step: 'slot' }) },
      t({ zh: '选这个大厅', en: 'Choose this hall' })))))
      : el('p', { class: 'notice info' }, t({ zh: '暂时没有大厅接受这个事项的网上预约，可直接到大厅取号。', en: 'No hall takes online bookings for this yet; take a ticket at the hall.' })),
    el('div', { class: 'choices' }, el('button', { type: 'button', class: 'secondary', id: 'back-guide', onclick: () => go({ step: 'guide' }) }, t({ zh: '返回办事指南', en: 'Back to the guide' }))));
}

// ---- 4. the day and the time ----

function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  const x = new Date(Date.UTC(y, m - 1, d + n));
  return x.toISOString().slice(0, 10); // a calendar day: UTC arithmetic on a date only, no zone
}

async function renderSlots(main, m) {
  const halls = await hallNames();
  const h = halls.get(p('h'));
  if (!h) return go({ step: 'hall', h: null }, true);
  const next = await call('GET', `halls/${encodeURIComponent(h.id)}/slots`, { query: { service: p('s') } });
  const first = next.slots.length ? hallDay(next.slots[0].start) : p('d');
  const day = p('d') || first;
  const days = first ? Array.from({ length: 8 }, (_, i) => addDays(first, i)) : [];
  const slots = day ? (await call('GET', `halls/${encodeURIComponent(h.id)}/slots`, { query: { service: p('s'), day } })).slots : [];
  fill(main,
    steps('slot'),
    el('h1', {}, t({ zh: '选择日期和时间', en: 'Choose a day and time' })),
    el('p', { class: 'sub' }, t(m.name), ' · ', t(h.name)),
    el('h2', { id: 'days-h' }, t({ zh: '日期', en: 'Day' })),
    el('div', { class: 'choices days', role: 'group', 'aria-labelledby': 'days-h' }, days.map((d) => el('button', {
      type: 'button', class: 'day' + (d === day ? '' : ' secondary'), 'aria-pressed': d === day ? 'true' : 'false', 'data-day': d,
      onclick: () => go({ d, at: null }, true) }, dayWords(d)))),
    el('h2', { id: 'times-h' }, t({ zh: '时段（大厅当地时间）', en: 'Time (the hall\'s local time)' })),
    slots.length
      ? el('div', { class: 'choices times', role: 'group', 'aria-labelledby': 'times-h' }, slots.map((s) => el('button', {
        type: 'button', class: 'time secondary', 'data-start': s.start, disabled: !s.bookable,
        onclick: () => go({ at: s.start, d: hallDay(s.start), step: 'confirm' }) },
      `${hallTime(s.start)}–${hallTime(s.end)}`, el('span', { class: 'left' }, s.bookable
        ? t({ zh: `余 ${s.free}`, en: `${s.free} left` }) : s.free ? t({ zh: '不可约', en: 'not open' }) : t({ zh: '已满', en: 'full' })))))
      : el('p', { class: 'notice info', id: 'no-slots' }, t({ zh: '这一天不开放预约，请换一天。', en: 'No bookable times this day; please choose another.' })),
    el('div', { class: 'choices' }, el('button', { type: 'button', class: 'secondary', id: 'back-halls', onclick: () => go({ step: 'hall', at: null }) }, t({ zh: '换一个大厅', en: 'Another hall' }))));
  return null;
}

// ---- 5. confirm ----

function choiceKey() {
  const choice = [p('h'), p('s'), p('at'), p('m')].join('|');
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(keyStore) || 'null');
  } catch {
    kept = null;
  }
  if (kept && kept.choice === choice) return kept.key;
  const key = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  sessionStorage.setItem(keyStore, JSON.stringify({ choice, key }));
  return key;
}

async function renderConfirm(main, m) {
  const h = (await hallNames()).get(p('h'));
  if (!h || !p('at')) return go({ step: 'slot' }, true);
  const at = p('at');
  let warning = null;
  if (signedIn()) warning = (await call('GET', 'bookings').catch(() => ({}))).warning;
  const summary = el('dl', { class: 'kv summary', id: 'summary' },
    el('dt', {}, t({ zh: '事项', en: 'Matter' })), el('dd', {}, t(m.name)),
    el('dt', {}, t({ zh: '大厅', en: 'Hall' })), el('dd', {}, t(h.name)),
    el('dt', {}, t({ zh: '日期', en: 'Day' })), el('dd', { id: 'sum-day' }, dayWords(hallDay(at))),
    el('dt', {}, t({ zh: '时间', en: 'Time' })), el('dd', { id: 'sum-time' }, hallTime(at)));
  fill(main,
    steps('confirm'),
    el('h1', {}, t({ zh: '确认预约', en: 'Confirm the booking' })),
    el('section', { class: 'card' }, summary,
      signedIn()
        ? el('p', {}, t({ zh: '预约人：', en: 'Booked for: ' }), el('bdi', {}, signedIn()))
        : el('p', { class: 'notice info', id: 'need-signin' }, t({ zh: '预约前请先登录（用身份证号）。登录后会回到这一步。', en: 'Please sign in (with your ID number) to book. You will come back to this step.' }))),
    warningBox(warning),
    el('div', { id: 'problem' }, problem),
    el('div', { class: 'choices' },
      signedIn()
        ? el('button', { type: 'button', id: 'confirm', class: 'ok big', onclick: confirm }, t({ zh: '确认预约', en: 'Confirm' }))
        : el('button', { type: 'button', id: 'signin-book', class: 'big', onclick: () => signIn() }, t({ zh: '登录后预约', en: 'Sign in to book' })),
      el('button', { type: 'button', class: 'secondary', id: 'back-slots', onclick: () => go({ step: 'slot', at: null }) }, t({ zh: '换个时间', en: 'Another time' }))));
  return null;
}

async function confirm() {
  const btn = $('#confirm');
  btn.disabled = true;
  const body = { hall: p('h'), service: p('s'), slot_start: p('at'), matter: p('m') };
  try {
    done = await call('POST', 'bookings', { body, key: choiceKey() });
    sessionStorage.removeItem(keyStore);
    go({ step: 'done', b: done.booking.id }, true);
  } catch (err) {
    if (needsSignIn(err, keep, { search: location.search })) return;
    // a refusal applied nothing: the next choice gets a new key; no answer
    // (network, unavailable) keeps it, so pressing again is the same request
    if (err.status !== 0 && err.code !== ErrorCode.Unavailable) sessionStorage.removeItem(keyStore);
    problem = await refusalFor(err);
    const box = $('#problem');
    if (box) {
      fill(box, problem);
      box.scrollIntoView({ block: 'center' }); // on a phone the refusal is below the fold
    }
    btn.disabled = false;
  }
}

/** refusalFor is the refusal box with the way on that fits it. */
async function refusalFor(err) {
  const again = (text, changes) => el('button', { type: 'button', class: 'secondary', onclick: () => go(changes) }, t(text));
  const mine = el('a', { class: 'button secondary', href: '/bookings' }, t({ zh: '我的预约', en: 'My bookings' }));
  switch (err.reason) {
    case BookingReason.SlotFull: {
      const next = await call('GET', `halls/${encodeURIComponent(p('h'))}/slots`, { query: { service: p('s') } }).catch(() => ({ slots: [] }));
      return refusal(err, ...next.slots.slice(0, 4).map((s) => el('button', { type: 'button', class: 'slot', 'data-start': s.start,
        onclick: () => go({ at: s.start, d: hallDay(s.start) }) }, `${dayWords(hallDay(s.start))} ${hallTime(s.start)}`)),
      again({ zh: '看其他日期', en: 'Other days' }, { step: 'slot', at: null }));
    }
    case BookingReason.DayCap:
    case BookingReason.WeekCap:
      return refusal(err, again({ zh: '换一天', en: 'Another day' }, { step: 'slot', at: null, d: null }), mine);
    case BookingReason.AlreadyBooked:
      return refusal(err, mine);
    case BookingReason.Banned:
      return refusal(err, el('a', { class: 'button secondary', href: '/' }, t({ zh: '回到首页', en: 'Home' })));
    case BookingReason.HallClosed:
      return refusal(err, again({ zh: '换一天', en: 'Another day' }, { step: 'slot', at: null, d: null }), again({ zh: '换一个大厅', en: 'Another hall' }, { step: 'hall', at: null }));
    case BookingReason.NotReleased:
      return refusal(err, again({ zh: '选更早的日期', en: 'An earlier day' }, { step: 'slot', at: null, d: null }));
    case BookingReason.BookingCutoff:
    case BookingReason.SlotInPast:
      return refusal(err, again({ zh: '选更晚的时段', en: 'A later time' }, { step: 'slot', at: null }));
  }
  return refusal(err, el('button', { type: 'button', onclick: confirm }, t({ zh: '再试一次', en: 'Try again' })));
}

// ---- 6. done ----

async function renderDone(main, m) {
  if (!done || done.booking.id !== p('b')) done = { booking: await call('GET', `bookings/${encodeURIComponent(p('b'))}`) };
  const b = done.booking;
  const h = (await hallNames()).get(b.hall);
  fill(main,
    el('h1', { id: 'done-h' }, t({ zh: '预约成功', en: 'Booked' })),
    el('section', { class: 'card confirmation', id: 'confirmation' },
      el('p', { class: 'when' }, el('strong', {}, `${dayWords(hallDay(b.slot_start))} ${hallTime(b.slot_start)}–${hallTime(b.slot_end)}`)),
      el('p', {}, h ? t(h.name) : b.hall, ' · ', t(m.name)),
      el('div', { class: 'qr-box' }, qrSVG(b.id, t({ zh: '预约二维码', en: 'Booking QR code' }))),
      el('p', { class: 'code' }, t({ zh: '预约号 ', en: 'Booking number ' }), el('bdi', { id: 'booking-id' }, b.id)),
      el('p', {}, t({ zh: '到大厅后，在自助取号机上扫描这个二维码，或刷身份证，即可取号。可以截图保存。',
        en: 'At the hall, scan this QR code at the ticket kiosk, or swipe your ID card, to get your ticket. You can take a screenshot.' }))),
    warningBox(done.warning),
    guide(m),
    el('div', { class: 'choices no-print' },
      el('a', { class: 'button secondary', id: 'ics', href: `/api/v1/bookings/${encodeURIComponent(b.id)}.ics`, download: `${b.id}.ics` }, t({ zh: '加入日历', en: 'Add to calendar' })),
      el('button', { type: 'button', class: 'secondary', id: 'print-done', onclick: () => window.print() }, t({ zh: '打印', en: 'Print' })),
      el('a', { class: 'button', href: '/bookings', id: 'to-mine' }, t({ zh: '我的预约', en: 'My bookings' }))));
}

(async () => {
  const back = restore(keep);
  if (back && back.search && !location.search) {
    history.replaceState(null, '', '/book' + back.search);
    q = new URLSearchParams(back.search);
  }
  await me().catch(() => null);
  list = await matters().catch(() => []);
  render();
})();

// bookings.js — my bookings (/bookings): each booking with its status in
// words; an open one can show its QR code again, be added to a calendar
// (.ics from the central), be moved to another time (before the cut-off)
// or cancelled (after a confirming step). Refusals say what to do.

import { $, el, fill } from '/assets/js/hallq.js';
import { BookingStatus } from '/p/booking-codes.js';
import { call, hallDay, hallTime, t } from '/p/portal.js';
import { dayWords, header, hallNames, matterByCode, me, needsSignIn, refusal, restore, signIn, signedIn, statusWord, warningBox } from '/p/citizen.js';
import { qrSVG } from '/p/qr.js';

const keep = 'hallq.bookings.pending';

let mine = null; // {bookings, warning}
let open = null; // {id, mode: 'qr' | 'cancel' | 'move', day, at}: the booking being worked on
let note = null; // what just happened (a node)
let problem = null; // {id, node}: a refusal under a booking
let halls = new Map();

let failed = null; // why the list could not be read (not a sign-in matter)

async function load() {
  failed = null;
  try {
    mine = await call('GET', 'bookings');
  } catch (err) {
    mine = null;
    if (err.status !== 401) failed = err;
  }
}

let rendering = 0;

// render draws the list; main carries data-busy while it reads what the
// open panel needs.
async function render() {
  const main = $('#main');
  const me = ++rendering;
  main.dataset.busy = '1';
  try {
    await draw(main);
  } finally {
    if (me === rendering) delete main.dataset.busy;
  }
}

async function draw(main) {
  header(render);
  if (failed) {
    fill(main, el('h1', {}, t({ zh: '我的预约', en: 'My bookings' })),
      refusal(failed, el('button', { type: 'button', id: 'reload', onclick: async () => { await load(); render(); } }, t({ zh: '再试一次', en: 'Try again' }))));
    return;
  }
  if (!signedIn() || !mine) {
    fill(main, el('h1', {}, t({ zh: '我的预约', en: 'My bookings' })),
      el('section', { class: 'card' }, el('p', {}, t({ zh: '请先登录，才能看到您的预约。', en: 'Please sign in to see your bookings.' })),
        el('button', { type: 'button', id: 'signin-mine', class: 'big', onclick: () => signIn() }, t({ zh: '登录', en: 'Sign in' }))));
    return;
  }
  const cards = [];
  for (const b of mine.bookings) cards.push(await card(b));
  fill(main,
    el('h1', {}, t({ zh: '我的预约', en: 'My bookings' })),
    el('div', { id: 'note', role: 'status' }, note),
    warningBox(mine.warning),
    mine.bookings.length ? el('ul', { class: 'bookings', id: 'bookings' }, cards)
      : el('p', { class: 'empty', id: 'none' }, t({ zh: '还没有预约。', en: 'No bookings yet.' })),
    el('div', { class: 'choices' }, el('a', { class: 'button', href: '/book' }, t({ zh: '预约办事', en: 'Book a visit' }))));
}

async function card(b) {
  const m = b.matter ? await matterByCode(b.matter) : null;
  const h = halls.get(b.hall);
  const isOpen = b.status === BookingStatus.Booked;
  const toggle = (mode, text, cls = 'secondary') => el('button', { type: 'button', class: `${cls} act-${mode}`, 'aria-expanded': open && open.id === b.id && open.mode === mode ? 'true' : 'false',
    onclick: () => { open = open && open.id === b.id && open.mode === mode ? null : { id: b.id, mode }; problem = null; render(); } }, t(text));
  const here = open && open.id === b.id ? open : null;
  return el('li', { class: 'card booking', 'data-booking': b.id, 'data-status': b.status },
    el('h2', {}, m ? t(m.name) : t({ zh: `业务 ${b.service}`, en: `Service ${b.service}` }), ' ',
      el('span', { class: `pill status-${b.status}` }, statusWord(b.status))),
    el('p', { class: 'when' }, el('strong', {}, `${dayWords(hallDay(b.slot_start))} ${hallTime(b.slot_start)}–${hallTime(b.slot_end)}`)),
    el('p', {}, h ? t(h.name) : b.hall),
    el('p', { class: 'code' }, t({ zh: '预约号 ', en: 'Booking number ' }), el('bdi', {}, b.id)),
    b.reason ? el('p', { class: 'notice info' }, t({ zh: '取消原因：', en: 'Why it was cancelled: ' }), t(b.reason)) : null,
    b.status === BookingStatus.Arrived && b.ticket ? el('p', {}, el('a', { href: `/t/${encodeURIComponent(b.ticket)}` }, t({ zh: '查看我的排队', en: 'Follow my ticket' }))) : null,
    isOpen ? el('div', { class: 'choices' },
      toggle('qr', { zh: '显示二维码', en: 'Show QR code' }),
      el('a', { class: 'button secondary act-ics', href: `/api/v1/bookings/${encodeURIComponent(b.id)}.ics`, download: `${b.id}.ics` }, t({ zh: '加入日历', en: 'Add to calendar' })),
      toggle('move', { zh: '改期', en: 'Reschedule' }),
      toggle('cancel', { zh: '取消预约', en: 'Cancel' }, 'danger')) : null,
    here && here.mode === 'qr' ? el('div', { class: 'qr-box' }, qrSVG(b.id, t({ zh: '预约二维码', en: 'Booking QR code' })),
      el('p', {}, t({ zh: '在大厅自助取号机上扫描即可取号。', en: 'Scan it at the hall\'s ticket kiosk.' }))) : null,
    here && here.mode === 'cancel' ? el('div', { class: 'confirm-box', role: 'group', 'aria-label': t({ zh: '确认取消', en: 'Confirm cancelling' }) },
      el('p', {}, el('strong', {}, t({ zh: '确定要取消这个预约吗？', en: 'Cancel this booking?' })), ' ',
        t({ zh: '取消后这个时段会让给别人。', en: 'The place goes to someone else.' })),
      el('div', { class: 'choices' },
        el('button', { type: 'button', class: 'danger', id: 'cancel-yes', onclick: () => cancel(b) }, t({ zh: '是，取消预约', en: 'Yes, cancel it' })),
        el('button', { type: 'button', class: 'secondary', id: 'cancel-no', onclick: () => { open = null; render(); } }, t({ zh: '不取消', en: 'Keep it' })))) : null,
    here && here.mode === 'move' ? await movePanel(b, here) : null,
    problem && problem.id === b.id ? problem.node : null);
}

function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10); // a calendar day, no zone
}

async function movePanel(b, st) {
  const path = `halls/${encodeURIComponent(b.hall)}/slots`;
  const next = await call('GET', path, { query: { service: b.service } }).catch(() => ({ slots: [] }));
  const first = next.slots.length ? hallDay(next.slots[0].start) : hallDay(b.slot_start);
  const day = st.day || first;
  const slots = (await call('GET', path, { query: { service: b.service, day } }).catch(() => ({ slots: [] }))).slots;
  const pick = (changes) => { Object.assign(open, changes); problem = null; render(); };
  return el('div', { class: 'move-box' },
    el('h3', { id: `days-${b.id}` }, t({ zh: '改到哪一天？', en: 'Move to which day?' })),
    el('div', { class: 'choices days', role: 'group', 'aria-labelledby': `days-${b.id}` }, Array.from({ length: 8 }, (_, i) => addDays(first, i)).map((d) =>
      el('button', { type: 'button', class: 'day' + (d === day ? '' : ' secondary'), 'aria-pressed': d === day ? 'true' : 'false', 'data-day': d,
        onclick: () => pick({ day: d, at: null }) }, dayWords(d)))),
    el('h3', { id: `times-${b.id}` }, t({ zh: '时段（大厅当地时间）', en: 'Time (the hall\'s local time)' })),
    slots.length ? el('div', { class: 'choices times', role: 'group', 'aria-labelledby': `times-${b.id}` }, slots.map((s) => el('button', {
      type: 'button', class: 'time' + (s.start === st.at ? '' : ' secondary'), 'data-start': s.start, 'aria-pressed': s.start === st.at ? 'true' : 'false',
      disabled: !s.bookable || s.start === b.slot_start, onclick: () => pick({ at: s.start }) },
    `${hallTime(s.start)}–${hallTime(s.end)}`, el('span', { class: 'left' }, s.bookable ? t({ zh: `余 ${s.free}`, en: `${s.free} left` }) : t({ zh: '已满', en: 'full' })))))
      : el('p', { class: 'notice info' }, t({ zh: '这一天不开放预约，请换一天。', en: 'No bookable times this day; please choose another.' })),
    st.at ? el('div', { class: 'choices' },
      el('button', { type: 'button', class: 'ok', id: 'move-yes', onclick: () => move(b, st.at) },
        t({ zh: `确认改到 ${dayWords(hallDay(st.at))} ${hallTime(st.at)}`, en: `Move it to ${dayWords(hallDay(st.at))} ${hallTime(st.at)}` }))) : null);
}

async function act(b, fn, done) {
  try {
    await fn();
    open = null;
    problem = null;
    note = el('p', { class: 'notice ok-note' }, done);
    await load();
  } catch (err) {
    if (needsSignIn(err, keep, open)) return;
    problem = { id: b.id, node: refusal(err) };
  }
  await render();
  const shown = problem && problem.node.isConnected ? problem.node : $('#note');
  if (shown) shown.scrollIntoView({ block: 'center' });
}

const cancel = (b) => act(b, () => call('POST', `bookings/${encodeURIComponent(b.id)}/cancel`), t({ zh: '预约已取消。', en: 'The booking is cancelled.' }));
const move = (b, at) => act(b, () => call('POST', `bookings/${encodeURIComponent(b.id)}/reschedule`, { body: { slot_start: at } }),
  t({ zh: `已改到 ${dayWords(hallDay(at))} ${hallTime(at)}。`, en: `Moved to ${dayWords(hallDay(at))} ${hallTime(at)}.` }));

(async () => {
  open = restore(keep);
  await me().catch(() => null);
  halls = await hallNames().catch(() => new Map());
  await load();
  render();
})();

// calendar.js — /province/calendars/{hall}: a hall's calendar, slot
// length and capacities (GET/PUT /api/v1/staff/halls/{hall} with the
// revision read; a conflict asks to reload), validation refusals at the
// field the server names (details.field), how many bookings a change
// cancelled, and the kept revisions (GET …/history).

import { $, el, fill } from '/assets/js/hallq.js';
import { call, hallDay, hallTime, t } from '/p/portal.js';
import { BookingReason } from '/p/booking-codes.js';
import { chrome, clearErr, sayErr, showErr, words } from '/province/p/supervise.js';

const W = {
  title: { zh: '大厅日历', en: 'Hall calendar' },
  conflict: { zh: '别人刚刚修改过这个大厅的日历，请重新载入后再改。', en: 'Someone changed this hall’s calendar meanwhile: reload, then edit again.' },
  reload: { zh: '重新载入', en: 'Reload' },
  calTitle: { zh: '办公时间与号源', en: 'Opening hours and capacity' },
  nameZh: { zh: '大厅名称（中文）', en: 'Hall name (Chinese)' },
  nameEn: { zh: '大厅名称（英文）', en: 'Hall name (English)' },
  zone: { zh: '时区', en: 'Time zone' },
  slot: { zh: '每个时段（分钟）', en: 'Slot length (minutes)' },
  capacity: { zh: '每时段号源（如 A=2 B=3）', en: 'Seats per slot (e.g. A=2 B=3)' },
  weekly: { zh: '每周办公时间（如 09:00-12:00 13:30-17:00，午休为两段之间；空为不办公）', en: 'Weekly hours (e.g. 09:00-12:00 13:30-17:00; the lunch break is the gap; empty: closed)' },
  holidays: { zh: '法定节假日（每行一天 YYYY-MM-DD）', en: 'Public holidays (one day a line, YYYY-MM-DD)' },
  workdays: { zh: '调休上班日（每行一天）', en: 'Make-up working days (调休, one a line)' },
  closures: { zh: '临时闭厅（每行：日期 中文原因 | 英文原因）', en: 'Closures (a line each: day, Chinese reason | English reason)' },
  bonly: { zh: '仅限预约时段（每行：业务 星期 起-止，如 B mon 09:00-10:00）', en: 'Booking-only hours (a line each: service weekday from-to, e.g. B mon 09:00-10:00)' },
  save: { zh: '保存', en: 'Save' },
  histTitle: { zh: '修改记录', en: 'Revisions' },
  savedMsg: { zh: '已保存（第 {r} 次修改）。因时段取消的预约：{n} 个，群众会看到原因。', en: 'Saved (revision {r}). Bookings cancelled because their slot is gone: {n}; citizens see why.' },
};
const days = { mon: ['周一', 'Monday'], tue: ['周二', 'Tuesday'], wed: ['周三', 'Wednesday'], thu: ['周四', 'Thursday'], fri: ['周五', 'Friday'], sat: ['周六', 'Saturday'], sun: ['周日', 'Sunday'] };

const id = decodeURIComponent(location.pathname.split('/').pop());
let hall = null;
let history = [];

const lines = (v) => v.split(/[\n,，\s]+/).map((s) => s.trim()).filter(Boolean);

function spans(v) {
  return v.split(/[\s,，]+/).filter(Boolean).map((s) => {
    const [from, to] = s.split(/[-–~]/);
    return { from: from || '', to: to || '' };
  });
}

function fillForm() {
  $('#hall-name').textContent = `${t(hall.name)} (${hall.id})`;
  $('#c-name-zh').value = hall.name.zh || '';
  $('#c-name-en').value = hall.name.en || '';
  $('#c-zone').value = hall.calendar.zone;
  $('#c-slot').value = hall.slot_minutes;
  $('#c-capacity').value = Object.entries(hall.capacity).sort().map(([k, v]) => `${k}=${v}`).join(' ');
  fill($('#weekly'), Object.entries(days).map(([k, w]) => el('div', {},
    el('label', { for: 'w-' + k }, t(w)),
    el('input', { id: 'w-' + k, name: 'calendar.weekly.' + k, value: (hall.calendar.weekly[k] || []).map((s) => `${s.from}-${s.to}`).join(' ') }))));
  $('#c-holidays').value = (hall.calendar.holidays || []).join('\n');
  $('#c-workdays').value = (hall.calendar.workdays || []).join('\n');
  $('#c-closures').value = (hall.calendar.closures || []).map((c) => `${c.day} ${c.reason.zh}${c.reason.en ? ' | ' + c.reason.en : ''}`).join('\n');
  $('#c-bonly').value = (hall.calendar.booking_only || []).map((b) => `${b.service} ${b.weekday} ${b.from}-${b.to}`).join('\n');
}

function fromForm() {
  const weekly = {};
  for (const k of Object.keys(days)) {
    const v = $('#w-' + k).value.trim();
    if (v) weekly[k] = spans(v);
  }
  const capacity = {};
  for (const p of $('#c-capacity').value.split(/[\s,，]+/).filter(Boolean)) {
    const [k, n] = p.split(/[=:：]/);
    capacity[(k || '').trim().toUpperCase()] = Number(n);
  }
  const closures = $('#c-closures').value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [day, ...rest] = l.split(/\s+/);
    const [zh, en] = rest.join(' ').split('|').map((s) => s.trim());
    return { day, reason: { zh: zh || '', en: en || undefined } };
  });
  const bookingOnly = $('#c-bonly').value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [service, weekday, span] = l.split(/\s+/);
    const [s] = spans(span || '');
    return { service: (service || '').toUpperCase(), weekday: (weekday || '').toLowerCase(), from: s ? s.from : '', to: s ? s.to : '' };
  });
  return {
    id: hall.id, revision: hall.revision,
    name: { zh: $('#c-name-zh').value.trim(), en: $('#c-name-en').value.trim() || undefined },
    slot_minutes: Number($('#c-slot').value), capacity,
    calendar: { zone: $('#c-zone').value.trim(), weekly, holidays: lines($('#c-holidays').value), workdays: lines($('#c-workdays').value), closures, booking_only: bookingOnly },
  };
}

function render() {
  words(W);
  if (!hall) return;
  fillForm();
  fill($('#history'), history.map((r) => el('li', { 'data-revision': r.revision },
    `#${r.revision} · ${hallDay(r.at)} ${hallTime(r.at)} · ${r.slot_minutes} min · ${t({ zh: '节假日', en: 'holidays' })} ${r.holidays} · ${t({ zh: '调休', en: 'make-up days' })} ${r.workdays}${r.closures.length ? ` · ${t({ zh: '闭厅', en: 'closed' })} ${r.closures.join(', ')}` : ''}`)));
}

async function load() {
  $('#conflict').hidden = true;
  const [h, hist] = await Promise.all([call('GET', `staff/halls/${encodeURIComponent(id)}`), call('GET', `staff/halls/${encodeURIComponent(id)}/history`)]);
  hall = h;
  history = hist.revisions;
  render();
}

async function save(ev) {
  ev.preventDefault();
  const f = $('#cal');
  clearErr(f);
  $('#saved').hidden = true;
  try {
    const r = await call('PUT', `staff/halls/${encodeURIComponent(id)}`, { body: fromForm() });
    hall = r.hall;
    history = (await call('GET', `staff/halls/${encodeURIComponent(id)}/history`)).revisions;
    render();
    const s = $('#saved');
    s.textContent = t(W.savedMsg).replace('{r}', r.hall.revision).replace('{n}', r.cancelled);
    s.hidden = false;
  } catch (e) {
    if (e.reason === BookingReason.Changed) {
      $('#conflict').hidden = false;
      return;
    }
    showErr(f, e);
  }
}

async function start() {
  const me = await chrome(() => { chrome(render); render(); });
  words(W);
  if (!me) return;
  $('#page').hidden = false;
  $('#cal').addEventListener('submit', save);
  $('#reload').addEventListener('click', load);
  try {
    await load();
  } catch (e) {
    fill($('#gate'), el('p', { class: 'error', role: 'alert' }, sayErr(e)));
    $('#gate').hidden = false;
    $('#page').hidden = true;
  }
}

start();

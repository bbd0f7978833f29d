// bookings.js — /province/bookings: capacity use per hall, service and
// day (GET /api/v1/staff/halls/{hall}/usage), the banned list with the
// missed bookings behind each ban (GET /api/v1/staff/bans), lifting a ban
// with a reason (POST /api/v1/staff/bans/{ref}/lift, province admin), and
// the audit trail of staff changes (GET /api/v1/staff/audit).

import { $, el, fill } from '/assets/js/hallq.js';
import { call, hallDay, hallTime, t } from '/p/portal.js';
import { BookingReason, StaffRole } from '/p/booking-codes.js';
import { chrome, clearErr, hallToday, pct, roleName, sayErr, showErr, words } from '/province/p/supervise.js';

const W = {
  title: { zh: '预约监管', en: 'Booking supervision' },
  useTitle: { zh: '号源使用（按大厅、业务、日期）', en: 'Capacity use by hall, service and day' },
  hall: { zh: '大厅', en: 'Hall' },
  from: { zh: '从', en: 'From' },
  to: { zh: '到', en: 'To' },
  show: { zh: '查看', en: 'Show' },
  day: { zh: '日期', en: 'Day' },
  service: { zh: '业务', en: 'Service' },
  capacity: { zh: '号源', en: 'Capacity' },
  booked: { zh: '已预约', en: 'Booked' },
  arrived: { zh: '已到', en: 'Arrived' },
  missed: { zh: '爽约', en: 'Missed' },
  cancelled: { zh: '已取消', en: 'Cancelled' },
  noShow: { zh: '爽约率', en: 'No-show rate' },
  total: { zh: '合计', en: 'Total' },
  noRows: { zh: '所选日期没有号源。', en: 'No capacity on the days chosen.' },
  banTitle: { zh: '限制预约名单（爽约）', en: 'Barred from booking (missed bookings)' },
  citizen: { zh: '群众（证件号已遮挡）', en: 'Citizen (masked ID)' },
  misses: { zh: '爽约次数', en: 'Misses' },
  since: { zh: '限制开始', en: 'Since' },
  until: { zh: '可再预约', en: 'Books again on' },
  behind: { zh: '爽约记录', en: 'Missed bookings' },
  action: { zh: '操作', en: 'Action' },
  lift: { zh: '解除限制', en: 'Lift the ban' },
  noBans: { zh: '目前没有被限制预约的群众。', en: 'Nobody is barred from booking now.' },
  liftTitle: { zh: '解除预约限制', en: 'Lift a booking ban' },
  liftReason: { zh: '解除原因（将记入审计）', en: 'Why (kept in the audit trail)' },
  liftOk: { zh: '解除限制', en: 'Lift the ban' },
  cancel: { zh: '取消', en: 'Cancel' },
  lifted: { zh: '已解除，该群众现在可以预约。', en: 'Lifted: this citizen can book again now.' },
  onlyAdmin: { zh: '仅省级管理员可解除', en: 'Only a province admin lifts bans' },
  auditTitle: { zh: '操作审计（最近）', en: 'Audit trail (recent)' },
  when: { zh: '时间', en: 'When' },
  who: { zh: '操作人', en: 'Who' },
  what: { zh: '操作', en: 'What' },
  target: { zh: '对象', en: 'Target' },
  reason: { zh: '原因', en: 'Reason' },
  change: { zh: '变更', en: 'Change' },
  noAudit: { zh: '暂无记录。', en: 'Nothing recorded yet.' },
};

const actionWords = {
  'ban.lifted': { zh: '解除预约限制', en: 'Ban lifted' },
  'catalog.published': { zh: '发布事项目录', en: 'Catalogue published' },
  'hall.saved': { zh: '保存大厅日历', en: 'Hall calendar saved' },
  'workorder.followed_up': { zh: '工单回访', en: 'Work order followed up' },
  'workorder.closed': { zh: '工单办结', en: 'Work order closed' },
};

let me = null;
let bans = [];
let rule = null;
let usage = null;
let entries = [];
let liftRef = '';

function rule_text() {
  if (!rule) return '';
  return t({
    zh: `规则：${rule.missed_days} 天内爽约 ${rule.missed_limit} 次，暂停网上预约 ${rule.ban_days} 天。`,
    en: `Rule: ${rule.missed_limit} missed bookings within ${rule.missed_days} days suspend online booking for ${rule.ban_days} days.`,
  });
}

function renderUsage() {
  const body = $('#use-table tbody');
  if (!usage) return fill(body);
  if (!usage.rows.length) {
    fill(body, el('tr', {}, el('td', { colspan: 8 }, t(W.noRows))));
  } else {
    fill(body, usage.rows.map((r) => el('tr', { 'data-day': r.day, 'data-service': r.service },
      el('td', {}, r.day), el('td', {}, r.service), el('td', { class: 'num' }, r.capacity), el('td', { class: 'num' }, r.booked),
      el('td', { class: 'num' }, r.arrived), el('td', { class: 'num' }, r.missed), el('td', { class: 'num' }, r.cancelled),
      el('td', { class: 'num' }, pct(r.no_show_rate)))));
  }
  const s = usage.total;
  $('#use-total').textContent = `${t(W.total)}：${t(W.capacity)} ${s.capacity} · ${t(W.booked)} ${s.booked} · ${t(W.arrived)} ${s.arrived} · ${t(W.missed)} ${s.missed} · ${t(W.noShow)} ${pct(s.no_show_rate)}`;
}

function renderBans() {
  $('#ban-rule').textContent = rule_text();
  $('#ban-none').hidden = bans.length > 0;
  const admin = me && me.role === StaffRole.ProvinceAdmin;
  fill($('#ban-table tbody'), bans.map((b) => el('tr', { 'data-ref': b.ref },
    el('th', { scope: 'row', class: 'masked' }, b.masked || '—'),
    el('td', { class: 'num' }, b.misses),
    el('td', {}, b.since),
    el('td', {}, b.until),
    el('td', {}, el('ul', {}, b.missed.map((m) => el('li', {}, `${hallDay(m.slot_start) || m.day} ${hallTime(m.slot_start)} · ${m.hall} · ${m.service}`)))),
    el('td', {}, admin
      ? el('button', { type: 'button', class: 'danger lift', 'data-ref': b.ref, onclick: () => openLift(b) }, t(W.lift))
      : el('span', { class: 'hint' }, t(W.onlyAdmin))))));
}

function renderAudit() {
  const body = $('#audit-table tbody');
  if (!entries.length) return fill(body, el('tr', {}, el('td', { colspan: 6 }, t(W.noAudit))));
  const small = (j) => (j ? JSON.stringify(j).slice(0, 160) : '');
  fill(body, entries.map((e) => el('tr', { 'data-action': e.action },
    el('td', {}, `${hallDay(e.at)} ${hallTime(e.at)}`),
    el('td', {}, `${e.who} · ${roleName(e.role)}`),
    el('td', {}, t(actionWords[e.action] || { zh: e.action, en: e.action })),
    el('td', {}, e.hall ? `${e.hall} · ${e.target}` : e.target),
    el('td', {}, e.reason || ''),
    el('td', { class: 'change' }, e.before || e.after ? `${small(e.before)} → ${small(e.after)}` : ''))));
}

function render() {
  words(W);
  renderUsage();
  renderBans();
  renderAudit();
}

function openLift(b) {
  liftRef = b.ref;
  const form = $('#lift-form');
  clearErr(form);
  form.reset();
  $('#lift-who').textContent = `${b.masked} · ${t(W.until)} ${b.until}`;
  $('#lift').showModal();
  $('#lift-reason').focus();
}

async function loadBans() {
  const r = await call('GET', 'staff/bans');
  bans = r.bans;
  rule = r.rule;
}

async function loadAudit() {
  entries = (await call('GET', 'staff/audit', { query: { limit: 50 } })).entries;
}

async function showUsage(ev) {
  if (ev) ev.preventDefault();
  const form = $('#use-form');
  clearErr(form);
  try {
    usage = await call('GET', `staff/halls/${encodeURIComponent($('#use-hall').value)}/usage`, { query: { from: $('#use-from').value, to: $('#use-to').value } });
    renderUsage();
  } catch (e) {
    showErr(form, e);
  }
}

async function lift(ev) {
  ev.preventDefault();
  const form = $('#lift-form');
  clearErr(form);
  const reason = $('#lift-reason').value.trim();
  try {
    await call('POST', `staff/bans/${encodeURIComponent(liftRef)}/lift`, { body: { reason } });
  } catch (e) {
    showErr(form, e, e.reason === BookingReason.BadField ? 'reason' : '');
    return;
  }
  $('#lift').close();
  const done = $('#ban-done');
  done.textContent = t(W.lifted);
  done.hidden = false;
  await Promise.all([loadBans(), loadAudit()]);
  render();
}

async function start() {
  me = await chrome(() => { chrome(render); render(); });
  words(W);
  if (!me) return;
  $('#page').hidden = false;
  $('#use-from').value = hallToday(-7);
  $('#use-to').value = hallToday(7);
  $('#use-form').addEventListener('submit', showUsage);
  $('#lift-form').addEventListener('submit', lift);
  $('#lift-cancel').addEventListener('click', () => $('#lift').close());
  try {
    const halls = (await call('GET', 'staff/halls')).halls;
    fill($('#use-hall'), halls.map((h) => el('option', { value: h.id }, `${t(h.name)} (${h.id})`)));
    if (halls.length) { // the days around the first hall's today
      $('#use-from').value = hallToday(-7, halls[0].calendar.zone);
      $('#use-to').value = hallToday(7, halls[0].calendar.zone);
    }
    await Promise.all([loadBans(), loadAudit()]);
    render();
    if (halls.length) await showUsage();
  } catch (e) {
    const g = $('#gate');
    g.hidden = false;
    fill(g, el('p', { class: 'error', role: 'alert' }, sayErr(e)));
  }
}

start();

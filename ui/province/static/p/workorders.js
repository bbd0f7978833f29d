// workorders.js — /province/workorders: the work orders made from poor
// ratings (GET /api/v1/staff/workorders), the overdue ones as alerts
// (GET /api/v1/staff/workorders/alerts), a follow-up (回访) record
// (POST …/{id}/followup) and closing after it (POST …/{id}/close). A
// supervisor sees their halls' orders only (the server decides).

import { $, el, fill } from '/assets/js/hallq.js';
import { call, hallDay, hallTime, t } from '/p/portal.js';
import { chrome, clearErr, sayErr, showErr, wallInstant, words, zoneOf } from '/province/p/supervise.js';

const W = {
  title: { zh: '差评工单', en: 'Work orders from poor ratings' },
  status: { zh: '状态', en: 'Status' },
  all: { zh: '全部', en: 'All' },
  open: { zh: '待回访', en: 'Open' },
  followed_up: { zh: '已回访', en: 'Followed up' },
  closed: { zh: '已办结', en: 'Closed' },
  overdue: { zh: '已超期', en: 'Overdue' },
  hall: { zh: '大厅', en: 'Hall' },
  allHalls: { zh: '全部大厅', en: 'Every hall' },
  show: { zh: '筛选', en: 'Filter' },
  none: { zh: '没有符合条件的工单。', en: 'No work orders match.' },
  fuTitle: { zh: '回访记录', en: 'Follow-up (回访)' },
  how: { zh: '回访方式', en: 'How' },
  phone: { zh: '电话', en: 'Phone' },
  visit: { zh: '上门/来厅', en: 'Visit' },
  other: { zh: '其他', en: 'Other' },
  at: { zh: '回访时间（大厅时间，不填为现在）', en: 'When (hall time; empty: now)' },
  said: { zh: '群众反映', en: 'What the citizen said' },
  result: { zh: '处理结果', en: 'Result' },
  save: { zh: '保存回访', en: 'Save the follow-up' },
  cancel: { zh: '取消', en: 'Cancel' },
  clTitle: { zh: '办结工单', en: 'Close the work order' },
  note: { zh: '办结说明', en: 'Closing note' },
  closeIt: { zh: '办结', en: 'Close' },
  followUp: { zh: '填写回访', en: 'Record a follow-up' },
  closeBtn: { zh: '办结', en: 'Close' },
  score: { zh: '评价', en: 'Rating' },
  channel: { zh: '渠道', en: 'Channel' },
  reason: { zh: '差评原因', en: 'Reason given' },
  ticket: { zh: '号码', en: 'Ticket' },
  window: { zh: '窗口', en: 'Window' },
  citizen: { zh: '群众', en: 'Citizen' },
  ratedAt: { zh: '评价时间', en: 'Rated' },
  due: { zh: '办结期限', en: 'Due by' },
  followUps: { zh: '回访', en: 'Follow-ups' },
  closedBy: { zh: '办结', en: 'Closed' },
  alerts: { zh: '超期未办结的工单', en: 'Work orders past their deadline' },
};
const levels = [null,
  { zh: '非常不满意', en: 'Very dissatisfied' }, { zh: '不满意', en: 'Dissatisfied' }, { zh: '基本满意', en: 'Basically satisfied' },
  { zh: '满意', en: 'Satisfied' }, { zh: '非常满意', en: 'Very satisfied' }];
const channels = {
  window_pad: { zh: '窗口评价器', en: 'Window pad' }, kiosk: { zh: '自助终端', en: 'Kiosk' },
  phone: { zh: '二维码', en: 'QR code' }, online: { zh: '网上', en: 'Online' },
};

let orders = [];
let alerts = [];
let days = 15;
let current = null;

const when = (iso) => `${hallDay(iso)} ${hallTime(iso)}`;

function orderCard(o) {
  const state = o.overdue ? 'overdue' : o.status;
  const facts = [
    [W.ticket, `${o.number} · ${o.hall}${o.window ? ` · ${t(W.window)} ${o.window}` : ''}${o.clerk ? ` · ${o.clerk}` : ''}`],
    [W.score, `${o.score} · ${t(levels[o.score])}${o.matter_name ? ` · ${t(o.matter_name)}` : ''}`],
    [W.channel, t(channels[o.channel] || { zh: o.channel, en: o.channel })],
    [W.reason, o.reason || '—'],
    [W.citizen, o.masked || '—'],
    [W.ratedAt, when(o.rated_at)],
    [W.due, o.due],
  ];
  return el('article', { class: `card order ${state}`, id: 'o-' + o.id, 'data-id': o.id, 'data-status': o.status, 'aria-labelledby': 'h-' + o.id },
    el('h2', { id: 'h-' + o.id }, `${o.number} · ${o.hall} `,
      el('span', { class: 'badge ' + o.status }, t(W[o.status])), ' ',
      o.overdue ? el('span', { class: 'badge overdue' }, t(W.overdue)) : null),
    el('dl', { class: 'facts' }, facts.flatMap(([k, v]) => [el('dt', {}, t(k)), el('dd', {}, v)])),
    o.follow_ups.length
      ? el('section', { class: 'follow-ups' }, el('h3', {}, t(W.followUps)),
        el('ul', {}, o.follow_ups.map((f) => el('li', {}, `${when(f.at)} · ${t(W[f.how])} · ${f.by}：${f.said} → ${f.result}`))))
      : null,
    o.closed ? el('p', { class: 'closed-note' }, `${t(W.closedBy)} ${when(o.closed.at)} · ${o.closed.by}：${o.closed.note}`) : null,
    o.status === 'closed' ? null : el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'follow', onclick: () => openFollowUp(o) }, t(W.followUp)),
      el('button', { type: 'button', class: 'ok close', onclick: () => openClose(o) }, t(W.closeBtn))));
}

function render() {
  words(W);
  $('#rule').textContent = t({ zh: `每条差评（1–2 分）生成一张工单，期限为 ${days} 个工作日（按大厅日历），回访后方可办结。`,
    en: `Every poor rating (1–2) becomes a work order due in ${days} working days (on the hall's calendar); it closes only after a follow-up.` });
  const a = $('#alerts');
  a.hidden = alerts.length === 0;
  a.textContent = alerts.length ? `${t(W.alerts)}${t({ zh: '：', en: ': ' })}${alerts.length} — ${alerts.map((x) => `${x.hall} (${x.due})`).join(t({ zh: '，', en: ', ' }))}` : '';
  $('#none').hidden = orders.length > 0;
  fill($('#orders'), orders.map(orderCard));
}

async function load() {
  const f = $('#filter');
  clearErr(f);
  try {
    const [l, al] = await Promise.all([
      call('GET', 'staff/workorders', { query: { status: $('#f-status').value, hall: $('#f-hall').value } }),
      call('GET', 'staff/workorders/alerts'),
    ]);
    orders = l.orders;
    days = l.working_days;
    alerts = al.alerts;
    const halls = new Set([...$('#f-hall').options].map((o) => o.value));
    for (const o of orders) if (!halls.has(o.hall)) { $('#f-hall').append(el('option', { value: o.hall }, o.hall)); halls.add(o.hall); }
    render();
  } catch (e) {
    showErr(f, e);
  }
}

function openFollowUp(o) {
  current = o;
  const form = $('#fu-form');
  form.reset();
  clearErr(form);
  $('#fu-order').textContent = `${o.number} · ${o.hall} · ${o.masked || ''}`;
  $('#fu').showModal();
  $('#fu-how').focus();
}

function openClose(o) {
  current = o;
  const form = $('#cl-form');
  form.reset();
  clearErr(form);
  $('#cl-order').textContent = `${o.number} · ${o.hall}`;
  $('#cl').showModal();
  $('#cl-note').focus();
}

async function saveFollowUp(ev) {
  ev.preventDefault();
  const form = $('#fu-form');
  clearErr(form);
  const body = { how: $('#fu-how').value, said: $('#fu-said').value, result: $('#fu-result').value };
  const at = wallInstant($('#fu-at').value, await zoneOf(current.hall)); // the order's hall's wall time
  if (at) body.at = at;
  try {
    await call('POST', `staff/workorders/${current.id}/followup`, { body });
  } catch (e) {
    showErr(form, e);
    return;
  }
  $('#fu').close();
  await load();
}

async function saveClose(ev) {
  ev.preventDefault();
  const form = $('#cl-form');
  clearErr(form);
  try {
    await call('POST', `staff/workorders/${current.id}/close`, { body: { note: $('#cl-note').value } });
  } catch (e) {
    showErr(form, e);
    return;
  }
  $('#cl').close();
  await load();
}

async function start() {
  const me = await chrome(() => { chrome(render); render(); });
  words(W);
  if (!me) return;
  $('#page').hidden = false;
  for (const h of me.halls || []) $('#f-hall').append(el('option', { value: h }, h));
  $('#filter').addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  $('#fu-form').addEventListener('submit', saveFollowUp);
  $('#cl-form').addEventListener('submit', saveClose);
  $('#fu-cancel').addEventListener('click', () => $('#fu').close());
  $('#cl-cancel').addEventListener('click', () => $('#cl').close());
  try {
    await load();
  } catch (e) {
    fill($('#gate'), el('p', { class: 'error', role: 'alert' }, sayErr(e)));
    $('#gate').hidden = false;
  }
}

start();

// catalog.js — /province/catalog: the matter catalogue (GET /api/v1/catalog),
// one matter edited at a time and the whole next version published
// (PUT /api/v1/staff/catalog with base_version; a conflict asks to
// reload), validation refusals at the field the server names
// (details.field), the kept versions (GET /api/v1/staff/catalog/versions)
// and links to the halls' calendars.

import { $, el, fill } from '/assets/js/hallq.js';
import { call, hallDay, hallTime, t } from '/p/portal.js';
import { BookingReason, StaffRole } from '/p/booking-codes.js';
import { chrome, clearErr, sayErr, showErr, words } from '/province/p/supervise.js';

const W = {
  title: { zh: '事项目录', en: 'Matter catalogue' },
  conflict: { zh: '别人刚刚修改过目录，请重新载入后再改。', en: 'Someone changed the catalogue meanwhile: reload, then edit again.' },
  reload: { zh: '重新载入', en: 'Reload' },
  listTitle: { zh: '事项', en: 'Matters' },
  code: { zh: '编码', en: 'Code' },
  name: { zh: '名称', en: 'Name' },
  services: { zh: '业务', en: 'Services' },
  servicesHint: { zh: '业务字母（如 A,B）', en: 'Service letters (e.g. A,B)' },
  booking: { zh: '预约', en: 'Booking' },
  action: { zh: '操作', en: 'Action' },
  edit: { zh: '编辑', en: 'Edit' },
  new: { zh: '新增事项', en: 'New matter' },
  edTitle: { zh: '编辑事项', en: 'Edit a matter' },
  nameZh: { zh: '名称（中文）', en: 'Name (Chinese)' },
  nameEn: { zh: '名称（英文）', en: 'Name (English)' },
  bNone: { zh: '不需预约', en: 'Walk-in only' },
  bAllowed: { zh: '可预约', en: 'Booking possible' },
  bRequired: { zh: '须预约', en: 'Booking required' },
  limit: { zh: '法定时限（工作日）', en: 'Time limit (working days)' },
  feesZh: { zh: '收费（中文）', en: 'Fees (Chinese)' },
  feesEn: { zh: '收费（英文）', en: 'Fees (English)' },
  whereZh: { zh: '办理地点/备注（中文）', en: 'Where / notes (Chinese)' },
  whereEn: { zh: '办理地点/备注（英文）', en: 'Where / notes (English)' },
  materials: { zh: '材料（每行一项：中文名 | 英文名 | 复印份数 | 原件）', en: 'Materials (one a line: Chinese | English | copies | original)' },
  save: { zh: '保存并发布', en: 'Save and publish' },
  delete: { zh: '删除此事项', en: 'Delete this matter' },
  cancel: { zh: '取消', en: 'Cancel' },
  verTitle: { zh: '历史版本', en: 'Versions' },
  hallsTitle: { zh: '大厅日历', en: 'Hall calendars' },
  published: { zh: '已发布第 {v} 版，各大厅将收到。', en: 'Version {v} published; the halls receive it.' },
  onlyAdmin: { zh: '仅省级管理员可修改目录。', en: 'Only a province admin edits the catalogue.' },
};
const bookingWords = { none: W.bNone, allowed: W.bAllowed, required: W.bRequired };

let me = null;
let cat = { version: 0, matters: [] };
let editing = -1; // index in cat.matters; cat.matters.length for a new one
let versions = [];
let halls = [];

const text = (zh, en) => (zh || en ? { zh: zh.trim(), en: en.trim() || undefined } : undefined);

function render() {
  words(W);
  $('#version').textContent = cat.version
    ? t({ zh: `当前第 ${cat.version} 版 · 发布于 ${hallDay(cat.published_at)} ${hallTime(cat.published_at)}`, en: `Version ${cat.version} · published ${hallDay(cat.published_at)} ${hallTime(cat.published_at)}` })
    : t({ zh: '尚未发布目录。', en: 'No catalogue published yet.' });
  $('#version').dataset.version = cat.version;
  const admin = me && me.role === StaffRole.ProvinceAdmin;
  $('#new').hidden = !admin;
  fill($('#matters tbody'), cat.matters.map((m, i) => el('tr', { 'data-code': m.code },
    el('td', {}, m.code), el('td', {}, t(m.name)), el('td', {}, m.services.join(',')), el('td', {}, t(bookingWords[m.booking])),
    el('td', {}, admin ? el('button', { type: 'button', class: 'secondary edit', 'data-code': m.code, onclick: () => edit(i) }, t(W.edit)) : t(W.onlyAdmin)))));
  fill($('#versions'), versions.map((v) => el('li', { 'data-version': v.version },
    `${t({ zh: `第 ${v.version} 版`, en: `Version ${v.version}` })} · ${hallDay(v.published_at)} ${hallTime(v.published_at)} · ${t({ zh: `${v.matters} 项`, en: `${v.matters} matters` })}`)));
  fill($('#halls'), halls.map((h) => el('li', {}, el('a', { href: '/province/calendars/' + encodeURIComponent(h.id) }, `${t(h.name)} (${h.id})`))));
}

function edit(i) {
  editing = i;
  const m = cat.matters[i] || { code: '', name: { zh: '' }, services: [], booking: 'allowed', materials: [] };
  const f = $('#editor');
  clearErr(f);
  f.hidden = false;
  $('#delete').hidden = i >= cat.matters.length;
  $('#m-code').value = m.code;
  $('#m-services').value = m.services.join(',');
  $('#m-name-zh').value = m.name.zh || '';
  $('#m-name-en').value = m.name.en || '';
  $('#m-booking').value = m.booking;
  $('#m-limit').value = m.time_limit_days || '';
  $('#m-fees-zh').value = (m.fees && m.fees.zh) || '';
  $('#m-fees-en').value = (m.fees && m.fees.en) || '';
  $('#m-where-zh').value = (m.where && m.where.zh) || '';
  $('#m-where-en').value = (m.where && m.where.en) || '';
  $('#m-materials').value = m.materials.map((x) => [x.name.zh, x.name.en || '', x.copies || '', x.original ? '原件' : ''].join(' | ').replace(/( \| )+$/, '')).join('\n');
  $('#m-code').focus();
}

function fromForm() {
  const m = {
    code: $('#m-code').value.trim(),
    name: { zh: $('#m-name-zh').value.trim(), en: $('#m-name-en').value.trim() || undefined },
    services: $('#m-services').value.split(/[\s,，]+/).filter(Boolean).map((s) => s.toUpperCase()),
    booking: $('#m-booking').value,
    materials: $('#m-materials').value.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
      const [zh, en, copies, original] = l.split('|').map((s) => s.trim());
      return { name: { zh: zh || '', en: en || undefined }, copies: Number(copies) || 0, original: !!original };
    }),
  };
  const limit = $('#m-limit').value;
  if (limit !== '') m.time_limit_days = Number(limit);
  const fees = text($('#m-fees-zh').value, $('#m-fees-en').value);
  if (fees) m.fees = fees;
  const where = text($('#m-where-zh').value, $('#m-where-en').value);
  if (where) m.where = where;
  return m;
}

// fieldInForm is the form control's name for a server field of matter i.
function fieldInForm(field, i) {
  const m = /^matters\[(\d+)\]\.(.+)$/.exec(field || '');
  if (!m || Number(m[1]) !== i) return '';
  if (m[2].startsWith('materials')) return 'materials';
  return m[2] === 'name' ? 'name.zh' : m[2];
}

async function publish(matters) {
  const f = $('#editor');
  clearErr(f);
  $('#saved').hidden = true;
  try {
    const c = await call('PUT', 'staff/catalog', { body: { base_version: cat.version, matters } });
    cat = c;
    f.hidden = true;
    const s = $('#saved');
    s.textContent = t(W.published).replace('{v}', c.version);
    s.hidden = false;
    versions = (await call('GET', 'staff/catalog/versions')).versions;
    render();
  } catch (e) {
    if (e.reason === BookingReason.Changed) {
      $('#conflict').hidden = false;
      return;
    }
    showErr(f, e, fieldInForm(e.details && e.details.field, editing));
  }
}

async function save(ev) {
  ev.preventDefault();
  const matters = cat.matters.slice();
  matters[editing] = fromForm();
  await publish(matters);
}

async function load() {
  $('#conflict').hidden = true;
  const [c, v] = await Promise.all([call('GET', 'catalog'), call('GET', 'staff/catalog/versions')]);
  cat = c;
  versions = v.versions;
  halls = (await call('GET', 'staff/halls')).halls;
  render();
}

async function start() {
  me = await chrome(() => { chrome(render); render(); });
  words(W);
  if (!me) return;
  $('#page').hidden = false;
  $('#editor').addEventListener('submit', save);
  $('#new').addEventListener('click', () => edit(cat.matters.length));
  $('#cancel').addEventListener('click', () => { $('#editor').hidden = true; });
  $('#delete').addEventListener('click', () => publish(cat.matters.filter((_, i) => i !== editing)));
  $('#reload').addEventListener('click', async () => { await load(); $('#editor').hidden = true; });
  try {
    await load();
  } catch (e) {
    fill($('#gate'), el('p', { class: 'error', role: 'alert' }, sayErr(e)));
    $('#gate').hidden = false;
  }
}

start();

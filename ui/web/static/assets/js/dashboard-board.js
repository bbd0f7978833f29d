// dashboard-board.js — the display boards' notices and media, managed from
// the dashboard: post a notice (zh/en, optional start and end, typed and
// shown in the hall's time whatever the browser's zone), remove one; upload an image or a
// short video (the server checks its type and size), remove one. The lists
// come from the overview and follow configuration changes ("hallq:event"
// and "hallq:token" from dashboard.js).
import { $, el, fill, api, sayError, hallTime, hallInstant } from './hallq.js';
import { EventType } from './codes.js';

let token = '';
let board = { notices: [], media: [] };

const say = (text, bad) => { $('#board-msg').textContent = text; $('#board-msg').classList.toggle('form-error', !!bad); };
const fail = (e) => say(sayError(e).join(' · ') + (e.message ? ` (${e.message})` : ''), true);
const local = (at) => hallTime(at, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

function render() {
  fill($('#notice-list'), (board.notices || []).length ? board.notices.map((n) => el('tr', { 'data-notice': n.id },
    el('td', { text: n.text.zh }), el('td', { text: n.text.en || '' }),
    el('td', { text: n.from ? local(n.from) : '立即 Now' }), el('td', { text: n.until ? local(n.until) : '—' }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `删除 Remove: ${n.text.zh}`, onclick: () => removeNotice(n) }, '删除 Remove')))) :
    el('tr', {}, el('td', { colspan: '5', text: '无 · None' })));
  fill($('#media-list'), (board.media || []).length ? board.media.map((m) => el('tr', { 'data-media': m.id },
    el('td', { text: m.name || m.id }), el('td', { text: m.type }), el('td', { class: 'num', text: `${Math.ceil(m.size / 1024)} KB` }),
    el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': `删除 Remove: ${m.name || m.id}`, onclick: () => removeMedia(m) }, '删除 Remove')))) :
    el('tr', {}, el('td', { colspan: '4', text: '无 · None' })));
}

async function load() {
  if (!token) return;
  try {
    board = (await api('GET', 'overview', { token })).board || { notices: [], media: [] };
  } catch (e) {
    fail(e);
  }
  render();
}

async function removeNotice(n) {
  try { await api('DELETE', `board/notices/${encodeURIComponent(n.id)}`, { token }); say('已删除 · Removed'); } catch (e) { fail(e); }
  load();
}

async function removeMedia(m) {
  try { await api('DELETE', `board/media/${encodeURIComponent(m.id)}`, { token }); say('已删除 · Removed'); } catch (e) { fail(e); }
  load();
}

$('#notice-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = { text: { zh: $('#notice-zh').value.trim(), en: $('#notice-en').value.trim() } };
  if ($('#notice-from').value) body.from = hallInstant($('#notice-from').value);
  if ($('#notice-until').value) body.until = hallInstant($('#notice-until').value);
  try {
    await api('POST', 'board/notices', { token, body });
    $('#notice-form').reset();
    say('已发布到叫号屏 · Posted to the boards');
  } catch (err) {
    fail(err);
  }
  load();
});

$('#media-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = $('#media-file').files[0];
  if (!file) { say('请选择文件 · Choose a file', true); return; }
  const q = new URLSearchParams({ name: file.name });
  if ($('#media-seconds').value) q.set('seconds', $('#media-seconds').value);
  let res;
  try {
    res = await fetch(`/api/v1/board/media?${q}`, { method: 'POST', headers: { Authorization: 'Bearer ' + token, 'Content-Type': file.type || 'application/octet-stream' }, body: file });
  } catch {
    say('无法连接服务器 · Cannot reach the server', true);
    return;
  }
  if (res.ok) {
    $('#media-form').reset();
    say('已上传，叫号屏空闲时播放 · Uploaded; the boards play it between calls');
  } else {
    const data = await res.json().catch(() => null);
    const er = (data && data.error) || {};
    say(`上传失败 Upload refused: ${er.message || res.statusText}`, true);
  }
  load();
});

document.addEventListener('hallq:token', (e) => { token = e.detail; load(); });
document.addEventListener('hallq:event', (e) => { if (e.detail.type === EventType.ConfigChanged) load(); });

// dashboard-help.js — helper calls (帮办) on the manager's dashboard: each
// open call names the kiosk or the ticket number where a citizen asked for
// help, with how long ago, and an "on my way" button that acknowledges it
// on the server (who and when are recorded). The list follows the event
// stream: dashboard.js passes each event on ("hallq:event") and the signed-in
// token ("hallq:token").
import { $, el, fill, api, since, mmss, sayError, hallTime } from './hallq.js';
import { EventType } from './codes.js';

let token = '';
let calls = [];

function render() {
  const open = calls.filter((c) => !c.ack_at);
  const done = calls.filter((c) => c.ack_at).slice(-5).reverse();
  $('#help-count').textContent = open.length ? `(${open.length})` : '';
  $('#help-card').classList.toggle('has-critical', open.length > 0);
  $('#help-none').hidden = open.length > 0;
  fill($('#help-calls'), open.map((c) => el('li', { 'data-help': c.id },
    el('span', { text: where(c) + ` · ${mmss(since(c.at))} 前 ago` }), ' ',
    el('button', { type: 'button', class: 'ok', 'aria-label': `前往处理 On my way: ${where(c)}`, onclick: () => ack(c) }, '前往处理 On my way'))));
  fill($('#help-done'), done.map((c) => el('li', { 'data-help': c.id,
    text: `${where(c)} · ${c.ack_by} ${hallTime(c.ack_at)} 已处理 taken up` })));
}

const where = (c) => (c.kiosk ? `自助机 Kiosk ${c.kiosk}` : `号码 Ticket ${c.number}`);

async function load() {
  if (!token) return;
  try {
    calls = await api('GET', 'help', { token });
    $('#help-error').textContent = '';
  } catch (e) {
    $('#help-error').textContent = sayError(e).join(' · ');
  }
  render();
}

async function ack(c) {
  try {
    await api('POST', `help/${encodeURIComponent(c.id)}/ack`, { token });
    $('#help-error').textContent = '';
  } catch (e) {
    $('#help-error').textContent = sayError(e).join(' · ');
  }
  load();
}

document.addEventListener('hallq:token', (e) => { token = e.detail; load(); });
document.addEventListener('hallq:event', (e) => {
  if (e.detail.type === EventType.HelpCalled || e.detail.type === EventType.HelpAcknowledged) load();
});
setInterval(render, 15000); // the "ago" figures

// status-floor.js — what the citizen can ask for on the phone status page
// (/t/{id}) besides following the ticket: postpone (暂离) once, moving back a
// few places while they step out, with a confirmation first; and a floor
// helper (帮办), who comes to find them by their number. status.js
// tells this module the latest ticket and language ("hallq:ticket" and
// "hallq:lang" events on document); the ticket's own link authorises the
// request, no token.
import { $, api, sayError } from './hallq.js';
import { Reason, TicketStatus } from './codes.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
let lang = localStorage.getItem('hallq.lang') === 'en' ? 'en' : 'zh'; // as status.js
let ticket = null;
let asking = false; // the confirmation is shown
let note = ''; // what the last request said, [zh, en] key or error pair
let busy = false;
let helped = false; // a helper was called from this page

const words = {
  zh: { postpone: '暂离一会儿', ask: '需要离开几分钟？您的号码将向后顺延几位，只能使用一次。', yes: '确定暂离', no: '不用了',
    done: '已为您向后顺延，请留意叫号。', used: '您已使用过暂离。',
    help: '请工作人员来帮我', helped: (n) => `已通知工作人员，请留在原处，工作人员会按号码 ${n} 来找您。` },
  en: { postpone: 'I need a few minutes', ask: 'Stepping out for a few minutes? Your ticket moves back a few places. You can do this once.', yes: 'Yes, move me back', no: 'No, keep my place',
    done: 'You have been moved back. Please watch for your number.', used: 'You have already used this once.',
    help: 'Ask a staff member to help me', helped: (n) => `Staff have been told. Please stay where you are: they will look for number ${n}.` },
};

const open = (t) => t && [TicketStatus.Waiting, TicketStatus.Called, TicketStatus.Serving, TicketStatus.Parked].includes(t.status);

function render() {
  const w = words[lang];
  const box = $('#floor');
  const waiting = ticket && ticket.status === TicketStatus.Waiting;
  box.hidden = !open(ticket) && !note;
  $('#help').hidden = !open(ticket) || helped;
  $('#help').textContent = w.help;
  $('#help').disabled = busy;
  $('#postpone').hidden = !waiting || ticket.postponed || asking;
  $('#postpone').textContent = w.postpone;
  $('#postpone-ask').hidden = !asking;
  $('#postpone-question').textContent = w.ask;
  $('#postpone-yes').textContent = w.yes;
  $('#postpone-no').textContent = w.no;
  $('#postpone-yes').disabled = busy;
  const said = note === 'helped' ? w.helped(ticket.number) : typeof note === 'string' ? (note ? w[note] : '') : note[lang === 'zh' ? 0 : 1];
  $('#floor-note').textContent = said || (waiting && ticket.postponed ? w.used : '');
}

async function postpone() {
  busy = true;
  render();
  try {
    ticket = await api('POST', `tickets/${encodeURIComponent(id)}/postpone`);
    note = 'done';
    document.dispatchEvent(new CustomEvent('hallq:refresh'));
  } catch (e) {
    note = e.reason === Reason.AlreadyPostponed ? 'used' : sayError(e);
  }
  busy = false;
  asking = false;
  render();
}

async function callHelper() {
  busy = true;
  render();
  try {
    await api('POST', 'help', { body: { ticket: id } });
    helped = true;
    note = 'helped';
  } catch (e) {
    note = sayError(e);
  }
  busy = false;
  render();
}

document.addEventListener('hallq:ticket', (e) => { ticket = e.detail; render(); });
document.addEventListener('hallq:lang', (e) => { lang = e.detail; render(); });
$('#postpone').addEventListener('click', () => { asking = true; note = ''; render(); $('#postpone-yes').focus(); });
$('#postpone-no').addEventListener('click', () => { asking = false; render(); $('#postpone').focus(); });
$('#postpone-yes').addEventListener('click', postpone);
$('#help').addEventListener('click', callHelper);
render();

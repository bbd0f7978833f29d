// statusvisit.js — the visit on the citizen's phone page (/t/{id}): while
// waiting, what to bring (the checklist of the ticket's matters, else of
// every matter of its service); once a matter lacked materials, the
// one-time notice (一次性告知单) listing what is missing; once a matter is
// handled, its 好差评 (one per matter; the phone is channel "phone"; a poor
// level needs one of its options). It follows the ticket status.js reads.
import { $, el, fill, api, sayError } from './hallq.js';
import { Outcome, TicketStatus } from './codes.js';
import { levels, outcomeWords, hallMatters } from './visit.js';

const id = decodeURIComponent(location.pathname.split('/').pop());
let hm = null;
let ticket = null;
let score = 0;
let chosen = new Set();
let sent = ''; // the matter (or "visit") just rated, thanked for
let drawn = ''; // what is on the screen, so a poll that changes nothing redraws nothing
const lang = () => (localStorage.getItem('hallq.lang') === 'en' ? 'en' : 'zh');
const pick = (text) => (text ? (lang() === 'en' && text.en ? text.en : text.zh) : '');
const say = (pair) => pair[lang() === 'en' ? 1 : 0];

const words = {
  guide: ['请带齐以下材料', 'Please bring'], original: ['原件', 'original'], copies: (n) => [`复印件 ${n} 份`, `${n} copies`],
  fees: ['收费', 'Fees'], limit: (d) => [`办理时限 ${d} 个工作日`, `Time limit ${d} working days`],
  notice: ['一次性告知单', 'One-time notice'], missing: ['还缺少以下材料，带齐后再来即可办理：', 'Still missing — bring these and it can be done:'],
  rate: ['请评价本次服务', 'Please rate our service'], visit: ['本次办理', 'This visit'],
  poor: ['请选择原因', 'Please choose what went wrong'], good: ['您满意的是（可不选）', 'What went well? (optional)'],
  send: ['提交评价', 'Send'], thanks: ['感谢您的评价', 'Thank you for rating'],
};

document.addEventListener('hallq:ticket', async (e) => {
  ticket = e.detail;
  if (!hm) {
    try {
      hm = await hallMatters('');
    } catch {
      return; // the next poll tries again
    }
  }
  render();
});
$('#lang').addEventListener('click', () => {
  drawn = '';
  render();
});

// toRate is the next thing the citizen may rate: a handled matter without
// a rating, or the visit of a done ticket without matters; null for none.
function toRate(t) {
  const ms = t.matters || [];
  if (!ms.length) return t.status === TicketStatus.Done && !t.rating ? { matter: '', name: null } : null;
  const m = ms.find((x) => x.outcome && !x.rating);
  return m ? { matter: m.code, name: m.name } : null;
}

function render() {
  if (!ticket || !hm) return;
  const key = JSON.stringify([lang(), ticket.status, ticket.service, ticket.matters, ticket.rating, sent, score]);
  if (key === drawn) return;
  drawn = key;
  const t = ticket;
  // what to bring, while the visit is still ahead
  const mine = (t.matters || []).map((m) => hm.matters.find((x) => x.code === m.code)).filter(Boolean);
  const guide = mine.length ? mine : hm.matters.filter((m) => (hm.by_service[t.service] || []).includes(m.code));
  const waiting = t.status === TicketStatus.Waiting || t.status === TicketStatus.Called;
  $('#guide').hidden = !waiting || !guide.length;
  $('#guide-title').textContent = say(words.guide);
  fill($('#guide-list'), guide.map((m) => el('div', { class: 'guide-matter', 'data-matter': m.code },
    el('h3', { text: pick(m.name) }),
    el('ul', {}, (m.materials || []).map((mat) => el('li', { text: pick(mat.name) +
      (mat.original ? `（${say(words.original)}）` : '') + (mat.copies ? `（${say(words.copies(mat.copies))}）` : '') }))),
    m.fees ? el('p', { class: 'small', text: `${say(words.fees)}：${pick(m.fees)}` }) : null,
    m.time_limit_days ? el('p', { class: 'small', text: say(words.limit(m.time_limit_days)) }) : null)));

  // the one-time notice
  const incomplete = (t.matters || []).filter((m) => m.outcome === Outcome.Incomplete);
  $('#notice').hidden = !incomplete.length;
  $('#notice-title').textContent = `${say(words.notice)} · ${t.number}`;
  fill($('#notice-list'), incomplete.map((m) => el('div', { class: 'notice-matter', 'data-matter': m.code },
    el('h3', { text: `${pick(m.name)} · ${say(outcomeWords[m.outcome])}` }),
    el('p', { text: say(words.missing) }),
    el('ul', {}, (m.missing || []).map((x) => el('li', { text: pick(x) }))))));

  // outcomes so far
  const handled = (t.matters || []).filter((m) => m.outcome);
  $('#outcomes').hidden = !handled.length;
  fill($('#outcomes'), handled.map((m) => el('li', { 'data-matter': m.code, text: `${pick(m.name)}：${say(outcomeWords[m.outcome])}` +
    (m.case_number ? ` · ${m.case_number}` : '') + (m.reason ? ` · ${m.reason}` : '') })));

  // 好差评
  const next = toRate(t);
  $('#rate').hidden = !next && !sent;
  $('#rate-title').textContent = next ? say(words.rate) : say(words.thanks);
  $('#rate-matter').textContent = next ? (next.name ? pick(next.name) : say(words.visit)) : '';
  $('#rate-body').hidden = !next;
  if (!next) return;
  fill($('#rate-levels'), levels.map(([s, zh, en]) => el('button', { type: 'button', 'data-score': s, 'aria-pressed': String(s === score),
    onclick: () => { score = s; chosen = new Set(); drawn = ''; render(); } }, lang() === 'en' ? en : zh)));
  const opts = score ? hm.indicators[score] || [] : [];
  $('#rate-why').textContent = score ? say(score <= 2 ? words.poor : words.good) : '';
  fill($('#rate-options'), opts.map((o) => el('button', { type: 'button', class: 'secondary', 'data-indicator': o.indicator, 'aria-pressed': String(chosen.has(o.indicator)),
    onclick: (e) => {
      if (chosen.has(o.indicator)) chosen.delete(o.indicator);
      else chosen.add(o.indicator);
      e.currentTarget.setAttribute('aria-pressed', String(chosen.has(o.indicator)));
      $('#rate-send').disabled = score <= 2 && !chosen.size;
    } }, pick(o.label))));
  $('#rate-send').textContent = say(words.send);
  $('#rate-send').hidden = !score;
  $('#rate-send').disabled = !score || (score <= 2 && !chosen.size);
}

$('#rate-send').addEventListener('click', async () => {
  const next = ticket && toRate(ticket);
  if (!next || !score) return;
  const body = { score, indicators: [...chosen] };
  if (next.matter) body.matter = next.matter;
  $('#rate-msg').textContent = '';
  try {
    ticket = await api('POST', `tickets/${encodeURIComponent(id)}/evaluation`, { body });
    sent = next.matter ? next.matter : '(visit)';
    score = 0;
    chosen = new Set();
    drawn = '';
    render();
  } catch (e) {
    $('#rate-msg').textContent = say(sayError(e));
  }
});

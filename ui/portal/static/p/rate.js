// rate.js — /rate/{ticket}: rate a served visit online (政务服务"好差评",
// channel 网上/二维码): the five national levels, the level's options and a
// reason, required when the rating is low (the hall's rules), one rating
// per visit. The hall is the authority: the central sends the rating to
// it and the page shows what the hall decided — "thank you" once it
// counts, "already rated at the window" when the pad came first. While the
// hall is unreachable the rating is accepted and pending: it is applied
// when the hall reconnects, and refused then only if the visit was rated
// at the window before it arrived.

import { describe } from '/assets/js/hallq.js';
import { ClientErrorCode, ErrorCode, OnlineRatingReason, OnlineRatingStatus, TicketStatus } from '/assets/js/codes.js';
import { call, hallTime, t } from '/p/portal.js';
import { $, chrome, el, fill, named } from '/p/follow.js';

const id = decodeURIComponent(location.pathname.split('/').pop() || '');
const state = { tk: null, rec: null, levels: [], score: 0, chosen: new Set(), error: null, key: null, sending: false };

const channelWords = {
  window_pad: { zh: '窗口评价器', en: 'the window\'s rating pad' },
  kiosk: { zh: '自助终端', en: 'a kiosk' },
  phone: { zh: '大厅手机页面', en: 'the hall\'s phone page' },
  online: { zh: '网上', en: 'online' },
};

function level() { return state.levels.find((l) => l.score === state.score); }

function resultWords(r) {
  switch (r.status) {
    case OnlineRatingStatus.Pending:
      return [t({ zh: '谢谢您的评价！', en: 'Thank you for your rating!' }),
        t({ zh: '评价已提交，正在送达办事大厅。大厅网络中断时，将在恢复连接后计入；只有在此之前已在窗口评价过，网上评价才不计入。', en: 'It is on its way to the hall. If the hall\'s link is down it counts once the hall reconnects — unless the visit was rated at the window before it got there.' })];
    case OnlineRatingStatus.Applied:
      return [t({ zh: '谢谢您的评价！', en: 'Thank you for your rating!' }), t({ zh: `大厅已收到并计入您的评价（${r.rated_at ? hallTime(r.rated_at) : ''}）。`, en: `The hall has counted it (${r.rated_at ? hallTime(r.rated_at) : ''}).` })];
    case OnlineRatingStatus.RatedElsewhere: {
      const ch = t(channelWords[r.channel] || channelWords.window_pad);
      return [t({ zh: `本次服务已在${ch}评价过`, en: `This visit was already rated at ${ch}` }),
        r.online_refused ? t({ zh: '窗口评价先到达大厅，每次服务只计一次评价，您的网上评价未计入。', en: 'The window\'s rating reached the hall first; a visit is rated once, so your online rating was not counted.' })
          : t({ zh: '每次服务只能评价一次。', en: 'A visit is rated once.' })];
    }
  }
  return null;
}

function render() {
  $('#back').textContent = t({ zh: '返回我的排队', en: 'Back to my ticket' });
  $('#back').href = '/t/' + encodeURIComponent(id);
  $('#error').textContent = state.error ? sayError(state.error) : '';
  const tk = state.tk;
  $('#what').textContent = tk ? t({ zh: `${tk.number} 号 · ${tk.hall}`, en: `Ticket ${tk.number} · ${tk.hall}` }) : '';
  const r = state.rec;
  const words = r && resultWords(r);
  fill($('#result'), words ? [el('p', { class: r.status === OnlineRatingStatus.RatedElsewhere ? 'stale' : 'thanks', 'data-status': r.status }, words[0]), el('p', {}, words[1])] : []);
  const open = tk && tk.status === TicketStatus.Done && r && r.status === OnlineRatingStatus.None;
  $('#form').hidden = !open;
  $('#intro').textContent = !tk ? '' : tk.status !== TicketStatus.Done
    ? t({ zh: '办结后才能评价本次服务。', en: 'You can rate the visit once it is done.' })
    : open ? t({ zh: '您对本次服务满意吗？每次服务评价一次。', en: 'How was your visit? A visit is rated once.' }) : '';
  if (!open) return;
  $('#levels-legend').textContent = t({ zh: '请选择满意程度', en: 'Choose how satisfied you are' });
  fill($('#levels'), state.levels.map((l) => el('button', { type: 'button', 'data-score': l.score, 'aria-pressed': String(l.score === state.score),
    onclick: () => { if (state.score !== l.score) state.chosen.clear(); state.score = l.score; render(); } }, el('span', { 'aria-hidden': 'true' }, `${'★'.repeat(l.score)}${'☆'.repeat(5 - l.score)} `), named(l.label))));
  const lv = level();
  $('#options-box').hidden = !lv;
  if (lv) {
    $('#options-legend').textContent = lv.low ? t({ zh: '请告诉我们哪里不满意（必选一项或填写原因）', en: 'Tell us what was wrong (choose one or write why)' })
      : t({ zh: '可选：您满意的方面', en: 'Optional: what went well' });
    fill($('#options'), lv.options.map((o) => el('label', {}, el('input', { type: 'checkbox', value: o.indicator, checked: state.chosen.has(o.indicator),
      onchange: (e) => { if (e.target.checked) state.chosen.add(o.indicator); else state.chosen.delete(o.indicator); updateSend(); } }), named(o.label))));
    $('#reason-label').textContent = lv.low ? t({ zh: '原因（选填一项即可）', en: 'Why (an option or a few words)' }) : t({ zh: '意见建议（选填）', en: 'Comments (optional)' });
  }
  $('#send').textContent = state.sending ? t({ zh: '正在提交…', en: 'Sending…' }) : t({ zh: '提交评价', en: 'Send rating' });
  updateSend();
}

function updateSend() {
  const lv = level();
  const reason = $('#reason').value.trim();
  $('#send').disabled = state.sending || !lv || (lv.low && !reason && state.chosen.size === 0);
}

function sayError(e) {
  switch (e.reason) {
    case OnlineRatingReason.NotServed: return t({ zh: '本次服务尚未办结，办结后再评价。', en: 'The visit is not done yet: rate it once it is.' });
    case OnlineRatingReason.RatingNeedsReason: return t({ zh: '不满意时请选择一项或填写原因。', en: 'For a low rating, choose an option or write why.' });
    case OnlineRatingReason.DayOver: return t({ zh: '办事大厅已进入新的一天，网上评价只能在办事当天提交。', en: 'The hall has begun a new day: a visit is rated online on its day.' });
    case OnlineRatingReason.UnknownTicket: return t({ zh: '找不到这张票（票据只保留当天和次日）。', en: 'This ticket is not known (tickets are kept for their day and the next).' });
    default: return describe(e);
  }
}

let timer = null;
async function load() {
  clearTimeout(timer);
  try {
    const [tk, r] = await Promise.all([call('GET', 'tickets/' + encodeURIComponent(id)), call('GET', 'ratings/' + encodeURIComponent(id))]);
    state.tk = tk;
    state.rec = r.rating;
    state.levels = r.levels || [];
    state.error = null;
  } catch (e) {
    state.error = e;
  }
  render();
  if (state.rec && state.rec.status === OnlineRatingStatus.Pending) timer = setTimeout(load, 5000); // until the hall's answer is back
}

async function send(e) {
  e.preventDefault();
  if (!level()) return;
  state.sending = true;
  state.key = state.key || [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  render();
  try {
    const r = await call('POST', 'ratings/' + encodeURIComponent(id), { key: state.key, body: { score: state.score, indicators: [...state.chosen], reason: $('#reason').value.trim() } });
    state.rec = r.rating;
    state.error = null;
  } catch (err) {
    if (err.reason === OnlineRatingReason.AlreadyRated && err.details) state.rec = err.details;
    else state.error = err;
    if (err.code !== ErrorCode.Unavailable && err.code !== ClientErrorCode.Network) state.key = null;
  }
  state.sending = false;
  render();
  if (state.rec && state.rec.status === OnlineRatingStatus.Pending) timer = setTimeout(load, 5000);
}

chrome({ zh: '评价本次服务', en: 'Rate this visit' }, render);
$('#form').addEventListener('submit', send);
$('#reason').addEventListener('input', updateSend);
load();

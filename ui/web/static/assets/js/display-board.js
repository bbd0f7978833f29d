// display-board.js — what the hall board shows besides the calls: the
// managers' notices as a marquee (each only between its from and until,
// judged by the hall server's clock), and their images and short videos in
// a side panel, one after the other, hidden and paused while a call is
// being announced. display.js tells this module the board's content
// ("hallq:board", from the overview and every configuration change) and
// each call ("hallq:call"). The files come from the hall server itself.
import { $, serverNow } from './hallq.js';

const CALL_QUIET_MS = 20000; // the panel stays hidden this long after a call
const IMAGE_MS = 10000; // an image's time on screen unless it says otherwise

let board = { notices: [], media: [] };
let quietUntil = 0;
let index = -1;
let timer = 0;
let shownKey = '';

const shownNow = (n) => { const t = serverNow(); return (!n.from || t >= Date.parse(n.from)) && (!n.until || t < Date.parse(n.until)); };

function renderNotices() {
  const list = (board.notices || []).filter(shownNow);
  const key = list.map((n) => n.id).join(',');
  $('#notices').hidden = list.length === 0;
  if (key === shownKey) return; // the marquee keeps running
  shownKey = key;
  const text = list.map((n) => (n.text.en ? `${n.text.zh}　${n.text.en}` : n.text.zh)).join('　　◆　　');
  $('#notices-text').textContent = text;
  $('#notices').dataset.ids = key;
}

function quiet() { return Date.now() < quietUntil; }

function next() {
  clearTimeout(timer);
  const media = board.media || [];
  const panel = $('#media');
  panel.hidden = media.length === 0;
  if (!media.length) return;
  if (quiet()) {
    panel.classList.add('quiet');
    $('#media-video').pause();
    timer = setTimeout(next, quietUntil - Date.now() + 50);
    return;
  }
  panel.classList.remove('quiet');
  index = (index + 1) % media.length;
  const m = media[index];
  const src = `/api/v1/board/media/${encodeURIComponent(m.id)}`;
  const img = $('#media-img');
  const video = $('#media-video');
  panel.dataset.showing = m.id;
  if (m.type.startsWith('video/')) {
    img.hidden = true;
    video.hidden = false;
    if (video.dataset.id !== m.id) { video.dataset.id = m.id; video.src = src; }
    video.currentTime = 0;
    video.play().catch(() => {}); // muted: allowed without a tap
    video.onended = next;
    video.onerror = () => { timer = setTimeout(next, 1000); };
  } else {
    video.pause();
    video.hidden = true;
    img.hidden = false;
    img.alt = m.name || '';
    img.src = src;
    timer = setTimeout(next, (m.seconds || 0) * 1000 || IMAGE_MS);
  }
}

document.addEventListener('hallq:board', (e) => {
  const before = (board.media || []).map((m) => m.id).join(',');
  board = e.detail || { notices: [], media: [] };
  renderNotices();
  if ((board.media || []).map((m) => m.id).join(',') !== before) { index = -1; next(); }
});
document.addEventListener('hallq:call', () => {
  quietUntil = Date.now() + CALL_QUIET_MS;
  next();
});
setInterval(renderNotices, 1000); // notices start and end on their own

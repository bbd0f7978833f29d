// dashvisit.js — the visit's figures on the dashboard, as the server
// computed them (GET /figures; definitions in queue-server/hall/kpi.go):
// per window the walk time, handling time, idle time while citizens waited
// and the 最多跑一次 rate; per matter the repeat visits and the rate.
import { $, el, fill, mmss } from './hallq.js';
import { figureHooks } from './dashboard.js';

const td = (text, attrs = {}) => el('td', { ...attrs, text: String(text) });
const num = (text) => td(text, { class: 'num' });
const pct = (x) => (x < 0 ? '—' : `${Math.round(x * 100)}%`);
const empty = (cols) => el('tr', {}, el('td', { colspan: cols, class: 'empty', text: '无 · None' }));

figureHooks.push((f) => {
  const ov = f.one_visit || { by_matter: [], by_window: [], repeat_within_s: 0 };
  const rate = new Map(ov.by_window.map((w) => [w.key, w.rate]));
  const ws = f.windows || [];
  fill($('#windows-fig'), ws.length ? ws.map((w) => el('tr', { 'data-window': w.key },
    td(w.name && w.name.zh ? `${w.name.zh} ${w.name.en}` : w.key), num(w.served),
    num(w.mean_walk_s ? mmss(Math.round(w.mean_walk_s)) : '—'), num(w.served ? mmss(Math.round(w.mean_handling_s)) : '—'),
    num(mmss(Math.round(w.idle_s || 0))), num(rate.has(w.key) ? pct(rate.get(w.key)) : '—'))) : empty(6));
  fill($('#onevisit'), ov.by_matter.length ? ov.by_matter.map((m) => el('tr', { 'data-matter': m.key },
    td(m.name && m.name.zh ? `${m.name.zh} ${m.name.en || ''}` : m.key), num(m.handled), num(m.finished), num(m.repeats),
    num(m.unkeyed), num(pct(m.rate)))) : empty(6));
  const days = Math.round(ov.repeat_within_s / 86400);
  $('#onevisit-note').textContent = days ? `同一市民 ${days} 天内再为同一事项来办算重复跑 · The same citizen back for the same matter within ${days} days is a repeat visit` : '';
});

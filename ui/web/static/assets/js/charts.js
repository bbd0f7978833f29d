// charts.js — small bar charts drawn as inline SVG, no library.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * bars draws grouped bars. labels name the groups; series is a list of
 * {name, color, values}; every labelEvery-th label is written under the axis.
 * The chart carries a text summary for screen readers.
 */
export function bars({ title, labels, series, labelEvery = 1, width = 560, height = 240, unit = '' }) {
  const pad = { l: 40, r: 8, t: 12, b: 28 };
  const max = Math.max(1, ...series.flatMap((x) => x.values));
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const gw = w / Math.max(1, labels.length);
  const bw = Math.max(1, (gw * 0.8) / series.length);
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  svg.append(s('title', {}, title));
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const v = Math.round((max * i) / ticks);
    const y = pad.t + h - (h * v) / max;
    svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: y, y2: y, stroke: '#c9d1dc' }));
    svg.append(s('text', { x: pad.l - 6, y: y + 4, 'text-anchor': 'end' }, v + unit));
  }
  labels.forEach((label, i) => {
    series.forEach((ser, j) => {
      const v = ser.values[i] || 0;
      const bh = (h * v) / max;
      const r = s('rect', { x: pad.l + i * gw + gw * 0.1 + j * bw, y: pad.t + h - bh, width: bw, height: bh, fill: ser.color });
      r.append(s('title', {}, `${label} ${ser.name}: ${v}${unit}`));
      svg.append(r);
    });
    if (i % labelEvery === 0) svg.append(s('text', { x: pad.l + i * gw + gw / 2, y: height - 8, 'text-anchor': 'middle' }, label));
  });
  return svg;
}

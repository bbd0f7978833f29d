// charts.js — small charts drawn as inline SVG (bars) or as a table (heat
// map), no library. They show what the server computed; they compute no
// figures of their own.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * niceTicks returns evenly spaced axis values from 0 past max: the step is
 * 1, 2 or 5 times a power of ten (whole numbers when integer), so no two
 * ticks read the same and the top tick is at or above max.
 */
export function niceTicks(max, { count = 4, integer = true } = {}) {
  const top = Math.max(max, integer ? 1 : 0.1);
  const raw = top / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw - 1e-9);
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let v = 0; v < top + step - 1e-9; v += step) ticks.push(Number(v.toFixed(6)));
  return ticks;
}

const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/**
 * bars draws grouped bars. labels name the groups; series is a list of
 * {name, color, values}. showLabel(i) says which labels are written under
 * the axis (default: all, or evenly thinned so they do not overlap). A
 * value above zero is always at least 2 px tall, and values are written
 * on the bars when there are few. The chart carries a text summary for
 * screen readers.
 */
export function bars({ title, labels, series, showLabel, width = 560, height = 240, unit = '', integer = true }) {
  const pad = { l: 44, r: 8, t: 16, b: 30 };
  const max = Math.max(0, ...series.flatMap((x) => x.values));
  const ticks = niceTicks(max, { integer });
  const top = ticks[ticks.length - 1];
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const gw = w / Math.max(1, labels.length);
  const bw = Math.max(1, (gw * 0.8) / series.length);
  const fits = Math.max(1, Math.floor(w / 44)); // labels that fit under the axis
  const every = Math.ceil(labels.length / fits);
  const show = showLabel || ((i) => i % every === 0);
  const writeValues = labels.length * series.length <= 24;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  svg.append(s('title', {}, title));
  for (const v of ticks) {
    const y = pad.t + h - (h * v) / top;
    svg.append(s('line', { x1: pad.l, x2: width - pad.r, y1: y, y2: y, stroke: '#c9d1dc' }));
    svg.append(s('text', { x: pad.l - 6, y: y + 4, 'text-anchor': 'end', 'data-tick': v }, fmt(v) + unit));
  }
  labels.forEach((label, i) => {
    series.forEach((ser, j) => {
      const v = ser.values[i] || 0;
      const bh = v > 0 ? Math.max(2, (h * v) / top) : 0;
      const x = pad.l + i * gw + gw * 0.1 + j * bw;
      const r = s('rect', { x, y: pad.t + h - bh, width: bw, height: bh, fill: ser.color, 'data-value': v });
      r.append(s('title', {}, `${label} ${ser.name}: ${fmt(v)}${unit}`));
      svg.append(r);
      if (writeValues && v > 0) svg.append(s('text', { x: x + bw / 2, y: pad.t + h - bh - 3, 'text-anchor': 'middle', class: 'value' }, fmt(v)));
    });
    if (show(i)) svg.append(s('text', { x: pad.l + i * gw + gw / 2, y: height - 10, 'text-anchor': 'middle', 'data-label': label }, label));
  });
  return svg;
}

/**
 * heatTable draws rows × columns of counts as a table whose cells are
 * shaded by value and always carry the number, so a small count is never
 * invisible and the table reads without colour.
 */
export function heatTable({ caption, columns, rows }) {
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const shade = (v) => {
    if (!v) return '#ffffff';
    const t = 0.08 + 0.52 * (v / max); // light enough for dark text at every value
    const c = (a, b) => Math.round(a + (b - a) * t);
    return `rgb(${c(232, 11)},${c(240, 83)},${c(250, 148)})`;
  };
  const table = document.createElement('table');
  table.className = 'heat';
  const cap = document.createElement('caption');
  cap.textContent = caption;
  table.append(cap);
  const head = table.createTHead().insertRow();
  const corner = document.createElement('th');
  corner.textContent = '业务 \\ 时 Service \\ hour';
  head.append(corner);
  for (const c of columns) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = c;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    tr.dataset.row = r.key;
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = r.label;
    tr.append(th);
    r.values.forEach((v, i) => {
      const td = tr.insertCell();
      td.className = 'cell';
      td.textContent = String(v);
      td.style.background = shade(v);
      td.style.color = '#1a2433';
      td.title = `${r.label} ${columns[i]}: ${v}`;
    });
  }
  return table;
}

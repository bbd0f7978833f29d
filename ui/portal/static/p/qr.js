// qr.js — the booking QR code the hall's kiosk scans to check in: the
// booking id itself (bk…), exactly what the kiosk's scanner reads as a
// booking (kiosk/app bookingID: a bare code of at most 64 characters).
// Drawn as an SVG with a quiet zone of four modules, by Project Nayuki's
// QR Code generator (qrcodegen.js, MIT, vendored with its licence).

import qrcodegen from '/p/qrcodegen.js';

const NS = 'http://www.w3.org/2000/svg';

/** qrSVG draws text as a QR code (error correction M) with an accessible label. */
export function qrSVG(text, label) {
  const qr = qrcodegen.QrCode.encodeText(text, qrcodegen.QrCode.Ecc.MEDIUM);
  const border = 4;
  const n = qr.size + 2 * border;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${n} ${n}`);
  svg.setAttribute('class', 'qr');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  svg.dataset.code = text;
  const bg = document.createElementNS(NS, 'rect');
  bg.setAttribute('width', n);
  bg.setAttribute('height', n);
  bg.setAttribute('fill', '#fff');
  const parts = [];
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (qr.getModule(x, y)) parts.push(`M${x + border},${y + border}h1v1h-1z`);
    }
  }
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', parts.join(''));
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}

package sim

import (
	"bytes"
	"fmt"
	"strings"

	"hallq/devices/escpos"
)

// Line is one printed line as the printer would lay it out: text with its
// alignment and size, or a QR code, or a raster image.
type Line struct {
	Text          string
	Align         int
	Bold          bool
	Width, Height int            // character magnification, 1..8
	QR            string         // payload of a native QR code line
	QRModule      int            // its module size in dots
	Image         *escpos.Raster // a GS v 0 raster line (bands of one image joined)
	Barcode       string         // data of a GS k barcode (not drawn)
}

// Page is one printed ticket decoded back from ESC/POS.
type Page struct {
	Lines   []Line
	Cut     bool
	Unknown int // bytes of commands the decoder did not know
	Skipped int // standard commands the decoder read past without drawing them
}

// Text returns the page as plain text, one line per printed line; QR codes
// show as [QR payload] and images as [image WxH].
func (p Page) Text() string {
	var b strings.Builder
	for _, l := range p.Lines {
		switch {
		case l.Image != nil:
			fmt.Fprintf(&b, "[image %dx%d]\n", l.Image.WidthBytes*8, l.Image.Height)
		case l.QR != "":
			fmt.Fprintf(&b, "[QR %s]\n", l.QR)
		case l.Barcode != "":
			fmt.Fprintf(&b, "[barcode %s]\n", l.Barcode)
		default:
			b.WriteString(l.Text + "\n")
		}
	}
	if p.Cut {
		b.WriteString("--- cut ---\n")
	}
	return b.String()
}

// QRCodes returns the payloads of the page's native QR codes.
func (p Page) QRCodes() []string {
	var out []string
	for _, l := range p.Lines {
		if l.QR != "" {
			out = append(out, l.QR)
		}
	}
	return out
}

// Images returns the page's raster images.
func (p Page) Images() []escpos.Raster {
	var out []escpos.Raster
	for _, l := range p.Lines {
		if l.Image != nil {
			out = append(out, *l.Image)
		}
	}
	return out
}

// maxRaster bounds one raster image; a larger header is taken for noise.
const maxRaster = 1 << 20

// Decoder turns an ESC/POS byte stream back into pages. A page ends at a
// cut, or at a status request or an initialise command after printed content
// (printers without a cutter). Standard commands it does not draw (column
// images, barcodes, drawer pulses, positioning, …) are read past with their
// parameters, so they never leak into the text; unknown ones are skipped.
type Decoder struct {
	OnPage           func(Page)
	OnStatus         func(n byte)    // DLE EOT n
	OnTransmitStatus func(n byte)    // GS r n
	OnProcessID      func(d [4]byte) // GS ( H fn 48 d1 d2 d3 d4

	buf           []byte
	align         int
	bold          bool
	width, height int
	text          []byte
	qr            string
	module        int
	page          Page
	lastWasImage  bool // the previous command was a raster band (bands join)
}

// DecodeAll decodes a complete stream: the pages (including an unfinished
// last one) and the status requests in order.
func DecodeAll(b []byte) (pages []Page, status []byte) {
	d := &Decoder{OnPage: func(p Page) { pages = append(pages, p) }, OnStatus: func(n byte) { status = append(status, n) }}
	d.Write(b)
	d.Flush()
	return pages, status
}

func (d *Decoder) reset() {
	d.align, d.bold, d.width, d.height, d.module = 0, false, 1, 1, 3
}

// Write feeds bytes; it never fails.
func (d *Decoder) Write(b []byte) (int, error) {
	if d.width == 0 {
		d.reset()
	}
	d.buf = append(d.buf, b...)
	for len(d.buf) > 0 {
		n := d.step(d.buf)
		if n == 0 {
			break // need more bytes
		}
		d.buf = d.buf[n:]
	}
	return len(b), nil
}

// Flush ends the current page if it has content.
func (d *Decoder) Flush() {
	d.endLine(false)
	d.emit(false)
}

func (d *Decoder) endLine(force bool) {
	if len(d.text) == 0 && !force {
		return
	}
	d.page.Lines = append(d.page.Lines, Line{Text: escpos.DecodeText(d.text), Align: d.align, Bold: d.bold, Width: d.width, Height: d.height})
	d.text = d.text[:0]
}

func (d *Decoder) emit(cut bool) {
	if len(d.page.Lines) == 0 && !cut {
		return
	}
	d.page.Cut = cut
	if d.OnPage != nil {
		d.OnPage(d.page)
	}
	d.page = Page{}
}

func (d *Decoder) unknown(n int) int { d.page.Unknown += n; return n }

// step decodes one command or text byte at the start of b and returns how
// many bytes it used (0: incomplete).
func (d *Decoder) step(b []byte) int {
	wasImage := d.lastWasImage
	d.lastWasImage = false
	n := d.step1(b, wasImage)
	if n == 0 {
		d.lastWasImage = wasImage // incomplete: try again with more bytes
	}
	return n
}

func (d *Decoder) step1(b []byte, wasImage bool) int {
	d.lastWasImage = wasImage && len(b) >= 2 && b[0] == 0x1D && b[1] == 'v'
	need := func(n int) bool { return len(b) >= n }
	c := b[0]
	switch {
	case c == '\n':
		d.endLine(true)
		return 1
	case c >= 0x20 && c != 0x7F:
		d.text = append(d.text, c)
		return 1
	case c == '\r', c == 0x18, c == 0x0C: // CR, CAN, FF: nothing to draw
		return 1
	case c == '\t':
		d.text = append(d.text, ' ', ' ')
		return 1
	case c == 0x10:
		if !need(2) {
			return 0
		}
		switch b[1] {
		case 0x05: // DLE ENQ n: real-time request
			if !need(3) {
				return 0
			}
			return d.skip(3)
		case 0x14: // DLE DC4 fn …: real-time pulse, power off, buffer clear
			if !need(3) {
				return 0
			}
			n := 5
			if b[2] == 8 {
				n = 10
			}
			if !need(n) {
				return 0
			}
			return d.skip(n)
		}
		if b[1] != 0x04 {
			return d.unknown(1)
		}
		if !need(3) {
			return 0
		}
		d.endLine(false)
		d.emit(false)
		if d.OnStatus != nil {
			d.OnStatus(b[2])
		}
		return 3
	case c == 0x1B:
		if !need(2) {
			return 0
		}
		switch b[1] {
		case '@':
			d.endLine(false)
			d.emit(false)
			d.reset()
			return 2
		case '2', '<', 'i', 'm', 'L', 'S', 0x0C:
			return 2
		}
		if n := d.escLong(b); n >= 0 {
			return n
		}
		if !need(3) {
			return 0
		}
		switch b[1] {
		case 'a':
			d.align = int(b[2] % 48)
		case 'E':
			d.bold = b[2]&1 == 1
		case 'd':
			d.endLine(false)
			for range int(b[2]) {
				d.endLine(true)
			}
		case '!', 't', '3', 'J', '-', 'M', 'G', 'V', 'R', '{', ' ', '=', 'r', 'e', 'U', 'T', '%', '?', 'u', 'v', 'K':
		default:
			return d.unknown(2)
		}
		return 3
	case c == 0x1C:
		if !need(2) {
			return 0
		}
		switch b[1] {
		case '&', '.':
			return 2
		case '!', '-', 'W', 'C':
			if !need(3) {
				return 0
			}
			return 3
		case 'p', 'S', '?': // FS p n m: print NV image; FS S / FS ?
			if !need(4) {
				return 0
			}
			return d.skip(4)
		}
		return d.unknown(2)
	case c == 0x1D:
		return d.gs(b)
	}
	return d.unknown(1) // other control bytes
}

func (d *Decoder) gs(b []byte) int {
	if len(b) < 3 {
		return 0
	}
	switch b[1] {
	case '!':
		d.width, d.height = int(b[2]>>4&7)+1, int(b[2]&7)+1
		return 3
	case 'V':
		n := 3
		if b[2] == 65 || b[2] == 66 {
			n = 4
		}
		if len(b) < n {
			return 0
		}
		d.endLine(false)
		d.emit(true)
		return n
	case '(':
		if len(b) < 5 {
			return 0
		}
		n := 5 + int(b[3]) + int(b[4])<<8
		if len(b) < n {
			return 0
		}
		if b[2] == 'H' && n == 11 && b[5] == 0x30 && b[6] == 0x30 {
			d.endLine(false)
			d.emit(false)
			if d.OnProcessID != nil {
				d.OnProcessID([4]byte(b[7:11]))
			}
			return n
		}
		if b[2] == 'k' && n >= 8 && b[5] == 0x31 {
			switch b[6] {
			case 0x43:
				d.module = int(b[7])
			case 0x50:
				d.qr = string(b[8:n])
			case 0x51:
				d.endLine(false)
				d.page.Lines = append(d.page.Lines, Line{QR: d.qr, QRModule: d.module, Align: d.align})
			}
		}
		return n
	case 'v':
		if len(b) < 8 {
			return 0
		}
		if b[2] != '0' {
			return d.unknown(2)
		}
		w, h := int(b[4])|int(b[5])<<8, int(b[6])|int(b[7])<<8
		if w*h > maxRaster {
			return d.unknown(2)
		}
		if len(b) < 8+w*h {
			return 0
		}
		d.endLine(false)
		bits := b[8 : 8+w*h]
		if k := len(d.page.Lines) - 1; k >= 0 && d.lastWasImage && d.page.Lines[k].Image != nil &&
			d.page.Lines[k].Image.WidthBytes == w && d.page.Lines[k].Align == d.align {
			// the next band of a tall image printed in bands of ≤ 255 rows
			prev := d.page.Lines[k].Image
			joined := escpos.Raster{WidthBytes: w, Height: prev.Height + h, Bits: append(append([]byte(nil), prev.Bits...), bits...)}
			d.page.Lines[k].Image = &joined
		} else {
			r := escpos.Raster{WidthBytes: w, Height: h, Bits: append([]byte(nil), bits...)}
			d.page.Lines = append(d.page.Lines, Line{Image: &r, Align: d.align})
		}
		d.lastWasImage = true
		return 8 + w*h
	case 'r': // GS r n: transmit status, answered in buffer order
		d.endLine(false)
		d.emit(false)
		if d.OnTransmitStatus != nil {
			d.OnTransmitStatus(b[2])
		}
		return 3
	case 'k': // GS k m …: barcode
		return d.barcode(b)
	case '*': // GS * x y d: define a downloaded bit image, x*y*8 bytes
		if len(b) < 4 {
			return 0
		}
		n := 4 + int(b[2])*int(b[3])*8
		if len(b) < n {
			return 0
		}
		return d.skip(n)
	case 'P', '$', '\\':
		if len(b) < 4 {
			return 0
		}
		return d.skip(4)
	case '^':
		if len(b) < 5 {
			return 0
		}
		return d.skip(5)
	case 'I', 'b', 'T', '/', 'E', 'j', 'g', 'z', 'x', 'A':
		return d.skip(3)
	case ':':
		return d.skip(2)
	case 'B', 'h', 'w', 'H', 'f', 'a', 'L', 'W':
		n := 3
		if b[1] == 'L' || b[1] == 'W' {
			n = 4
		}
		if len(b) < n {
			return 0
		}
		return n
	}
	return d.unknown(2)
}

func (d *Decoder) skip(n int) int { d.page.Skipped++; return n }

// escLong reads past the ESC commands with more than one parameter byte and
// returns the bytes used: 0 when incomplete, -1 when b starts no such command.
func (d *Decoder) escLong(b []byte) int {
	switch b[1] {
	case '$', '\\', 'c': // ESC $ nL nH, ESC \ nL nH, ESC c x n
		if len(b) < 4 {
			return 0
		}
		return d.skip(4)
	case 'p': // ESC p m t1 t2: drawer pulse
		if len(b) < 5 {
			return 0
		}
		return d.skip(5)
	case 'W': // ESC W xL xH yL yH dxL dxH dyL dyH: page-mode area
		if len(b) < 10 {
			return 0
		}
		return d.skip(10)
	case '*': // ESC * m nL nH d: column image, n columns of 1 or 3 bytes
		if len(b) < 5 {
			return 0
		}
		cols := int(b[3]) | int(b[4])<<8
		if b[2] == 32 || b[2] == 33 {
			cols *= 3
		}
		if len(b) < 5+cols {
			return 0
		}
		return d.skip(5 + cols)
	case 'D': // ESC D n1 … nk NUL: tab stops (at most 32)
		for i := 2; i < len(b) && i < 2+33; i++ {
			if b[i] == 0 {
				return d.skip(i + 1)
			}
		}
		if len(b) < 2+33 {
			return 0
		}
		return d.unknown(2)
	}
	return -1
}

// barcode reads past GS k m …: m 0-6 data ends at NUL, m 65-79 has a
// length byte. The data is kept as a line (not drawn).
func (d *Decoder) barcode(b []byte) int {
	m := b[2]
	var data []byte
	var n int
	switch {
	case m <= 6:
		i := bytes.IndexByte(b[3:], 0)
		if i < 0 {
			if len(b) > 3+255 {
				return d.unknown(2)
			}
			return 0
		}
		data, n = b[3:3+i], 3+i+1
	case m >= 65 && m <= 79:
		if len(b) < 4 {
			return 0
		}
		n = 4 + int(b[3])
		if len(b) < n {
			return 0
		}
		data = b[4:n]
	default:
		return d.unknown(2)
	}
	d.endLine(false)
	d.page.Lines = append(d.page.Lines, Line{Barcode: string(data), Align: d.align})
	return n
}

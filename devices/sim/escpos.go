package sim

import (
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
	Image         *escpos.Raster // a GS v 0 raster line
}

// Page is one printed ticket decoded back from ESC/POS.
type Page struct {
	Lines   []Line
	Cut     bool
	Unknown int // bytes of commands the decoder did not know
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
// cut, or at a real-time status request or an initialise command after
// printed content (printers without a cutter). Unknown commands are skipped.
type Decoder struct {
	OnPage   func(Page)
	OnStatus func(n byte) // DLE EOT n

	buf           []byte
	align         int
	bold          bool
	width, height int
	text          []byte
	qr            string
	module        int
	page          Page
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
	need := func(n int) bool { return len(b) >= n }
	c := b[0]
	switch {
	case c == '\n':
		d.endLine(true)
		return 1
	case c >= 0x20 && c != 0x7F:
		d.text = append(d.text, c)
		return 1
	case c == 0x10:
		if !need(2) {
			return 0
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
		case '2', '<':
			return 2
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
		case '!', 't', '3', 'J', '-', 'M', 'G', 'V', 'R', '{':
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
		case '!', '-':
			if !need(3) {
				return 0
			}
			return 3
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
		r := escpos.Raster{WidthBytes: w, Height: h, Bits: append([]byte(nil), b[8:8+w*h]...)}
		d.page.Lines = append(d.page.Lines, Line{Image: &r, Align: d.align})
		return 8 + w*h
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

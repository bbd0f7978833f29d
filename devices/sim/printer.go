package sim

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"hallq/devices/escpos"
	"hallq/ui/kiosk/fonts"
)

// Paper is the simulated paper supply.
type Paper int

// Paper states.
const (
	PaperOK Paper = iota
	PaperLow
	PaperOut
)

// Printer simulates an ESC/POS ticket printer as the wire sees it. Bytes
// arrive at the line rate; real-time status requests (DLE EOT n, 10 04 n) are
// answered the moment they arrive — even inside other data, as real printers
// do — while everything else goes into a receive buffer that the print head
// drains at the print speed. Requests processed in buffer order (GS r n
// transmit status, GS ( H fn 48 process ID response) are answered only when
// printing reaches them, and not at all once the printer has stopped. Paper
// can run out mid-job: the rest of the job is lost, and later status shows
// paper end.
type Printer struct {
	*device
	pages chan Page
	tornC chan Page

	// owned by the loop
	dec         Decoder
	paper       Paper
	coverOpen   bool
	offline     bool
	hung        bool
	printed     []Page
	torn        []Page // pages cut short by the paper running out
	rt          [2]byte
	buf         []byte // receive buffer, not yet printed
	printRate   int    // bytes per second the head takes from buf (0: at once)
	draining    bool
	drainClock  time.Time
	paperLeft   int // ≥ 0: the paper ends after this many more bytes are printed
	tearing     bool
	noGSr       bool
	noProcessID bool
	late        map[byte][]byte // sent just before the next answer to DLE EOT n
}

// PrinterOptions configure a printer simulator.
type PrinterOptions struct {
	Link string // optional symlink path kept pointing at the terminal
	// Baud paces both directions at this line rate (0: unpaced). Printers
	// ship at 9600, 38400 or 115200.
	Baud int
	// PrintRate is how many bytes a second the print head takes from the
	// receive buffer (0: everything at once). A slow rate keeps a job in the
	// buffer after it has crossed the wire, as on a real printer.
	PrintRate int
	// NoTransmitStatus: the firmware ignores GS r n (some clones).
	NoTransmitStatus bool
	// NoProcessID: the firmware ignores GS ( H fn 48 (most non-Epson models).
	NoProcessID bool
}

// NewPrinter starts a printer simulator with paper and the cover closed.
func NewPrinter(opts PrinterOptions) (*Printer, error) {
	p := &Printer{pages: make(chan Page, 64), tornC: make(chan Page, 16), printRate: max(opts.PrintRate, 0), paperLeft: -1,
		noGSr: opts.NoTransmitStatus, noProcessID: opts.NoProcessID}
	p.resetDecoder()
	d, err := newDevice("printer", opts.Link, opts.Baud, p.onData)
	if err != nil {
		return nil, err
	}
	d.onUnplug = func() { p.buf, p.rt = nil, [2]byte{}; p.resetDecoder() }
	p.device = d
	return p, nil
}

func (p *Printer) resetDecoder() {
	p.dec = Decoder{OnPage: p.onPage, OnTransmitStatus: p.onTransmitStatus, OnProcessID: p.onProcessID}
}

// Pages delivers each printed page (pages are dropped if nobody reads and
// 64 are waiting; Printed keeps them all).
func (p *Printer) Pages() <-chan Page { return p.pages }

// Printed returns every page printed so far.
func (p *Printer) Printed() []Page {
	var out []Page
	p.do(func() { out = append(out, p.printed...) })
	return out
}

// TornPages delivers each page cut short by the paper running out (dropped
// if nobody reads and 16 are waiting; Torn keeps them all).
func (p *Printer) TornPages() <-chan Page { return p.tornC }

// Torn returns the pages cut short because the paper ran out mid-job.
func (p *Printer) Torn() []Page {
	var out []Page
	p.do(func() { out = append(out, p.torn...) })
	return out
}

// Buffered returns how many received bytes wait unprinted in the buffer.
func (p *Printer) Buffered() int {
	var n int
	p.do(func() { n = len(p.buf) })
	return n
}

// SetPaper sets the paper supply.
func (p *Printer) SetPaper(s Paper) error {
	return p.do(func() {
		p.paper = s
		if s != PaperOut {
			p.paperLeft = -1
		}
	})
}

// SetCover opens or closes the cover.
func (p *Printer) SetCover(open bool) error { return p.do(func() { p.coverOpen = open }) }

// SetOffline takes the printer offline (or back online).
func (p *Printer) SetOffline(off bool) error { return p.do(func() { p.offline = off }) }

// SetHung hangs the printer's firmware (or revives it): the line stays up
// but nothing is answered, not even real-time status, and nothing printed.
func (p *Printer) SetHung(hung bool) error { return p.do(func() { p.hung = hung }) }

// SetPrintRate sets the print speed in bytes per second (0: at once).
func (p *Printer) SetPrintRate(bytesPerSecond int) error {
	return p.do(func() { p.printRate = max(bytesPerSecond, 0) })
}

// RunOutAfter makes the paper run out once n more bytes have been printed:
// the page being printed is torn off there, the rest of the job is lost, and
// status reports paper end until SetPaper(PaperOK).
func (p *Printer) RunOutAfter(n int) error { return p.do(func() { p.paperLeft = max(n, 0) }) }

// LateBeforeStatus makes the printer send b just before its next answer
// to DLE EOT n: the late answer to a request of a process that has since
// gone (a kiosk restarted while its job was still printing), arriving as
// the new process asks for the status.
func (p *Printer) LateBeforeStatus(n byte, b []byte) error {
	return p.do(func() {
		if p.late == nil {
			p.late = map[byte][]byte{}
		}
		p.late[n] = b
	})
}

// FailNextJob makes the paper run out a few lines into the next job (64
// bytes from now): that page is lost.
func (p *Printer) FailNextJob() error { return p.RunOutAfter(64) }

func (p *Printer) stopped() bool { return p.paper == PaperOut || p.coverOpen || p.offline }

func (p *Printer) onData(b []byte) {
	if p.hung {
		return
	}
	for _, c := range b {
		if p.rt[0] == 0x10 && p.rt[1] == 0x04 && c >= 1 && c <= 4 {
			p.realtime(c)
			c = 0 // 10 04 01 04 … is not a second request
		}
		p.rt[0], p.rt[1] = p.rt[1], c
	}
	if p.stopped() {
		return // an offline printer prints nothing and answers nothing in-band
	}
	p.buf = append(p.buf, b...)
	if p.printRate <= 0 {
		b := p.buf
		p.buf = nil
		p.print(b)
		return
	}
	if !p.draining {
		p.draining, p.drainClock = true, time.Now()
		p.after(5*time.Millisecond, p.drain)
	}
}

// drain moves the bytes the head has printed since the last call out of the
// buffer (loop goroutine).
func (p *Printer) drain() {
	if p.stopped() {
		p.buf, p.draining = nil, false
		return
	}
	if p.printRate <= 0 {
		b := p.buf
		p.buf, p.draining = nil, false
		p.print(b)
		return
	}
	per := time.Second / time.Duration(p.printRate)
	n := min(int(time.Since(p.drainClock)/per), len(p.buf))
	if n > 0 {
		p.drainClock = p.drainClock.Add(time.Duration(n) * per)
		b := append([]byte(nil), p.buf[:n]...)
		p.buf = p.buf[n:]
		p.print(b)
	}
	if len(p.buf) == 0 {
		p.buf, p.draining = nil, false
		return
	}
	p.after(5*time.Millisecond, p.drain)
}

// print feeds bytes to the head, running out of paper where told to.
func (p *Printer) print(b []byte) {
	if p.paperLeft >= 0 && len(b) >= p.paperLeft {
		p.dec.Write(b[:p.paperLeft])
		p.paper, p.paperLeft = PaperOut, -1
		p.tearing = true
		p.dec.Flush()
		p.tearing = false
		p.resetDecoder()
		p.buf = nil
		return
	}
	if p.paperLeft >= 0 {
		p.paperLeft -= len(b)
	}
	for len(b) > 0 && !p.stopped() {
		n := min(len(b), 256)
		p.dec.Write(b[:n])
		b = b[n:]
	}
}

func (p *Printer) onPage(pg Page) {
	if p.tearing {
		p.torn = append(p.torn, pg)
		select {
		case p.tornC <- pg:
		default:
		}
		return
	}
	p.printed = append(p.printed, pg)
	select {
	case p.pages <- pg:
	default:
	}
}

// onTransmitStatus answers GS r n when printing reaches it: n = 1 paper
// sensor (bits 0-1 near end), n = 2 drawer (nothing connected).
func (p *Printer) onTransmitStatus(n byte) {
	if p.noGSr || p.stopped() {
		return
	}
	switch n {
	case 1, 49:
		s := byte(0)
		if p.paper == PaperLow {
			s |= 0x03
		}
		p.write([]byte{s})
	case 2, 50:
		p.write([]byte{0})
	}
}

// onProcessID answers GS ( H fn 48 with 37 22 d1 d2 d3 d4 00.
func (p *Printer) onProcessID(id [4]byte) {
	if p.noProcessID || p.stopped() {
		return
	}
	p.write([]byte{0x37, 0x22, id[0], id[1], id[2], id[3], 0x00})
}

// realtime answers DLE EOT n at once.
func (p *Printer) realtime(n byte) {
	out := p.paper == PaperOut
	s := byte(0x12)
	switch n {
	case 1:
		if p.offline || p.coverOpen || out {
			s |= 0x08
		}
	case 2:
		if p.coverOpen {
			s |= 0x04
		}
		if out {
			s |= 0x20
		}
	case 3:
		// error status: no cutter or head errors are simulated
	case 4:
		if p.paper == PaperLow {
			s |= 0x0C
		}
		if out {
			s |= 0x60
		}
	}
	if b, ok := p.late[n]; ok {
		delete(p.late, n)
		p.write(append(b[:len(b):len(b)], s))
		return
	}
	p.write([]byte{s})
}

// RenderPNG draws the page as a paperDots-wide black-on-white image, as the
// printer would: text in 12×24-dot cells (Chinese in 24×24, drawn in the CJK
// font the kiosk ships, Latin in Go Mono), magnified as printed; QR codes and
// raster images dot for dot; barcodes as their data in brackets.
func RenderPNG(w io.Writer, pg Page, paperDots int) error {
	type block struct {
		img   image.Image
		align int
	}
	var blocks []block
	height := 8
	for _, l := range pg.Lines {
		var img image.Image
		switch {
		case l.Image != nil:
			img = rasterImage(*l.Image)
		case l.Barcode != "":
			img = textImage(Line{Text: "[" + l.Barcode + "]", Width: 1, Height: 1})
		case l.QR != "":
			r, err := escpos.QRRaster(l.QR, max(l.QRModule, 1))
			if err != nil {
				return err
			}
			img = rasterImage(r)
		default:
			img = textImage(l)
		}
		blocks = append(blocks, block{img, l.Align})
		height += img.Bounds().Dy() + 2
	}
	out := image.NewGray(image.Rect(0, 0, paperDots, height+8))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	y := 4
	for _, b := range blocks {
		bw := b.img.Bounds().Dx()
		x := 0
		switch b.align {
		case escpos.AlignCenter:
			x = (paperDots - bw) / 2
		case escpos.AlignRight:
			x = paperDots - bw
		}
		draw.DrawMask(out, image.Rect(x, y, x+bw, y+b.img.Bounds().Dy()), image.Black, image.Point{}, b.img, image.Point{}, draw.Over)
		y += b.img.Bounds().Dy() + 2
	}
	if pg.Cut {
		for x := 0; x < paperDots; x += 4 {
			out.SetGray(x, height+4, color.Gray{0x80})
		}
	}
	return png.Encode(w, out)
}

func rasterImage(r escpos.Raster) image.Image {
	img := image.NewAlpha(image.Rect(0, 0, r.WidthBytes*8, r.Height))
	for y := 0; y < r.Height; y++ {
		for x := 0; x < r.WidthBytes*8; x++ {
			if r.At(x, y) {
				img.SetAlpha(x, y, color.Alpha{0xFF})
			}
		}
	}
	return img
}

// faces are the printer's two fonts, parsed once; a face is not safe for
// concurrent use, so drawing holds faceMu.
var (
	faceOnce      sync.Once
	faceMu        sync.Mutex
	cjkFace       font.Face
	latinFace     font.Face
	faceErr       error
	cellW, cellH  = 12, 24
	baselineShift = 20
)

func loadFaces() {
	cjk, err := opentype.Parse(fonts.CJK)
	if err != nil {
		faceErr = err
		return
	}
	if cjkFace, err = opentype.NewFace(cjk, &opentype.FaceOptions{Size: 22, DPI: 72, Hinting: font.HintingFull}); err != nil {
		faceErr = err
		return
	}
	latin, err := opentype.Parse(gomono.TTF)
	if err != nil {
		faceErr = err
		return
	}
	latinFace, faceErr = opentype.NewFace(latin, &opentype.FaceOptions{Size: 20, DPI: 72, Hinting: font.HintingFull})
}

// textImage draws one line at 1× and magnifies it (alpha mask: set = ink).
func textImage(l Line) image.Image {
	faceOnce.Do(loadFaces)
	cols := 0
	for _, r := range l.Text {
		cols += runeCols(r)
	}
	small := image.NewAlpha(image.Rect(0, 0, max(cols*cellW, 1), cellH+2))
	faceMu.Lock()
	x := 0
	for _, r := range l.Text {
		face := latinFace
		if r >= utf8.RuneSelf {
			face = cjkFace
		}
		ok := faceErr == nil
		if ok {
			_, ok = face.GlyphAdvance(r)
		}
		switch {
		case r == ' ':
		case ok:
			d := font.Drawer{Dst: small, Src: image.Opaque, Face: face, Dot: fixed.P(x, baselineShift)}
			d.DrawString(string(r))
			if l.Bold {
				d.Dot = fixed.P(x+1, baselineShift)
				d.DrawString(string(r))
			}
		default: // a box for characters neither font has
			w := runeCols(r) * cellW
			for i := 1; i < w-1; i++ {
				small.SetAlpha(x+i, 1, color.Alpha{0xFF})
				small.SetAlpha(x+i, cellH-1, color.Alpha{0xFF})
			}
			for j := 1; j < cellH; j++ {
				small.SetAlpha(x+1, j, color.Alpha{0xFF})
				small.SetAlpha(x+w-2, j, color.Alpha{0xFF})
			}
		}
		x += runeCols(r) * cellW
	}
	faceMu.Unlock()
	w, h := max(l.Width, 1), max(l.Height, 1)
	big := image.NewAlpha(image.Rect(0, 0, small.Bounds().Dx()*w, small.Bounds().Dy()*h))
	for y := 0; y < big.Bounds().Dy(); y++ {
		for x := 0; x < big.Bounds().Dx(); x++ {
			big.SetAlpha(x, y, small.AlphaAt(x/w, y/h))
		}
	}
	return big
}

func runeCols(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	return 2
}

package sim

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"hallq/devices/escpos"
)

// Paper is the simulated paper supply.
type Paper int

// Paper states.
const (
	PaperOK Paper = iota
	PaperLow
	PaperOut
)

// Printer simulates an ESC/POS ticket printer: it decodes what it receives
// into Pages and answers DLE EOT status requests.
type Printer struct {
	*device
	pages chan Page

	// owned by the loop
	dec       Decoder
	paper     Paper
	coverOpen bool
	offline   bool
	failNext  bool
	printed   []Page
}

// PrinterOptions configure a printer simulator.
type PrinterOptions struct {
	Link string // optional symlink path kept pointing at the terminal
}

// NewPrinter starts a printer simulator with paper and the cover closed.
func NewPrinter(opts PrinterOptions) (*Printer, error) {
	p := &Printer{pages: make(chan Page, 64)}
	p.dec.OnPage = p.onPage
	p.dec.OnStatus = p.onStatus
	d, err := newDevice("printer", opts.Link, func(b []byte) { p.dec.Write(b) })
	if err != nil {
		return nil, err
	}
	p.device = d
	return p, nil
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

// SetPaper sets the paper supply.
func (p *Printer) SetPaper(s Paper) error { return p.do(func() { p.paper = s }) }

// SetCover opens or closes the cover.
func (p *Printer) SetCover(open bool) error { return p.do(func() { p.coverOpen = open }) }

// SetOffline takes the printer offline (or back online).
func (p *Printer) SetOffline(off bool) error { return p.do(func() { p.offline = off }) }

// FailNextJob makes the paper run out during the next job: that page is lost.
func (p *Printer) FailNextJob() error { return p.do(func() { p.failNext = true }) }

func (p *Printer) onPage(pg Page) {
	if p.failNext {
		p.failNext, p.paper = false, PaperOut
	}
	if p.paper == PaperOut || p.coverOpen || p.offline {
		return // nothing comes out
	}
	p.printed = append(p.printed, pg)
	select {
	case p.pages <- pg:
	default:
	}
}

func (p *Printer) onStatus(n byte) {
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
	case 4:
		if p.paper == PaperLow {
			s |= 0x0C
		}
		if out {
			s |= 0x60
		}
	default:
		return // unknown request: a real printer stays silent
	}
	p.write([]byte{s})
}

// RenderPNG draws the page as a paperDots-wide black-on-white image: text in
// a fixed 7×13 font (characters outside ASCII as boxes), magnified as
// printed; QR codes and raster images dot for dot.
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

// textImage draws one line at 1× and magnifies it (alpha mask: set = ink).
func textImage(l Line) image.Image {
	face := basicfont.Face7x13
	const cw, ch = 7, 13
	cols := 0
	for _, r := range l.Text {
		cols += runeCols(r)
	}
	small := image.NewAlpha(image.Rect(0, 0, max(cols*cw, 1), ch+2))
	d := font.Drawer{Dst: small, Src: image.Opaque, Face: face}
	x := 0
	for _, r := range l.Text {
		if r < utf8.RuneSelf {
			d.Dot = fixed.P(x, 11)
			d.DrawString(string(r))
			if l.Bold {
				d.Dot = fixed.P(x+1, 11)
				d.DrawString(string(r))
			}
		} else { // a box for characters the font lacks
			for i := 1; i < 2*cw-1; i++ {
				small.SetAlpha(x+i, 1, color.Alpha{0xFF})
				small.SetAlpha(x+i, ch-1, color.Alpha{0xFF})
			}
			for j := 1; j < ch; j++ {
				small.SetAlpha(x+1, j, color.Alpha{0xFF})
				small.SetAlpha(x+2*cw-2, j, color.Alpha{0xFF})
			}
		}
		x += runeCols(r) * cw
	}
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

package kiosk

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
)

// The pictures are drawn with canvas shapes at fixed positions, so the
// kiosk ships no image files besides its font.

var (
	colDevice     = rgb(0x2E, 0x37, 0x44) // reader, scanner, printer bodies
	colDeviceTop  = rgb(0x4A, 0x56, 0x68)
	colCardFace   = rgb(0xD8, 0xE6, 0xF6)
	colCardDetail = rgb(0x7E, 0x9C, 0xC4)
	colBeam       = rgb(0xE0, 0x3A, 0x3A)
)

// drawing centres a w×h picture made of shapes placed by hand, enlarged k
// times.
func drawing(k, w, h float32, objs ...fyne.CanvasObject) fyne.CanvasObject {
	for _, o := range objs {
		o.Move(fyne.NewPos(o.Position().X*k, o.Position().Y*k))
		o.Resize(fyne.NewSize(o.Size().Width*k, o.Size().Height*k))
		switch x := o.(type) {
		case *canvas.Rectangle:
			x.StrokeWidth *= k
			x.CornerRadius *= k
		case *canvas.Circle:
			x.StrokeWidth *= k
		case *canvas.Line:
			x.StrokeWidth *= k
		case *canvas.Text:
			x.TextSize *= k
		}
	}
	size := fyne.NewSize(w*k, h*k)
	return container.NewCenter(container.NewGridWrap(size, container.NewWithoutLayout(objs...)))
}

func box(c color.Color, x, y, w, h, radius float32) *canvas.Rectangle {
	r := canvas.NewRectangle(c)
	r.CornerRadius = radius
	r.Move(fyne.NewPos(x, y))
	r.Resize(fyne.NewSize(w, h))
	return r
}

func outline(c color.Color, width float32, r *canvas.Rectangle) *canvas.Rectangle {
	r.StrokeColor = c
	r.StrokeWidth = width
	return r
}

func stroke(c color.Color, width, x1, y1, x2, y2 float32) *canvas.Line {
	l := canvas.NewLine(c)
	l.StrokeWidth = width
	l.Position1 = fyne.NewPos(x1, y1)
	l.Position2 = fyne.NewPos(x2, y2)
	return l
}

func ring(c color.Color, width, cx, cy, radius float32) *canvas.Circle {
	r := canvas.NewCircle(color.Transparent)
	r.StrokeColor = c
	r.StrokeWidth = width
	r.Move(fyne.NewPos(cx-radius, cy-radius))
	r.Resize(fyne.NewSquareSize(2 * radius))
	return r
}

// idCard is a resident ID card, 260×164 with its top left corner at x, y.
func idCard(x, y float32) []fyne.CanvasObject {
	return []fyne.CanvasObject{
		outline(colPrimary, 4, box(colCardFace, x, y, 260, 164, 16)),
		box(colCardDetail, x+22, y+26, 70, 88, 6),
		box(colCardDetail, x+112, y+32, 124, 12, 6),
		box(colCardDetail, x+112, y+58, 96, 12, 6),
		box(colCardDetail, x+112, y+84, 110, 12, 6),
		box(colPrimary, x+22, y+132, 214, 12, 6),
	}
}

// readerPad is the reader's contactless pad, 340×110.
func readerPad(x, y float32) []fyne.CanvasObject {
	cx, cy := x+170, y+55
	return []fyne.CanvasObject{
		box(colDevice, x, y, 340, 110, 20),
		box(colDeviceTop, x+24, y+16, 292, 78, 14),
		ring(colOnDarkSoft, 4, cx, cy, 12),
		ring(colOnDarkSoft, 4, cx, cy, 24),
		ring(colOnDarkSoft, 4, cx, cy, 36),
	}
}

// arrowDown points from y1 down to y2 at x.
func arrowDown(x, y1, y2 float32) []fyne.CanvasObject {
	return []fyne.CanvasObject{
		stroke(colPrimary, 10, x, y1, x, y2),
		stroke(colPrimary, 10, x, y2+4, x-22, y2-18),
		stroke(colPrimary, 10, x, y2+4, x+22, y2-18),
	}
}

// phoneQR is a phone showing a booking QR code, 150×230.
func phoneQR(x, y float32) []fyne.CanvasObject {
	objs := []fyne.CanvasObject{
		box(colDevice, x, y, 150, 230, 22),
		box(colSurface, x+12, y+30, 126, 170, 6),
	}
	// Three finder squares and a few modules read as "a QR code" at a glance.
	for _, p := range [][2]float32{{22, 48}, {92, 48}, {22, 118}} {
		objs = append(objs,
			outline(colText, 6, box(colSurface, x+p[0], y+p[1], 36, 36, 2)),
			box(colText, x+p[0]+12, y+p[1]+12, 12, 12, 0))
	}
	for _, p := range [][2]float32{{96, 122}, {112, 138}, {96, 154}, {120, 160}, {72, 90}, {72, 140}} {
		objs = append(objs, box(colText, x+p[0], y+p[1], 14, 14, 0))
	}
	return objs
}

// scannerWindow is the code scanner's glass with its red beam, 220×90.
func scannerWindow(x, y float32) []fyne.CanvasObject {
	return []fyne.CanvasObject{
		box(colDevice, x, y, 220, 90, 18),
		box(colDeviceTop, x+20, y+18, 180, 54, 10),
		stroke(colBeam, 5, x+34, y+45, x+186, y+45),
	}
}

// cardOnReader: place the card on the pad.
func cardOnReader() fyne.CanvasObject {
	objs := idCard(110, 10)
	objs = append(objs, arrowDown(240, 190, 236)...)
	objs = append(objs, readerPad(70, 262)...)
	return drawing(1.5, 480, 380, objs...)
}

// cardOrCode: swipe the card, or hold the phone's QR code to the scanner.
func cardOrCode(or string) fyne.CanvasObject {
	objs := idCard(20, 50)
	objs = append(objs, arrowDown(150, 228, 266)...)
	objs = append(objs, readerPad(-20, 292)...)
	word := canvas.NewText(or, colMuted)
	word.TextSize = 36
	word.Alignment = fyne.TextAlignCenter
	word.Move(fyne.NewPos(350, 180))
	word.Resize(fyne.NewSize(80, 50))
	objs = append(objs, word)
	objs = append(objs, phoneQR(525, 10)...)
	objs = append(objs, arrowDown(600, 250, 284)...)
	objs = append(objs, scannerWindow(490, 306)...)
	return drawing(1.2, 760, 410, objs...)
}

// printing: a ticket coming out of the printer.
func printing() fyne.CanvasObject {
	return drawing(1.4, 360, 300,
		outline(colBorder, 3, box(colSurface, 90, 10, 180, 190, 6)),
		box(colPrimary, 120, 44, 120, 34, 6),
		box(colCardDetail, 120, 100, 90, 12, 6),
		box(colCardDetail, 120, 126, 120, 12, 6),
		box(colDevice, 20, 170, 320, 120, 22),
		box(colText, 70, 186, 220, 12, 6),
		box(colOK, 286, 246, 26, 14, 7),
	)
}

// notice is a round sign with a mark in it ("!").
func notice(fill color.Color, mark string) fyne.CanvasObject {
	c := canvas.NewCircle(fill)
	c.StrokeColor = colText
	c.StrokeWidth = 5
	c.Move(fyne.NewPos(5, 5))
	c.Resize(fyne.NewSquareSize(150))
	t := canvas.NewText(mark, colText)
	t.TextSize = 110
	t.Alignment = fyne.TextAlignCenter
	t.Move(fyne.NewPos(5, 5))
	t.Resize(fyne.NewSquareSize(150))
	return drawing(1, 160, 160, c, t)
}

package kiosk

import (
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	qrcode "github.com/skip2/go-qrcode"
)

// style is the colours of a tile: its fill, optional border, and the theme
// colour names of the text on it (main and secondary lines).
type style struct {
	fill, stroke color.Color
	text, soft   fyne.ThemeColorName
}

const (
	onDark     = theme.ColorNameForegroundOnPrimary
	onDarkSoft = colorNameOnDarkSoft
	onLight    = theme.ColorNameForeground
)

var (
	stylePrimary   = style{fill: colPrimary, text: onDark, soft: onDarkSoft}
	styleBooking   = style{fill: colTeal, text: onDark, soft: onDarkSoft}
	styleSecondary = style{fill: colSurface, stroke: colPrimary, text: theme.ColorNamePrimary, soft: colorNameMuted}
	styleClosed    = style{fill: colClosed, text: colorNameClosedText, soft: colorNameClosedText}
	styleDanger    = style{fill: colDanger, text: onDark, soft: onDarkSoft}
	styleHeader    = style{fill: colHeader, stroke: colOnDarkSoft, text: onDark, soft: onDarkSoft}
	styleCorner    = style{fill: colHeader, text: onDark, soft: onDarkSoft}
	styleWarn      = style{fill: colWarn, text: onLight, soft: onLight}
	styleCard      = style{fill: colSurface, stroke: colBorder, text: onLight, soft: colorNameMuted}
)

// tile is the kiosk's one touch target: a flat rounded rectangle in a style,
// holding any content, never smaller than min. Buttons, service tiles, PIN
// keys and the hidden header corner are all tiles. A tile without onTap is
// inert (a closed service, a card).
type tile struct {
	widget.BaseWidget
	style   style
	min     fyne.Size
	onTap   func()
	content fyne.CanvasObject
}

func newTile(st style, min fyne.Size, onTap func(), content fyne.CanvasObject) *tile {
	t := &tile{style: st, min: min, onTap: onTap, content: content}
	t.ExtendBaseWidget(t)
	return t
}

func (t *tile) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(t.style.fill)
	bg.CornerRadius = 14
	if t.style.stroke != nil {
		bg.StrokeColor = t.style.stroke
		bg.StrokeWidth = 3
	}
	pad := layout.NewCustomPaddedLayout(12, 12, 24, 24)
	return widget.NewSimpleRenderer(container.NewStack(bg, container.New(pad, t.content)))
}

func (t *tile) MinSize() fyne.Size {
	return t.BaseWidget.MinSize().Max(t.min)
}

func (t *tile) Tapped(*fyne.PointEvent) {
	if t.onTap != nil {
		t.onTap()
	}
}

// tileGrid lays tiles out in as many columns at least minWidth wide as fit,
// the rows sharing the height but none taller than maxHeight, centred
// vertically: two columns on the portrait terminal, one in large-text mode.
type tileGrid struct {
	minWidth, maxHeight, gap float32
}

func (g tileGrid) columns(width float32, n int) int {
	c := int((width + g.gap) / (g.minWidth + g.gap))
	return max(1, min(c, n))
}

func (g tileGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) == 0 {
		return
	}
	cols := g.columns(size.Width, len(objs))
	rows := (len(objs) + cols - 1) / cols
	w := (size.Width - g.gap*float32(cols-1)) / float32(cols)
	h := min(g.maxHeight, (size.Height-g.gap*float32(rows-1))/float32(rows))
	h = max(h, g.MinSize(objs).Height)
	top := max(0, size.Height-float32(rows)*(h+g.gap)+g.gap) / 2
	for i, o := range objs {
		r, c := i/cols, i%cols
		o.Move(fyne.NewPos(float32(c)*(w+g.gap), top+float32(r)*(h+g.gap)))
		o.Resize(fyne.NewSize(w, h))
	}
}

func (g tileGrid) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// qrImage draws url as a QR code px wide, or nothing when it cannot be
// encoded.
func qrImage(url string, px int) fyne.CanvasObject {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return layout.NewSpacer()
	}
	img := canvas.NewImageFromImage(q.Image(px))
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScalePixels
	img.SetMinSize(fyne.NewSquareSize(float32(px)))
	return img
}

// minutes rounds a wait up to whole minutes, at least one.
func minutes(d time.Duration) int {
	return max(1, int(math.Ceil(d.Minutes())))
}

package kiosk

import (
	"encoding/json"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"hallq/ui/kiosk/fonts"
)

// The hidden service gesture: this many taps on the header's hall name
// within the window open the PIN pad.
const (
	cornerTaps   = 5
	cornerWindow = 3 * time.Second
	maxPIN       = 8
)

// UI draws the kiosk's screens into a window. The app pushes what to show
// with Show; the citizen's taps go to the Model. The citizen's language and
// large-text mode, the home screen's page and the PIN pad are the UI's own
// state, touched only on the Fyne goroutine.
type UI struct {
	win   fyne.Window
	model Model
	now   func() time.Time // the hidden gesture's clock

	view    View
	lang    Language
	elderly bool
	page    int
	pin     *pinPad     // non-nil while the PIN pad is open
	corner  []time.Time // recent taps on the hall name
	guide   bool        // the "what to bring" guide is open over the home screen
	rating  *rating     // the 好差评 being given on the notice screen
	shown   string      // shownKey of the view last drawn by show
	drawn   func()      // called after each redraw (SetDrawn)
	full    bool        // the whole CJK font is loaded (a view needed a rare ideograph)
}

// rating is a level chosen on the notice screen and its options ticked.
type rating struct {
	score  int
	chosen []string
}

type pinPad struct {
	digits string
	wrong  bool
}

// New draws the home screen into win and applies the kiosk theme to the
// current app. Call it on the Fyne goroutine (for example before
// win.ShowAndRun); afterwards drive the UI with Show.
func New(win fyne.Window, m Model) *UI {
	u := &UI{win: win, model: m, now: time.Now, lang: Chinese}
	win.SetPadded(false)
	u.full = !fonts.InCommon(u.shownKey(View{}))
	u.applyTheme()
	u.render()
	return u
}

// Show switches to the screen v describes. It is safe to call from any
// goroutine: the update runs on the Fyne goroutine through fyne.Do.
func (u *UI) Show(v View) {
	fyne.Do(func() { u.show(v) })
}

// SetDrawn registers fn to be called, on the Fyne goroutine, each time
// the window's content is built anew (a new screen, a tap that changes
// it) — not when the app sends again a view already shown. The kiosk
// window uses it to give back memory once the screen has stayed the same
// for a while. Call it on the Fyne goroutine, like New.
func (u *UI) SetDrawn(fn func()) { u.drawn = fn }

func (u *UI) show(v View) {
	// The app sends the view again whenever something it tracks changes
	// (a device check every 10 s, a figure from the server): a view the
	// screen already shows, with the same tiles, is not drawn again. A
	// redraw builds every widget anew, so every text is shaped and
	// rasterised again and the whole window repainted — the idle home
	// screen's CPU.
	shown := u.shownKey(v)
	if !v.NewVisitor && shown != "" && shown == u.shown {
		return
	}
	u.shown = shown
	u.needGlyphs(shown)
	if v.Screen != u.view.Screen || v.NewVisitor {
		u.page, u.pin, u.corner, u.guide, u.rating = 0, nil, nil, false, nil
	}
	if v.NewVisitor {
		u.lang = Chinese
		if v.Language == English {
			u.lang = English
		}
		if u.elderly {
			u.elderly = false
			u.applyTheme()
		}
	}
	if v.Elderly && !u.elderly { // an elderly card holder: large text without asking
		u.elderly = true
		u.page = 0
		u.applyTheme()
	}
	if v.Rated {
		u.rating = nil // sent: the next one starts afresh
	}
	u.view = v
	u.render()
}

// shownKey identifies what show(v) would draw from the app's side: the
// view and, on the screens that list them, the service tiles (copied into
// the key, so a tile changed in place is seen). "" when it cannot be told.
func (u *UI) shownKey(v View) string {
	var tiles []ServiceTile
	if v.Screen == ScreenHome {
		tiles = u.model.Services()
	}
	b, err := json.Marshal(struct {
		V View
		T []ServiceTile
	}{v, tiles})
	if err != nil {
		return ""
	}
	return string(b)
}

// needGlyphs loads the whole CJK font, for good, when text (a view as
// shownKey has it: every string from the app and the server) holds an
// ideograph the common subset lacks. The kiosk's own strings are all in
// the subset (TestCommonFontDrawsTheKiosksOwnText).
func (u *UI) needGlyphs(text string) {
	if u.full || fonts.InCommon(text) {
		return
	}
	u.full = true
	u.applyTheme()
}

func (u *UI) theme() *kioskTheme { return &kioskTheme{elderly: u.elderly, full: u.full} }

func (u *UI) applyTheme() { fyne.CurrentApp().Settings().SetTheme(u.theme()) }

func (u *UI) render() {
	var body fyne.CanvasObject
	var actions []fyne.CanvasObject
	switch {
	case u.pin != nil:
		body, actions = u.pinScreen()
	case u.view.StillThere:
		body, actions = u.stillThere()
	case u.guide && u.view.Screen == ScreenHome:
		body, actions = u.guideScreen()
	case u.view.Screen == ScreenInsertCard:
		body, actions = u.insertCard()
	case u.view.Screen == ScreenBooking:
		body, actions = u.booking()
	case u.view.Screen == ScreenWorking:
		body = u.working()
	case u.view.Screen == ScreenTicket:
		body, actions = u.ticket()
	case u.view.Screen == ScreenRefusal:
		body, actions = u.refusal()
	case u.view.Screen == ScreenOutOfService:
		body = u.outOfService()
	case u.view.Screen == ScreenService:
		body, actions = u.serviceScreen()
	case u.view.Screen == ScreenNotice:
		body, actions = u.noticeScreen()
	default:
		body = u.home()
	}
	var footer fyne.CanvasObject
	if len(actions) > 0 {
		cols := len(actions)
		if cols > 2 || u.elderly {
			cols = 1
		}
		footer = container.New(layout.NewCustomPaddedLayout(0, 32, 40, 40),
			container.NewGridWithColumns(cols, actions...))
	}
	page := container.NewBorder(u.header(), footer, nil, nil,
		container.New(layout.NewCustomPaddedLayout(32, 24, 40, 40), body))
	content := container.NewStack(canvas.NewRectangle(colBackground), page)
	u.win.SetContent(content)
	if u.drawn != nil {
		defer u.drawn()
	}
	// Wrapped text learns its height only once it has a width; a second
	// layout pass places what follows it correctly.
	content.Refresh()
}

// t is the string for key in the citizen's language; kv are template
// field/value pairs ("N", 3).
func (u *UI) t(key string, kv ...any) string { return tr(u.lang, key, fields(kv)) }

func fields(kv []any) map[string]any {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func (u *UI) color(n fyne.ThemeColorName) color.Color { return u.theme().Color(n, theme.VariantLight) }

// text is one line that never wraps: numbers, button labels.
func (u *UI) text(s string, c fyne.ThemeColorName, size fyne.ThemeSizeName, align fyne.TextAlign) *canvas.Text {
	t := canvas.NewText(s, u.color(c))
	t.TextSize = u.theme().Size(size)
	t.Alignment = align
	return t
}

// words is text that wraps to the width it is given (CJK wraps per glyph).
func (u *UI) words(s string, c fyne.ThemeColorName, size fyne.ThemeSizeName, align fyne.TextAlign) *widget.RichText {
	rt := widget.NewRichText(&widget.TextSegment{Text: s, Style: widget.RichTextStyle{
		Alignment: align, ColorName: c, SizeName: size,
	}})
	rt.Wrapping = fyne.TextWrapWord
	return rt
}

// title is a screen's heading in the citizen's language with the other
// language beneath it, small, for whoever did not find the switch.
func (u *UI) title(key string) fyne.CanvasObject {
	return container.NewVBox(
		u.words(u.t(key), onLight, theme.SizeNameHeadingText, fyne.TextAlignCenter),
		u.words(tr(u.lang.other(), key, nil), colorNameMuted, theme.SizeNameText, fyne.TextAlignCenter),
	)
}

func (u *UI) touch() fyne.Size { return fyne.NewSquareSize(minTouch * u.theme().scale()) }

func (u *UI) button(label string, st style, onTap func()) *tile {
	t := u.text(label, st.text, theme.SizeNameSubHeadingText, fyne.TextAlignCenter)
	return newTile(st, u.touch(), onTap, container.NewCenter(t))
}

// middle centres content vertically at full width (wrapped text needs the
// width; container.NewCenter would squeeze it).
func middle(objs ...fyne.CanvasObject) fyne.CanvasObject {
	objs = append(append([]fyne.CanvasObject{layout.NewSpacer()}, objs...), layout.NewSpacer())
	return container.New(layout.NewCustomPaddedVBoxLayout(gap), objs...)
}

// gap separates the blocks of a screen.
const gap = 24

// header is the same size in both modes, so the hall name and the two
// switches always fit one row.
func (u *UI) header() fyne.CanvasObject {
	normal := &kioskTheme{}
	line := func(s string, c color.Color, size fyne.ThemeSizeName) *canvas.Text {
		t := canvas.NewText(s, c)
		t.TextSize = normal.Size(size)
		return t
	}
	name := container.NewVBox(
		line(u.name(u.view.HallName, u.view.HallNameEN), colOnDark, theme.SizeNameSubHeadingText),
		line(u.t("kiosk_name"), colOnDarkSoft, theme.SizeNameCaptionText),
	)
	corner := newTile(styleCorner, fyne.NewSquareSize(minTouch), u.tapCorner, name)
	elderKey := "elderly_on"
	if u.elderly {
		elderKey = "elderly_off"
	}
	toggle := func(label string, onTap func()) fyne.CanvasObject {
		t := line(label, colOnDark, theme.SizeNameSubHeadingText)
		return newTile(styleHeader, fyne.NewSquareSize(minTouch), onTap, container.NewCenter(t))
	}
	switches := container.NewHBox(
		toggle(u.t(elderKey), u.toggleElderly),
		toggle(u.t("switch_language"), u.toggleLanguage),
	)
	bar := container.NewBorder(nil, nil, corner, switches)
	return container.NewStack(canvas.NewRectangle(colHeader),
		container.New(layout.NewCustomPaddedLayout(12, 12, 16, 24), bar))
}

func (u *UI) toggleLanguage() {
	u.lang = u.lang.other()
	u.render()
	u.model.SetLanguage(u.lang)
}

func (u *UI) toggleElderly() {
	u.elderly = !u.elderly
	u.page = 0
	u.applyTheme()
	u.render()
	u.model.SetElderly(u.elderly)
}

// tapCorner counts taps on the hall name; enough of them in a short time
// open the PIN pad. Citizens' screens only.
func (u *UI) tapCorner() {
	if u.pin == nil && u.view.Screen != ScreenService {
		now := u.now()
		recent := u.corner[:0]
		for _, t := range u.corner {
			if now.Sub(t) < cornerWindow {
				recent = append(recent, t)
			}
		}
		u.corner = append(recent, now)
		if len(u.corner) >= cornerTaps {
			u.corner, u.pin = nil, &pinPad{}
			u.render()
		}
	}
	u.model.Touched()
}

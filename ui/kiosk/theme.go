package kiosk

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"hallq/ui/kiosk/fonts"
)

// fontResource is Droid Sans Fallback (package fonts, Apache-2.0, see
// fonts/NOTICE), the CJK face. Fyne draws the glyphs it lacks (Latin) with
// its own embedded Noto Sans, so every string renders the same on every
// machine, without tofu.
//
// The screens draw with its common subset (commonFontResource): Fyne's
// shaper parses every glyph of the font it loads and keeps them, ≈ 13 MB
// for the whole face, ≈ 3.4 MB for the subset, which differs from it only
// by the rare ideographs. A view with one of those (a place name, a
// material, a closure notice from the server) switches the kiosk to the
// whole face for good (UI.needGlyphs).
var (
	fontResource       = fyne.NewStaticResource("DroidSansFallbackFull.ttf", fonts.CJK)
	commonFontResource = fyne.NewStaticResource("DroidSansFallbackCommon.ttf", fonts.Common)
)

// The palette: a calm, high-contrast government-service look. Every text
// colour is at least 7:1 against the fill it is drawn on (theme_test.go).
var (
	colBackground = rgb(0xF3, 0xF5, 0xF8) // page
	colSurface    = rgb(0xFF, 0xFF, 0xFF) // cards
	colText       = rgb(0x0E, 0x1A, 0x2B) // body text
	colMuted      = rgb(0x34, 0x40, 0x52) // secondary text
	colPrimary    = rgb(0x0B, 0x3A, 0x75) // navy: header, service tiles, main buttons
	colHeader     = rgb(0x08, 0x2A, 0x55)
	colOnDark     = rgb(0xFF, 0xFF, 0xFF)
	colOnDarkSoft = rgb(0xDD, 0xE6, 0xF2) // secondary text on navy
	colTeal       = rgb(0x00, 0x4D, 0x43) // the booking tile
	colClosed     = rgb(0xE1, 0xE5, 0xEB) // a closed service tile
	colClosedText = rgb(0x2E, 0x37, 0x44)
	colWarn       = rgb(0xFF, 0xDD, 0x80) // amber banner: "photograph this ticket"
	colDanger     = rgb(0x8E, 0x12, 0x16) // "exit kiosk", faults
	colOK         = rgb(0x12, 0x5C, 0x2B)
	colBorder     = rgb(0x8A, 0x96, 0xA8)
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: 0xFF} }

// Colour names of the kiosk's own text colours, answered by the theme, so
// wrapped text (widget.RichText) can use them.
const (
	colorNameMuted      fyne.ThemeColorName = "kioskMuted"
	colorNameOnDarkSoft fyne.ThemeColorName = "kioskOnDarkSoft"
	colorNameClosedText fyne.ThemeColorName = "kioskClosedText"
)

// Size names of the kiosk's own text levels, answered by the theme.
const (
	sizeNameTileTitle fyne.ThemeSizeName = "kioskTileTitle"
	sizeNameNumber    fyne.ThemeSizeName = "kioskTicketNumber"
)

// baseSizes are the sizes in normal mode, in Fyne units (pixels at scale 1).
// No text is smaller than 20.
var baseSizes = map[fyne.ThemeSizeName]float32{
	theme.SizeNameCaptionText:     22,
	theme.SizeNameText:            28,
	theme.SizeNameSubHeadingText:  36,
	theme.SizeNameHeadingText:     50,
	sizeNameTileTitle:             42,
	sizeNameNumber:                190,
	theme.SizeNamePadding:         8,
	theme.SizeNameInnerPadding:    8,
	theme.SizeNameLineSpacing:     4,
	theme.SizeNameInputBorder:     3,
	theme.SizeNameInputRadius:     10,
	theme.SizeNameSelectionRadius: 10,
	theme.SizeNameInlineIcon:      32,
	theme.SizeNameScrollBar:       24,
}

// elderlyScale enlarges text in the large-text mode (长辈模式); the ticket
// number is large enough as it is.
const elderlyScale = 1.3

// minTouch is the smallest side of anything tappable, before scaling.
const minTouch = 96

// kioskTheme is the kiosk's fyne.Theme: light, high contrast, one CJK font
// (its common subset unless full), large type; the elderly variant scales
// every text size.
type kioskTheme struct{ elderly, full bool }

func (t *kioskTheme) scale() float32 {
	if t.elderly {
		return elderlyScale
	}
	return 1
}

func (t *kioskTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameBackground, theme.ColorNameOverlayBackground, theme.ColorNameMenuBackground:
		return colBackground
	case theme.ColorNameInputBackground, theme.ColorNameHeaderBackground:
		return colSurface
	case theme.ColorNameForeground, theme.ColorNameHyperlink:
		return colText
	case theme.ColorNamePlaceHolder, theme.ColorNameDisabled, colorNameMuted:
		return colMuted
	case colorNameOnDarkSoft:
		return colOnDarkSoft
	case colorNameClosedText:
		return colClosedText
	case theme.ColorNamePrimary, theme.ColorNameFocus:
		return colPrimary
	case theme.ColorNameForegroundOnPrimary, theme.ColorNameForegroundOnError:
		return colOnDark
	case theme.ColorNameButton:
		return colPrimary
	case theme.ColorNameError:
		return colDanger
	case theme.ColorNameSuccess:
		return colOK
	case theme.ColorNameWarning:
		return colWarn
	case theme.ColorNameInputBorder, theme.ColorNameSeparator:
		return colBorder
	}
	return theme.DefaultTheme().Color(n, theme.VariantLight)
}

func (t *kioskTheme) Font(fyne.TextStyle) fyne.Resource {
	if t.full {
		return fontResource
	}
	return commonFontResource
}

func (t *kioskTheme) Icon(n fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(n)
}

func (t *kioskTheme) Size(n fyne.ThemeSizeName) float32 {
	s, ok := baseSizes[n]
	if !ok {
		return theme.DefaultTheme().Size(n)
	}
	switch n {
	case sizeNameNumber, theme.SizeNamePadding, theme.SizeNameInnerPadding, theme.SizeNameInputBorder,
		theme.SizeNameInputRadius, theme.SizeNameSelectionRadius, theme.SizeNameScrollBar:
		return s
	}
	return s * t.scale()
}

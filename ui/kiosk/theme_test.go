package kiosk

import (
	"image/color"
	"math"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"golang.org/x/image/font/sfnt"

	"hallq/ui/kiosk/fonts"
)

// contrast is the WCAG 2 contrast ratio of two opaque colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xFFFF
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func TestContrastAtLeastSevenToOne(t *testing.T) {
	th := &kioskTheme{}
	c := func(n fyne.ThemeColorName) color.Color { return th.Color(n, theme.VariantLight) }
	pairs := []struct {
		name   string
		fg, bg color.Color
	}{
		{"foreground on background", c(theme.ColorNameForeground), c(theme.ColorNameBackground)},
		{"muted on background", c(colorNameMuted), c(theme.ColorNameBackground)},
		{"primary text on background", c(theme.ColorNamePrimary), c(theme.ColorNameBackground)},
		{"button text on button", c(theme.ColorNameForegroundOnPrimary), c(theme.ColorNameButton)},
		{"text on primary", c(theme.ColorNameForegroundOnPrimary), c(theme.ColorNamePrimary)},
		{"error on background", c(theme.ColorNameError), c(theme.ColorNameBackground)},
		{"success on surface", c(theme.ColorNameSuccess), colSurface},
		{"error on surface", c(theme.ColorNameError), colSurface},
		{"header name", colOnDark, colHeader},
		{"header caption", colOnDarkSoft, colHeader},
		{"drawing word", colMuted, colBackground},
		{"notice mark", colText, colWarn},
		{"notice mark, out of service", colText, colClosed},
	}
	for name, st := range map[string]style{
		"primary": stylePrimary, "booking": styleBooking, "secondary": styleSecondary,
		"closed": styleClosed, "danger": styleDanger, "header": styleHeader, "corner": styleCorner,
		"warn": styleWarn, "card": styleCard,
	} {
		pairs = append(pairs,
			struct {
				name   string
				fg, bg color.Color
			}{name + " text", c(st.text), st.fill},
			struct {
				name   string
				fg, bg color.Color
			}{name + " secondary text", c(st.soft), st.fill})
	}
	for _, p := range pairs {
		if r := contrast(p.fg, p.bg); r < 7 {
			t.Errorf("%s: contrast %.2f:1, want at least 7:1", p.name, r)
		}
	}
}

func TestTextSizes(t *testing.T) {
	normal, elderly := &kioskTheme{}, &kioskTheme{elderly: true}
	for _, n := range []fyne.ThemeSizeName{theme.SizeNameCaptionText, theme.SizeNameText,
		theme.SizeNameSubHeadingText, theme.SizeNameHeadingText, sizeNameTileTitle, sizeNameNumber} {
		if s := normal.Size(n); s < 20 {
			t.Errorf("%s is %v, below 20", n, s)
		}
		if n != sizeNameNumber && elderly.Size(n) <= normal.Size(n) {
			t.Errorf("%s: elderly %v is not larger than normal %v", n, elderly.Size(n), normal.Size(n))
		}
	}
	if minTouch < 60 {
		t.Errorf("touch targets of %v, want at least 60", minTouch)
	}
}

// TestFontHasEveryGlyph guards against tofu: every character of every
// string the screens can show is in the embedded CJK font's common subset
// (what the screens draw with until a view needs a rare ideograph) or in
// the Noto Sans that Fyne embeds and draws missing glyphs with.
func TestFontHasEveryGlyph(t *testing.T) {
	var faces []*sfnt.Font
	for _, data := range [][]byte{fonts.Common, theme.DefaultTextFont().Content()} {
		f, err := sfnt.Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		faces = append(faces, f)
	}
	if (&kioskTheme{}).Font(fyne.TextStyle{Bold: true}) != commonFontResource {
		t.Error("bold text does not use the embedded font")
	}
	var buf sfnt.Buffer
	drawn := func(r rune) bool {
		for _, f := range faces {
			if i, err := f.GlyphIndex(&buf, r); err == nil && i != 0 {
				return true
			}
		}
		return false
	}
	check := func(where, s string) {
		for _, r := range s {
			if r != ' ' && !drawn(r) {
				t.Errorf("%s: no glyph for %q (U+%04X)", where, r, r)
			}
		}
	}
	for l, m := range catalog {
		for k, s := range m {
			check(string(l)+"/"+k, s)
		}
	}
	check("PIN pad", "•—0123456789")
	check("status", "·")
	for _, s := range hallServices() {
		check("service", s.NameZH+s.NameEN+s.Code)
	}
	// The CJK itself must come from the embedded font, not the fallback.
	if i, err := faces[0].GlyphIndex(&buf, '号'); err != nil || i == 0 {
		t.Error("the embedded font has no 号")
	}
}

// The common subset draws every character the whole font draws, other than
// the ideographs it leaves out, with the same glyph outline; the
// ideographs it keeps are those fonts.InCommon knows, and it keeps every
// GB 2312 hanzi the kiosk's own strings use.
func TestCommonFontDrawsTheKiosksOwnText(t *testing.T) {
	full, err := sfnt.Parse(fonts.CJK)
	if err != nil {
		t.Fatal(err)
	}
	common, err := sfnt.Parse(fonts.Common)
	if err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	outline := func(f *sfnt.Font, r rune) (sfnt.Segments, bool) {
		i, err := f.GlyphIndex(&buf, r)
		if err != nil || i == 0 {
			return nil, false
		}
		segs, err := f.LoadGlyph(&buf, i, 1000, nil)
		if err != nil {
			t.Fatalf("U+%04X: %v", r, err)
		}
		return slices.Clone(segs), true
	}
	kept, left := 0, 0
	for r := rune(0); r <= 0x3FFFF; r++ {
		want, inFull := outline(full, r)
		if !inFull {
			continue
		}
		got, inCommon := outline(common, r)
		switch {
		case inCommon != fonts.InCommon(string(r)):
			t.Errorf("U+%04X %q: in the common font %v, fonts.InCommon says %v", r, r, inCommon, fonts.InCommon(string(r)))
		case !inCommon && !fonts.IsIdeograph(r):
			t.Errorf("U+%04X %q is not an ideograph, yet the common font lacks it", r, r)
		case inCommon && !slices.Equal(got, want):
			t.Errorf("U+%04X %q: the common font's outline differs from the whole font's", r, r)
		case inCommon:
			kept++
		default:
			left++
		}
	}
	if kept < 7000 || left < 20000 {
		t.Errorf("the common font keeps %d characters and leaves out %d", kept, left)
	}
	for l, m := range catalog {
		for k, s := range m {
			if !fonts.InCommon(s) {
				t.Errorf("%s/%s: %q has an ideograph outside the common font", l, k, s)
			}
		}
	}
}

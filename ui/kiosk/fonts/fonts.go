// Package fonts holds the CJK font the kiosk ships (Droid Sans Fallback,
// Apache-2.0, see NOTICE), as bytes only, so that tools which draw Chinese
// without the kiosk's screens — the device simulator's ticket pictures — use
// the same face without importing Fyne.
//
// It comes whole (CJK) and as a common subset (Common) that draws the same
// glyphs for every character but the rare ideographs: the screens use the
// subset and load the whole font only for a text that needs it (InCommon).
package fonts

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// CJK is DroidSansFallbackFull.ttf: Chinese, Japanese and Korean glyphs (no
// Latin; pair it with a Latin face).
//
//go:embed DroidSansFallbackFull.ttf
var CJK []byte

// Common is DroidSansFallbackCommon.ttf, CJK without the ideographs outside
// GB 2312 (whose 6,763 hanzi it keeps, with every other character of CJK):
// 13,140 glyphs of 49,382. Fyne's text shaper parses every glyph of a font
// it loads, ≈ 3.4 MB of memory for Common against ≈ 13 MB for CJK.
// scripts/subset-cjk-font.py makes it, and common-han.txt, from CJK.
//
//go:embed DroidSansFallbackCommon.ttf
var Common []byte

// commonHan lists the ideographs Common keeps, sorted by code point.
//
//go:embed common-han.txt
var commonHan string

var commonIdeographs = sync.OnceValue(func() []rune { return []rune(strings.TrimSpace(commonHan)) })

// InCommon reports whether Common draws every character of s as CJK does:
// s holds no ideograph that Common left out.
func InCommon(s string) bool {
	for _, r := range s {
		if IsIdeograph(r) {
			if _, ok := slices.BinarySearch(commonIdeographs(), r); !ok {
				return false
			}
		}
	}
	return true
}

// IsIdeograph reports whether r is a CJK ideograph: the unified ideographs
// and Extension A, the compatibility ideographs and the supplementary
// planes' extensions (the ranges scripts/subset-cjk-font.py subsets).
func IsIdeograph(r rune) bool {
	return 0x3400 <= r && r <= 0x4DBF || 0x4E00 <= r && r <= 0x9FFF ||
		0xF900 <= r && r <= 0xFAFF || 0x20000 <= r && r <= 0x3FFFF
}

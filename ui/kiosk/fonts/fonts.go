// Package fonts holds the CJK font the kiosk ships (Droid Sans Fallback,
// Apache-2.0, see NOTICE), as bytes only, so that tools which draw Chinese
// without the kiosk's screens — the device simulator's ticket pictures — use
// the same face without importing Fyne.
package fonts

import _ "embed"

// CJK is DroidSansFallbackFull.ttf: Chinese, Japanese and Korean glyphs (no
// Latin; pair it with a Latin face).
//
//go:embed DroidSansFallbackFull.ttf
var CJK []byte

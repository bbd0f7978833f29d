package province_test

// The browser every page's tests drive (hallq/internal/browsertest): real
// headless Chromium, one browser context per tab (its own cookies: one
// signed-in person), page problems failing the test, axe and screenshots.

import (
	"flag"
	"testing"

	"hallq/internal/browsertest"
)

var screenshots = flag.String("screenshots", "", "write a screenshot of each province page into this directory (e.g. ../../docs/screenshots)")

type browser struct{ *browsertest.Browser }

func mustBrowser(t *testing.T) *browser {
	t.Helper()
	return &browser{browsertest.MustBrowser(t, browsertest.Config{Width: 1366, Height: 900,
		Screenshots: *screenshots, Prefix: "province-", FullPage: true})}
}

// tab is one page, with the province pages' own steps (signing in and out).
type tab struct{ *browsertest.Tab }

func (b *browser) tab(t *testing.T, width, height int64) *tab {
	t.Helper()
	return &tab{b.MustTab(t, width, height)}
}

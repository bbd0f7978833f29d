package portal_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/platform"
	"hallq/internal/browsertest"
	"hallq/queue-server/wire"
)

// The booking pages' scripts name booking reasons, statuses and staff
// roles only through booking-codes.js, and only ones the central knows: a
// misspelt BookingReason.SlotFul is undefined in JS and fails here, and so
// does a reason, status or role spelt as a string literal, which the next
// rename would miss.
func TestBookingPagesNameOnlyKnownCodes(t *testing.T) {
	known := map[string][]string{}
	for _, g := range booking.CodeGroups {
		for _, v := range g.Values {
			known[g.Name] = append(known[g.Name], wire.JSName(v))
		}
	}
	ref := regexp.MustCompile(`\b(BookingReason|BookingStatus|StaffRole)\.([A-Za-z]+)`)
	lit := regexp.MustCompile(`'([a-z_]+)'`)
	spelt := map[string]bool{}
	for _, r := range booking.Reasons {
		spelt[string(r)] = true
	}
	for _, s := range booking.Statuses {
		spelt[s] = true
	}
	for _, r := range platform.StaffRoles {
		spelt[r] = true
	}
	uses := 0
	for _, f := range []string{"citizen.js", "book.js", "bookings.js", "home.js"} {
		b, err := os.ReadFile(filepath.Join("static/p", f))
		if err != nil {
			t.Fatal(err)
		}
		src := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(string(b), "")
		for _, m := range ref.FindAllStringSubmatch(src, -1) {
			uses++
			if !slices.Contains(known[m[1]], m[2]) {
				t.Errorf("%s: %s is not in booking-codes.js", f, m[0])
			}
		}
		for _, m := range lit.FindAllStringSubmatch(src, -1) {
			if spelt[m[1]] && m[1] != "none" {
				t.Errorf("%s: %s spells a booking code as a literal: use booking-codes.js", f, m[0])
			}
		}
	}
	if uses < 20 {
		t.Fatalf("only %d uses of booking-codes.js: the pattern is broken", uses)
	}
}

// Elderly-friendly on every booking page: the large-text and high-contrast
// switches work and are kept across pages, the language switch turns the
// page to English and back, and every control a finger presses is at
// least 48 px in both directions, in both languages, with large text on.
func TestReadingPreferencesAndBigTargets(t *testing.T) {
	w := mustBookWorld(t)
	w.book(300, "h1", "B", "passport", bkAt(t, 12, 1, 9, 0))
	b := mustBkBrowser(t)
	tb := b.tab(t, "zh", "phone")
	tb.Open(w.URL + "/?lang=zh")
	tb.see("h1", "网上预约办事")
	size := browsertest.Eval[float64](tb, `parseFloat(getComputedStyle(document.body).fontSize)`)
	tb.click("#large")
	tb.WaitFor(time.Second, `document.documentElement.classList.contains('large-text') && document.querySelector('#large').getAttribute('aria-pressed') === 'true'`)
	if big := browsertest.Eval[float64](tb, `parseFloat(getComputedStyle(document.body).fontSize)`); big < size*1.2 {
		t.Errorf("large text: %.0f px, was %.0f", big, size)
	}
	tb.click("#contrast")
	tb.WaitFor(time.Second, `document.documentElement.classList.contains('high-contrast')`)
	tb.Axe()
	tb.shot("large-contrast")
	tb.click("#lang")
	tb.see("h1", "Book a visit online")
	tb.click("#lang")
	tb.see("h1", "网上预约办事")

	small := func() []string {
		return browsertest.Eval[[]string](tb, `[...document.querySelectorAll('button, a.button, a.navlink, input, .brand')]
			.filter((e) => e.offsetParent !== null)
			.map((e) => [e, e.getBoundingClientRect()])
			.filter(([, r]) => r.width < 48 || r.height < 48)
			.map(([e, r]) => (e.id || e.className || e.tagName) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))`)
	}
	pages := []string{"/", "/book?m=passport", "/book?m=passport&step=hall", "/book?m=passport&h=h1&s=B&step=slot",
		"/book?m=passport&h=h1&s=B&d=2026-12-01&at=2026-12-01T10%3A00%3A00%2B08%3A00&step=confirm", "/bookings"}
	for _, lang := range []string{"zh", "en"} {
		for _, p := range pages {
			tb.Open(w.URL + p + sep(p) + "lang=" + lang)
			tb.WaitFor(3*time.Second, `!!document.querySelector('main h1')`)
			// the preferences were kept from the first page
			if !browsertest.Eval[bool](tb, `document.documentElement.classList.contains('large-text') && document.documentElement.classList.contains('high-contrast')`) {
				t.Errorf("%s: the reading preferences were not kept", p)
			}
			if s := small(); len(s) > 0 {
				t.Errorf("%s (%s): targets smaller than 48 px: %s", p, lang, strings.Join(s, ", "))
			}
			if lang == "en" && p == "/bookings" {
				tb.Axe()
			}
		}
	}
}

func sep(p string) string {
	if strings.Contains(p, "?") {
		return "&"
	}
	return "?"
}

package province_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hallq/central/booking"
	"hallq/central/platform"
	"hallq/queue-server/wire"
)

// The province pages' scripts name staff roles, booking reasons and
// booking statuses only through the generated booking-codes.js (the
// portal's, served at /p/), error codes only through codes.js (the hall
// pages', served at /assets/js/), and only ones that exist: a misspelt
// StaffRole.ProvinceAdmn is undefined in JS and fails here, and so does a
// role, reason or status spelt by hand — as a string ('province_admin')
// or, for a role or a reason, as an object key (province_admin: …), which
// the next rename would miss.
func TestProvincePagesNameOnlyKnownCodes(t *testing.T) {
	known := map[string][]string{}
	for _, g := range booking.CodeGroups {
		for _, v := range g.Values {
			known[g.Name] = append(known[g.Name], wire.JSName(v))
		}
	}
	for _, name := range []string{"ErrorCode", "ClientErrorCode"} {
		g, ok := wire.Group(name)
		if !ok {
			t.Fatalf("codes.js has no %s", name)
		}
		for _, v := range g.Values {
			known[name] = append(known[name], wire.JSName(v))
		}
	}
	ref := regexp.MustCompile(`\b(BookingReason|BookingStatus|StaffRole|ErrorCode|ClientErrorCode)\.([A-Za-z]+)`)
	lit := regexp.MustCompile(`'([a-z_]+)'`)
	key := regexp.MustCompile(`(?m)^\s*([a-z_]+):`)
	spelt, keyed := map[string]bool{}, map[string]bool{}
	for _, r := range booking.Reasons {
		spelt[string(r)], keyed[string(r)] = true, true
	}
	for _, s := range booking.Statuses {
		spelt[s] = true // a word list may say "booked:" (its own key); a code compared or counted is a literal
	}
	for _, r := range platform.StaffRoles {
		spelt[r], keyed[r] = true, true
	}
	for _, name := range []string{"ErrorCode", "ClientErrorCode"} {
		g, _ := wire.Group(name)
		for _, v := range g.Values {
			if v != "closed" { // also a work order's status and reason, which have no generated constants (yet)
				spelt[v] = true
			}
			// as a key only a code no word list would use ("conflict:" is a page's word for it)
			keyed[v] = keyed[v] || strings.Contains(v, "_")
		}
	}
	// Literals that are not codes though spelt like one: the hall page's
	// "served today" figure and the day report's columns (fields of the
	// hall's report, GET /api/v1/reports, not booking statuses).
	notCodes := map[string][]string{"hall.js": {"served"}, "reports.js": {"served", "cancelled"}}
	files, err := filepath.Glob("static/p/*.js")
	if err != nil || len(files) < 8 {
		t.Fatalf("the province scripts: %v %v", files, err)
	}
	uses := 0
	for _, path := range files {
		f := filepath.Base(path)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		src := regexp.MustCompile(`(?m)^\s*//.*$`).ReplaceAllString(string(b), "")
		for _, m := range ref.FindAllStringSubmatch(src, -1) {
			uses++
			if !slices.Contains(known[m[1]], m[2]) {
				t.Errorf("%s: %s is not in booking-codes.js or codes.js", f, m[0])
			}
		}
		for _, m := range lit.FindAllStringSubmatch(src, -1) {
			if spelt[m[1]] && !slices.Contains(notCodes[f], m[1]) {
				t.Errorf("%s: %s spells a code as a literal: use booking-codes.js or codes.js", f, m[0])
			}
		}
		for _, m := range key.FindAllStringSubmatch(src, -1) {
			if keyed[m[1]] {
				t.Errorf("%s: %s spells a code as a key: use [StaffRole.…], [BookingReason.…] or [ErrorCode.…]", f, strings.TrimSpace(m[0]))
			}
		}
	}
	if uses < 15 {
		t.Fatalf("only %d uses of booking-codes.js: the pattern is broken", uses)
	}
}

package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"hallq/internal/catalog"
	"hallq/internal/testclock"
	"hallq/queue-server/api"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// busyDays runs days of a hall through the engine on s — tickets called,
// served, rated, sent away as no-shows, cancelled, transferred, visits of
// one and two matters with each outcome and their ratings, repeat visits of
// the same citizens, tickets left waiting until the day ends — and leaves
// the hall on the morning after the last of them, so those days are closed.
func busyDays(t *testing.T, s *store.Store, first time.Time, days, perDay int) (*hall.Service, *testclock.Clock) {
	t.Helper()
	ctx := context.Background()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	cfg.Matters = []catalog.Matter{
		{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"A"}, Booking: catalog.BookingAllowed, Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}}}},
		{Code: "id-card", Name: catalog.Text{ZH: "身份证换领", EN: "ID card renewal"}, Services: []string{"A"}, Booking: catalog.BookingAllowed, Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}}}},
		{Code: "passport", Name: catalog.Text{ZH: "护照申领", EN: "Passport"}, Services: []string{"B"}, Booking: catalog.BookingAllowed, Materials: []catalog.Material{{Name: catalog.Text{ZH: "照片回执", EN: "Photo receipt"}}}},
	}
	clock := testclock.New(first)
	svc, err := hall.NewService(cfg, s, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	rng := rand.New(rand.NewPCG(7, uint64(days)))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	outcomes := []hall.Outcome{hall.OutcomeDone, hall.OutcomeAccepted, hall.OutcomeIncomplete, hall.OutcomeRefused}
	for d := range days {
		clock.Set(first.AddDate(0, 0, d))
		for w := 1; w <= 4; w++ {
			_, err := svc.SetWindow(ctx, hall.Op{Actor: "clerk"}, w, hall.WindowOpen, fmt.Sprint("clerk-", w%3), "")
			must("open window", err)
		}
		for i := range perDay {
			clock.Advance(time.Duration(1+rng.IntN(240)) * time.Second)
			service := []string{"A", "A", "B", "D", "E"}[rng.IntN(5)]
			key := fmt.Sprintf("%064x", i) // the same citizens come back on other days
			if service == "E" && rng.IntN(2) == 0 {
				key = "" // no card read
			}
			_, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: service, CitizenKey: key})
			must("issue", err)
			if i%3 == 2 { // some stay waiting a while, some until the day ends
				continue
			}
			w := 1 + rng.IntN(4)
			clock.Advance(time.Duration(rng.IntN(600)) * time.Second)
			tk, ok, err := svc.Call(ctx, hall.Op{}, w, "")
			if err != nil || !ok {
				continue
			}
			act := func(a hall.Action) error {
				a.Ticket = tk.ID
				_, err := svc.Act(ctx, hall.Op{}, a)
				return err
			}
			clock.Advance(time.Duration(5+rng.IntN(90)) * time.Second)
			switch r := rng.IntN(10); {
			case r == 0:
				must("no-show", act(hall.Action{Name: hall.ActNoShow}))
			case r == 1:
				must("transfer", act(hall.Action{Name: hall.ActTransfer, Service: []string{"B", "E", "D"}[rng.IntN(3)]}))
			case r == 2:
				must("cancel", act(hall.Action{Name: hall.ActCancel, Reason: "left"}))
			default:
				must("start", act(hall.Action{Name: hall.ActStart}))
				var matters []string
				if tk.Service == "A" && rng.IntN(3) > 0 {
					matters = []string{"hukou-move", "id-card"}[:1+rng.IntN(2)]
				} else if tk.Service == "B" && rng.IntN(2) == 0 {
					matters = []string{"passport"}
				}
				for _, m := range matters {
					must("add matter", act(hall.Action{Name: hall.ActAddMatter, Matter: m}))
				}
				clock.Advance(time.Duration(30+rng.IntN(900)) * time.Second)
				for _, m := range matters {
					o := outcomes[rng.IntN(len(outcomes))]
					a := hall.Action{Name: hall.ActOutcome, Matter: m, Outcome: o}
					switch o {
					case hall.OutcomeAccepted:
						a.CaseNumber = "C-1"
					case hall.OutcomeRefused:
						a.Reason = "不符合条件"
					case hall.OutcomeIncomplete:
						a.Missing = []int{0}
					}
					if err := act(a); err != nil {
						a.Missing = nil
						must("outcome", act(a))
					}
				}
				must("complete", act(hall.Action{Name: hall.ActComplete}))
				if rng.IntN(2) == 0 {
					if len(matters) == 0 {
						must("rate", act(hall.Action{Name: hall.ActRate, Score: 1 + rng.IntN(5), Reason: "等太久", Via: hall.ViaWindowPad}))
					}
					for _, m := range matters {
						must("rate matter", act(hall.Action{Name: hall.ActRate, Matter: m, Score: 1 + rng.IntN(5), Reason: "等太久", Via: hall.ViaWindowPad}))
					}
				}
			}
		}
	}
	clock.Set(first.AddDate(0, 0, days)) // the next morning: the last day ends at its first ticket
	for range 3 {
		_, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
		must("issue today", err)
	}
	return svc, clock
}

// The reports of closed days are read from the days' digests, and every
// grouping, in JSON as served, equals to the last bit what summing every
// ticket gives — with transfers, no-shows, cancellations, visits of one and
// two matters, ratings, repeat visits, tickets expired at the day's end,
// and today (no digest yet) in the range as well.
func TestReportsFromDigestsEqualReportsFromTickets(t *testing.T) {
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first := time.Date(2026, 11, 23, 8, 30, 0, 0, time.FixedZone("CST", 8*3600))
	svc, _ := busyDays(t, s, first, 4, 90)
	a := api.New(api.Options{Service: svc, Store: s})
	for d := range 4 {
		day := first.AddDate(0, 0, d).Format(time.DateOnly)
		if _, ok, err := s.DayFigures(day); err != nil || !ok {
			t.Fatalf("%s has no digest (%v): the day ended", day, err)
		}
	}
	today := first.AddDate(0, 0, 4).Format(time.DateOnly)
	if _, ok, _ := s.DayFigures(today); ok {
		t.Fatal("today has a digest before it ended")
	}
	ranges := [][2]string{{first.Format(time.DateOnly), today}, {first.AddDate(0, 0, 1).Format(time.DateOnly), first.AddDate(0, 0, 2).Format(time.DateOnly)}}
	for _, r := range ranges {
		for _, by := range []string{"service", "window", "clerk", "hour", "day", "matter"} {
			report := func(tickets bool) string {
				api.ReportsFromTickets(tickets)
				defer api.ReportsFromTickets(false)
				rows, err := a.Report(r[0], r[1], by)
				if err != nil {
					t.Fatalf("%s..%s by %s: %v", r[0], r[1], by, err)
				}
				b, _ := json.Marshal(rows)
				return string(b)
			}
			if got, want := report(false), report(true); got != want {
				t.Errorf("%s..%s by %s from the digests:\n%s\nfrom the tickets:\n%s", r[0], r[1], by, got, want)
			}
		}
	}
	// the figures are not empty: the comparison compares something
	rows, _ := a.Report(ranges[0][0], ranges[0][1], "matter")
	var seen struct{ issued, rated, noShow, transferred, repeats int }
	for _, r := range rows {
		seen.issued += r.Issued
		seen.rated += r.Ratings
		if r.OneVisit != nil {
			seen.repeats += r.OneVisit.Repeats
		}
	}
	rows, _ = a.Report(ranges[0][0], ranges[0][1], "day")
	for _, r := range rows {
		seen.noShow += r.NoShow
		seen.transferred += r.Transferred
	}
	if seen.issued == 0 || seen.rated == 0 || seen.noShow == 0 || seen.transferred == 0 || seen.repeats == 0 {
		t.Fatalf("the seeded days lack something to compare: %+v", seen)
	}
}

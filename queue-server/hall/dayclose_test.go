package hall

import (
	"testing"
	"time"
)

// A manager's day close says beforehand what it will do, then does exactly
// that, and nothing more is issued into the closed day — not after a
// restart either; at midnight the next day issues again.
func TestDayCloseEarlyPreviewsAndStopsIssuing(t *testing.T) {
	for _, carry := range []bool{false, true} {
		t.Run(map[bool]string{false: "expire", true: "carry_over"}[carry], func(t *testing.T) {
			f := MustHall(t, func(c *Config) { c.Rules.CarryOver = carry })
			f.issue("A")
			f.issue("A")
			f.issue("E")
			f.open(1)
			called := f.call(1) // A001 called
			if !carry {
				f.clock.Advance(time.Minute)
			}
			p, err := f.svc.DayClosePreview(f.ctx)
			if err != nil {
				t.Fatal(err)
			}
			wantExpire, wantCarry := 3, 0
			if carry {
				wantExpire, wantCarry = 1, 2
			}
			if p.Closed || p.Expire != wantExpire || p.Carry != wantCarry || p.ByStatus[Called] != 1 || p.OpenWindow != 1 || p.CarryOver != carry {
				t.Fatalf("preview = %+v, want expire %d, carry %d, 1 called, 1 open window", p, wantExpire, wantCarry)
			}
			if err := f.svc.CloseDay(f.ctx, Op{Actor: "zhang"}); err != nil {
				t.Fatal(err)
			}
			expired, waiting := 0, 0
			ts, _ := f.svc.Tickets(f.ctx, nil)
			for _, tk := range ts {
				switch tk.Status {
				case Expired:
					expired++
				case Waiting:
					waiting++
				}
			}
			if expired != p.Expire || waiting != p.Carry {
				t.Fatalf("after close: %d expired, %d waiting; the preview said %d and %d", expired, waiting, p.Expire, p.Carry)
			}
			if got, _ := f.svc.Ticket(f.ctx, called.ID); got.Status != Expired {
				t.Fatalf("called ticket after close is %s", got.Status)
			}
			refused := func(when string) {
				t.Helper()
				_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "E"})
				wantCode(t, err, Closed, "day_closed")
				_, err = f.svc.Lease(f.ctx, Op{}, "kiosk-1", "E", 5)
				wantCode(t, err, Closed, "day_closed")
				_, err = f.svc.CheckIn(f.ctx, Op{}, CheckIn{Booking: "b1"})
				wantCode(t, err, Closed, "day_closed")
				svcs, _ := f.svc.Services(f.ctx)
				if svcs[0].Issuing || svcs[0].NotIssuing != "day_closed" {
					t.Fatalf("%s: service view says issuing=%v (%q)", when, svcs[0].Issuing, svcs[0].NotIssuing)
				}
				err = f.svc.CloseDay(f.ctx, Op{})
				wantCode(t, err, Conflict, "day_already_closed")
			}
			refused("after close")
			if p, _ := f.svc.DayClosePreview(f.ctx); !p.Closed {
				t.Fatal("preview after close does not say closed")
			}
			f.restart()
			refused("after a restart")

			f.clock.Set(at(9, 0).Add(24 * time.Hour)) // the next morning
			next := f.issue("E")
			want := "E001"
			if carry {
				want = "E002" // E001 is the carried ticket's new number
			}
			if next.Number != want {
				t.Fatalf("first ticket of the next day is %s, want %s", next.Number, want)
			}
			closes := 0
			for _, ev := range f.j.all() {
				if ev.Type == EvDayClosed {
					closes++
				}
			}
			if closes != 1 {
				t.Fatalf("%d day.closed events for one day, want 1", closes)
			}
		})
	}
}

package hall

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// What a kiosk needs from the hall's rules comes from the server: which
// services take an expired card, which windows serve a service, and the
// elderly age.
func TestKioskRulesInTheOverview(t *testing.T) {
	f := MustHall(t, func(c *Config) { c.Rules.ElderlyAge = 65 })
	o, err := f.svc.Overview(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o.ElderlyAge != 65 {
		t.Errorf("overview elderly_age %d, want the rule's 65", o.ElderlyAge)
	}
	want := map[string]struct {
		expired bool
		windows []int
	}{"A": {true, []int{1, 2, 3, 7}}, "B": {true, []int{3, 4, 8}}, "C": {false, []int{5, 6, 8}}, "D": {false, []int{2, 6, 7}}, "E": {false, []int{1, 8}}}
	for _, s := range o.Services {
		w := want[s.Code]
		if s.Hours == nil || s.Hours.Open != "08:30" {
			t.Errorf("service %s: hours %+v", s.Code, s.Hours)
		}
		if s.AcceptExpired != w.expired || !slices.Equal(s.Windows, w.windows) {
			t.Errorf("service %s: accept_expired_id %v windows %v, want %v %v", s.Code, s.AcceptExpired, s.Windows, w.expired, w.windows)
		}
	}
}

// One elderly rule for online and offline tickets.
func TestChannelFor(t *testing.T) {
	for _, tc := range []struct {
		c    Channel
		a    AgeClass
		want Channel
	}{
		{WalkIn, AgeElderly, Priority}, {WalkIn, AgeAdult, WalkIn}, {WalkIn, AgeUnknown, WalkIn},
		{Remote, AgeElderly, Remote}, {BookingChannel, AgeElderly, BookingChannel}, {Priority, AgeAdult, Priority},
	} {
		if got := ChannelFor(tc.c, tc.a); got != tc.want {
			t.Errorf("ChannelFor(%s, %s) = %s, want %s", tc.c, tc.a, got, tc.want)
		}
	}
}

// Refusals carry what the citizen needs next: the tickets already held
// (to reprint), the slot and when check-in opens, today's hours.
func TestRefusalDetails(t *testing.T) {
	f := MustHall(t, nil)
	key := fmt.Sprintf("%064x", 7)
	a1 := f.issue("A", func(r *IssueRequest) { r.CitizenKey = key })
	a2 := f.issue("A", func(r *IssueRequest) { r.CitizenKey = key }) // the same instant: by number
	f.issue("A")                                                     // someone else's
	_, err := f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "A", CitizenKey: key})
	wantCode(t, err, QuotaExceeded, "citizen_limit")
	if d := ErrorDetails(err); d == nil || !slices.Equal(d.Tickets, []string{a1.ID, a2.ID}) {
		t.Fatalf("citizen_limit details %+v, want tickets %s %s", d, a1.ID, a2.ID)
	}

	slot := at(10, 0)
	if _, err := f.svc.UpsertBooking(f.ctx, Op{Actor: "central"}, Booking{ID: "bk-1", CitizenKey: key, Service: "B", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CheckIn(f.ctx, Op{}, CheckIn{CitizenKey: key}) // 9:01, the window opens at 9:30
	wantCode(t, err, Conflict, "outside_checkin_window")
	if d := ErrorDetails(err); d == nil || !d.SlotStart.Equal(slot) || !d.CheckInFrom.Equal(at(9, 30)) || !d.CheckInUntil.Equal(at(10, 15)) {
		t.Fatalf("outside window details %+v", d)
	}
	f.clock.Set(at(9, 45))
	tk, err := f.svc.CheckIn(f.ctx, Op{}, CheckIn{Booking: "bk-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.SlotStart.Equal(slot) {
		t.Errorf("checked-in ticket's slot %v, want %v", tk.SlotStart, slot)
	}
	_, err = f.svc.CheckIn(f.ctx, Op{}, CheckIn{CitizenKey: key})
	wantCode(t, err, Conflict, "already_checked_in")
	if d := ErrorDetails(err); d == nil || !slices.Equal(d.Tickets, []string{tk.ID}) {
		t.Fatalf("already checked in details %+v, want ticket %s", d, tk.ID)
	}

	f.clock.Set(at(12, 30))
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "B", CitizenKey: key})
	wantCode(t, err, Closed, "lunch")
	if d := ErrorDetails(err); d == nil || d.Hours == nil || d.Hours.Open != "08:30" || d.Hours.LunchStart != "12:00" || d.Hours.Close != "17:30" {
		t.Fatalf("closed details %+v", d)
	}
	if ErrorDetails(errors.New("plain")) != nil {
		t.Fatal("details of a foreign error")
	}
}

// Lease numbering: online numbers start at 001 whatever the kiosks hold;
// leases come from the top downwards, each below the last; online numbers
// stop below the lowest lease; the whole range is never used twice.
func TestLeaseNumberingKeepsOnlineFrom001(t *testing.T) {
	f := MustHall(t, nil)
	l1, err := f.svc.Lease(f.ctx, Op{}, "kiosk-1", "E", 100)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := f.svc.Lease(f.ctx, Op{}, "kiosk-2", "E", 100)
	if err != nil {
		t.Fatal(err)
	}
	if l1.From != 900 || l1.To != 999 || l2.From != 800 || l2.To != 899 {
		t.Fatalf("leases %d–%d and %d–%d, want 900–999 and 800–899", l1.From, l1.To, l2.From, l2.To)
	}
	f.clock.Set(at(9, 30)) // the online citizens come after the kiosks got their leases
	if tk := f.issue("E", func(r *IssueRequest) { r.CitizenKey = "" }); tk.Number != "E001" {
		t.Fatalf("the first citizen of the day got %s", tk.Number)
	}
	f.restart() // the scheme survives a restart (derived from the journal)
	for i := 2; i <= 750; i++ {
		f.issue("E", func(r *IssueRequest) { r.CitizenKey = "" })
	}
	l3, err := f.svc.Lease(f.ctx, Op{}, "kiosk-3", "E", 100)
	if err != nil || l3.From != 751 || l3.To != 799 {
		t.Fatalf("a lease meeting the online numbers: %v %+v, want 751–799", err, l3)
	}
	_, err = f.svc.Issue(f.ctx, Op{}, IssueRequest{Service: "E"})
	wantCode(t, err, QuotaExceeded, "numbers_exhausted")
	_, err = f.svc.Lease(f.ctx, Op{}, "kiosk-4", "E", 5)
	wantCode(t, err, QuotaExceeded, "numbers_exhausted")
	// offline tickets queue by the time they were issued, not by number (a
	// time after the lease was granted: an earlier one would be backdated)
	off, err := f.svc.HandOver(f.ctx, Op{}, "kiosk-1", OfflineTicket{Lease: l1.ID, Number: 999, IssuedAt: at(9, 10), ID: "offline-ticket-0999"})
	if err != nil || off.Number != "E999" || off.Position != 0 || off.ClockFlag != "" {
		t.Fatalf("offline ticket issued first: %v %+v", err, off)
	}
}

package hall

import (
	"fmt"
	"testing"
	"time"
)

// TestOfflineTimeBoundedByLeaseAndKioskClock: an offline ticket is queued
// by the time the kiosk claims, corrected by the kiosk's clock offset at
// hand-over, and only between its lease's grant and the hand-over; a
// backdated (or future) claim is queued at the hand-over and flagged.
func TestOfflineTimeBoundedByLeaseAndKioskClock(t *testing.T) {
	f := MustHall(t, nil)
	f.clock.Set(at(9, 0))
	l, err := f.svc.Lease(f.ctx, Op{}, "kiosk-1", "E", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Granted.Equal(at(9, 0)) {
		t.Fatalf("lease granted %v, want 09:00", l.Granted)
	}
	f.clock.Set(at(10, 0))
	hand := func(n int, issued, kioskClock time.Time) TicketView {
		t.Helper()
		tv, err := f.svc.HandOver(f.ctx, Op{}, "kiosk-1", OfflineTicket{Lease: l.ID, Number: l.From + n, IssuedAt: issued, KioskClock: kioskClock, ID: fmt.Sprintf("offline-ticket-%04d", n)})
		if err != nil {
			t.Fatal(err)
		}
		return tv
	}
	// in the window, kiosk clock right
	if tv := hand(0, at(9, 30), at(10, 0)); !tv.IssuedAt.Equal(at(9, 30)) || tv.ClockFlag != "" {
		t.Errorf("honest ticket: issued %v flag %q", tv.IssuedAt, tv.ClockFlag)
	}
	// the kiosk's clock is 5 minutes slow: 09:40 on it was 09:45
	if tv := hand(1, at(9, 40), at(9, 55)); !tv.IssuedAt.Equal(at(9, 45)) || tv.ClockFlag != "" {
		t.Errorf("slow kiosk clock: issued %v flag %q, want 09:45 unflagged", tv.IssuedAt, tv.ClockFlag)
	}
	// backdated before the lease was granted: queued now, flagged
	if tv := hand(2, at(8, 1), at(10, 0)); !tv.IssuedAt.Equal(at(10, 0)) || tv.ClockFlag != OffTimeBeforeLease {
		t.Errorf("backdated ticket: issued %v flag %q", tv.IssuedAt, tv.ClockFlag)
	}
	// a kiosk clock that claims the ticket was issued after its hand-over
	if tv := hand(3, at(10, 30), at(10, 0)); !tv.IssuedAt.Equal(at(10, 0)) || tv.ClockFlag != OffTimeFuture {
		t.Errorf("future ticket: issued %v flag %q", tv.IssuedAt, tv.ClockFlag)
	}
	// lying about its clock does not help either: the result is still bounded
	if tv := hand(4, at(9, 30), at(12, 0)); tv.IssuedAt.Before(at(9, 0)) || tv.ClockFlag != OffTimeBeforeLease {
		t.Errorf("lying kiosk clock: issued %v flag %q", tv.IssuedAt, tv.ClockFlag)
	}
}

// TestLeaseChurnIsBounded: one kiosk releasing leases again and again
// cannot use up a service's numbers for the day; other kiosks still lease.
func TestLeaseChurnIsBounded(t *testing.T) {
	f := MustHall(t, nil)
	burned := 0
	for i := 0; ; i++ {
		l, err := f.svc.Lease(f.ctx, Op{}, "kiosk-1", "E", 100)
		if err != nil {
			wantCode(t, err, QuotaExceeded, "lease_churn")
			break
		}
		if i > 10 {
			t.Fatal("lease/release churn is not bounded")
		}
		if _, err := f.svc.ReleaseLease(f.ctx, Op{}, "kiosk-1", l.ID); err != nil {
			t.Fatal(err)
		}
		burned += l.To - l.From + 1
	}
	if burned > MaxBurnedNumbers+100 {
		t.Errorf("%d numbers burned, want at most %d", burned, MaxBurnedNumbers+100)
	}
	if _, err := f.svc.Lease(f.ctx, Op{}, "kiosk-2", "E", 10); err != nil {
		t.Errorf("another kiosk cannot lease: %v", err)
	}
	if tv := f.issue("E"); tv.Number == "" {
		t.Error("no online ticket after the churn")
	}
}

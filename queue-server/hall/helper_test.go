package hall

import (
	"testing"
	"time"
)

func TestHelperCallsAreAcknowledgedAndRateLimited(t *testing.T) {
	f := MustHall(t, nil)
	tk := f.issue("A")
	k, err := f.svc.CallHelper(f.ctx, Op{Actor: "kiosk-1"}, HelpRequest{Kiosk: "kiosk-1"})
	if err != nil || k.Kiosk != "kiosk-1" || !k.Open() {
		t.Fatalf("kiosk call: %+v, %v", k, err)
	}
	n := len(f.j.all())
	again, err := f.svc.CallHelper(f.ctx, Op{Actor: "kiosk-1"}, HelpRequest{Kiosk: "kiosk-1"})
	if err != nil || again.ID != k.ID || len(f.j.all()) != n {
		t.Fatalf("pressed again: %+v, %v, %d new events", again, err, len(f.j.all())-n)
	}
	p, err := f.svc.CallHelper(f.ctx, Op{Actor: "phone"}, HelpRequest{Ticket: tk.ID})
	if err != nil || p.Number != tk.Number || p.ID == k.ID {
		t.Fatalf("phone call: %+v, %v", p, err)
	}
	if ev := f.j.all(); ev[len(ev)-1].Type != EvHelpCalled || ev[len(ev)-1].Help.ID != p.ID {
		t.Errorf("last event %+v", ev[len(ev)-1])
	}
	f.clock.Advance(time.Minute)
	acked, err := f.svc.AckHelp(f.ctx, Op{Actor: "manager-zhang"}, k.ID)
	if err != nil || acked.AckBy != "manager-zhang" || !acked.AckAt.Equal(f.clock.Now()) || acked.Open() {
		t.Fatalf("ack: %+v, %v", acked, err)
	}
	_, err = f.svc.AckHelp(f.ctx, Op{Actor: "manager-li"}, k.ID)
	wantCode(t, err, Conflict, string(ReasonAlreadyAcknowledged))
	_, err = f.svc.AckHelp(f.ctx, Op{Actor: "manager-li"}, "nosuch")
	wantCode(t, err, NotFound, "")
	// a new call from the kiosk only after the cool-down
	_, err = f.svc.CallHelper(f.ctx, Op{Actor: "kiosk-1"}, HelpRequest{Kiosk: "kiosk-1"})
	wantCode(t, err, QuotaExceeded, string(ReasonTooManyRequests))
	f.clock.Advance(HelpCooldown)
	if k2, err := f.svc.CallHelper(f.ctx, Op{Actor: "kiosk-1"}, HelpRequest{Kiosk: "kiosk-1"}); err != nil || k2.ID == k.ID {
		t.Fatalf("after the cool-down: %+v, %v", k2, err)
	}
	// open calls first, oldest first; they survive a restart
	f.restart()
	list, err := f.svc.HelpCalls(f.ctx)
	if err != nil || len(list) != 3 || list[0].ID != p.ID || !list[1].Open() || list[2].ID != k.ID || list[2].AckBy != "manager-zhang" {
		t.Fatalf("calls after restart: %+v, %v", list, err)
	}
	// bad requests
	_, err = f.svc.CallHelper(f.ctx, Op{}, HelpRequest{})
	wantCode(t, err, Invalid, "")
	_, err = f.svc.CallHelper(f.ctx, Op{}, HelpRequest{Kiosk: "k", Ticket: tk.ID})
	wantCode(t, err, Invalid, "")
	_, err = f.svc.CallHelper(f.ctx, Op{}, HelpRequest{Ticket: "nosuch"})
	wantCode(t, err, NotFound, "")
	f.mustAct(ActCancel, tk.ID)
	tk2 := f.issue("B")
	f.mustAct(ActCancel, tk2.ID)
	_, err = f.svc.CallHelper(f.ctx, Op{}, HelpRequest{Ticket: tk2.ID})
	wantCode(t, err, Conflict, string(ReasonIllegalTransition))
}

func TestOpenHelperCallsAreBounded(t *testing.T) {
	f := MustHall(t, nil)
	for i := range MaxOpenHelpCalls {
		if _, err := f.svc.CallHelper(f.ctx, Op{}, HelpRequest{Kiosk: string(rune('a'+i%26)) + string(rune('a'+i/26))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.svc.CallHelper(f.ctx, Op{}, HelpRequest{Kiosk: "one more"})
	wantCode(t, err, QuotaExceeded, string(ReasonTooManyRequests))
}

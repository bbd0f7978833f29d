package halltest

import (
	"context"
	"strings"
	"testing"
	"time"

	"hallq/internal/testclock"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// A test hall runs on its fake clock in the hall's zone, takes a ticket
// from a kiosk client, and keeps it across a restart on the same address.
func TestRunHall(t *testing.T) {
	h := RunHall(t, Options{})
	if got := h.Clock.Now(); !got.Equal(testclock.At(10, 0)) {
		t.Fatalf("clock at %v", got)
	}
	ctx := context.Background()
	kiosk := h.As(wire.RoleKiosk, "kiosk-1", 0)
	tk, err := kiosk.Issue(ctx, "k1", hall.IssueRequest{Service: "A", CitizenKey: strings.Repeat("1", 64), MaskedID: "4201**********1234"})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.IssuedAt.Equal(testclock.At(10, 0)) {
		t.Fatalf("issued at %v, want the fake clock's time", tk.IssuedAt)
	}
	h.Clock.Advance(time.Minute)
	addr := h.Addr
	h.Restart()
	if h.Addr != addr {
		t.Fatalf("restarted on %s, want %s", h.Addr, addr)
	}
	got, err := h.Admin.Ticket(ctx, tk.ID)
	if err != nil || got.Number != tk.Number {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	// stopped, the hall does not answer; started, it answers on the same
	// address with the same data
	h.Stop()
	if _, err := h.Admin.Ticket(ctx, tk.ID); err == nil {
		t.Fatal("a stopped hall answered")
	}
	h.Start()
	if got, err := h.Admin.Ticket(ctx, tk.ID); err != nil || got.Number != tk.Number || h.Addr != addr {
		t.Fatalf("after stop and start on %s: %+v, %v", h.Addr, got, err)
	}
}

package server

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// docs/protocol.md: services frames come after changes, at most one a
// second, and the figures a kiosk shows catch up with the last change. A
// rush of tickets for three seconds gets no more frames than the seconds
// allow (counting only ever errs low on a slow machine: a frame cannot be
// received before it is sent, and the server waits a second between two),
// and the last frame shows every ticket waiting.
func TestServicesFramesAtMostOneASecondAndCurrent(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	var mu sync.Mutex
	var frames []int    // E's waiting count in each services frame
	start := time.Now() // before the connection: no frame before it reaches it
	cn, err := h.as(wire.RoleKiosk, 0).Dial(ctx, 0, func(f wire.Frame) {
		if f.Type != wire.FrameServices {
			return
		}
		for _, s := range f.Services {
			if s.Code == "E" {
				mu.Lock()
				frames = append(frames, s.Waiting)
				mu.Unlock()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cn.Close()
	// a rush as a busy hall has it, 40 tickets a second for three seconds
	// (as fast as the machine goes would run out of the day's numbers on
	// a quiet one)
	issued := 0
	pace := time.NewTicker(25 * time.Millisecond)
	defer pace.Stop()
	for ; time.Since(start) < 3*time.Second; <-pace.C {
		if _, err := cn.Request(ctx, "tickets.issue", nil, fmt.Sprint("rush-", issued), hall.IssueRequest{Service: "E"}, nil); err != nil {
			t.Fatal(err)
		}
		issued++
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		n, last := len(frames), -1
		if n > 0 {
			last = frames[n-1]
		}
		mu.Unlock()
		if last == issued {
			// frames sent since start: at most one at once and one per
			// whole second after it
			if most := int(time.Since(start)/time.Second) + 1; n > most {
				t.Fatalf("%d services frames in %s of changes (%d tickets): more than one a second (at most %d)", n, time.Since(start).Round(time.Millisecond), issued, most)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d tickets the kiosk's last services frame shows %d waiting (%d frames)", issued, last, n)
		}
	}
}

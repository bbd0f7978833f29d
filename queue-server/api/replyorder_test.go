package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// A connection's replies go out in the order of its requests while events
// are queued for it at the same time (a manager's socket follows every
// event while four issuers make them).
func TestWebsocketRepliesInOrderWhileEventsFlow(t *testing.T) {
	h := mustContractHall(t)
	ctx := context.Background()
	mgr := h.as(wire.RoleManager, "manager-1", 0)
	ws, _ := wsRaw(t, h, mgr.Token)
	// At most window requests unanswered and issuers tickets in all: the
	// socket's queue (128 frames) never fills however slowly this test
	// reads, so the server has no cause to drop it as a slow client.
	const n, window, issuers, each = 1500, 16, 4, 25
	issued := make(chan error, issuers)
	for g := range issuers { // events for the manager's socket, while its requests run
		go func() {
			for i := range each {
				if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
					issued <- fmt.Errorf("issuer %d, issue %d: %w", g, i, err)
					return
				}
			}
			issued <- nil
		}()
	}
	unanswered := make(chan struct{}, window)
	sent := make(chan error, 1)
	go func() {
		for i := range n {
			unanswered <- struct{}{}
			f := wire.Frame{Type: wire.FrameRequest, ID: strconv.Itoa(i), Op: "me"}
			if i%10 == 0 {
				f.Op = "services.list"
			}
			ws.SetWriteDeadline(time.Now().Add(time.Minute))
			if err := ws.WriteJSON(f); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	next, events := 0, 0
	for next < n {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d replies: %v", next, err)
		}
		var f struct{ Type, ID string }
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatal(err)
		}
		switch f.Type {
		case wire.FrameEvent:
			events++
		case wire.FrameReply:
			if f.ID != strconv.Itoa(next) {
				t.Fatalf("reply %s where %d was due (frame %.80s)", f.ID, next, raw)
			}
			next++
			<-unanswered
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	for range issuers {
		if err := <-issued; err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d replies in order, %d events among them", n, events)
}

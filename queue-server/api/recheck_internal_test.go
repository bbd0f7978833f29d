package api

import (
	"testing"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// A websocket's requests re-check its token without hashing and looking it
// up again while no token was written; a revoke (even one written straight
// to the store) and an expiry still refuse the very next request.
func TestRecheckRefusesTheNextRequestAfterARevokeOrExpiry(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := &stepClock{t: time.Now().In(time.FixedZone("CST", 8*3600))}
	a := &API{store: st, now: clk.now}

	kiosk, err := NewToken(st, "kiosk-1", wire.RoleKiosk, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{token: kiosk.Token}
	for i := range 3 {
		if err := a.recheck(c); err != nil {
			t.Fatalf("request %d with a valid token: %v", i+1, err)
		}
	}
	other, err := NewToken(st, "kiosk-2", wire.RoleKiosk, 0, 0) // another token's write
	if err != nil {
		t.Fatal(err)
	}
	if err := a.recheck(c); err != nil {
		t.Fatalf("after another token was created: %v", err)
	}
	if err := st.RevokeToken(other.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.recheck(c); err != nil {
		t.Fatalf("after another token was revoked: %v", err)
	}
	if err := st.RevokeToken(kiosk.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := a.recheck(c); hall.ErrorCode(err) != hall.Unauthorized {
			t.Fatalf("request %d after the revoke: %v", i+1, err)
		}
	}

	session, err := NewToken(st, "clerk-wang", wire.RoleClerk, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := &client{token: session.Token}
	if err := a.recheck(s); err != nil {
		t.Fatal(err)
	}
	clk.advance(59 * time.Minute)
	if err := a.recheck(s); err != nil {
		t.Fatalf("a minute before the session expires: %v", err)
	}
	clk.advance(2 * time.Minute)
	if err := a.recheck(s); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("after the session expired: %v", err)
	}
}

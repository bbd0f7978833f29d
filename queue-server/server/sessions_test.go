package server

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"hallq/queue-server/api"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// waitClosed waits for a websocket the server must close (a hang, not a
// slow machine, if it never does).
func waitClosed(t *testing.T, cn *client.Conn, what string) {
	t.Helper()
	select {
	case <-cn.Done():
	case <-time.After(time.Minute):
		t.Fatalf("%s: the websocket is still open", what)
	}
}

// A revoked admin token with an open websocket can no longer mint tokens,
// and its socket is closed; a revoked clerk's socket stops receiving
// events (masked IDs stop flowing) and its requests are refused.
func TestRevokedTokenStopsOnOpenWebsocket(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()

	admin2, err := h.admin.CreateToken(ctx, wire.TokenRequest{Name: "second-admin", Role: wire.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := client.New(h.URL, admin2.Token).Dial(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ac.Request(ctx, "tokens.create", nil, "", wire.TokenRequest{Name: "k1", Role: wire.RoleKiosk}, nil); err != nil {
		t.Fatalf("before the revoke: %v", err)
	}

	clerkTok, err := h.admin.CreateToken(ctx, wire.TokenRequest{Name: "clerk-1", Role: wire.RoleClerk, Window: 1})
	if err != nil {
		t.Fatal(err)
	}
	masked := make(chan string, 100)
	synced := make(chan struct{}, 1)
	cc, err := client.New(h.URL, clerkTok.Token).Dial(ctx, 0, func(f wire.Frame) {
		if f.Type == wire.FrameResync {
			synced <- struct{}{}
		}
		if f.Type == wire.FrameEvent && f.Event.Ticket != nil {
			masked <- f.Event.Ticket.MaskedID
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A hello from seq 0 is answered by a resync (an overview) after the
	// welcome; a ticket issued before it is built would be in the overview,
	// not an event (seen as a hang at the wait below under load): the
	// ticket is issued once the clerk is in sync.
	select {
	case <-synced:
	case <-time.After(30 * time.Second):
		t.Fatal("the clerk's socket got no resync after its welcome")
	}
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E", MaskedID: "4201**********0001"}); err != nil {
		t.Fatal(err)
	}
	if m := <-masked; m != "4201**********0001" {
		t.Fatalf("the clerk saw %q before the revoke", m)
	}

	for _, id := range []string{admin2.ID, clerkTok.ID} {
		if _, err := h.admin.Do(ctx, "DELETE", "/api/v1/tokens/"+id, "", nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitClosed(t, ac, "the revoked admin's")
	waitClosed(t, cc, "the revoked clerk's")
	if _, err := ac.Request(ctx, "tokens.create", nil, "", wire.TokenRequest{Name: "k2", Role: wire.RoleKiosk}, nil); err == nil {
		t.Fatal("the revoked admin's socket minted a token")
	}
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E", MaskedID: "4201**********0002"}); err != nil {
		t.Fatal(err)
	}
	for _, tk := range tokens(t, h) {
		if tk.Name == "k2" {
			t.Fatal("a token was created after the revoke")
		}
	}
	select {
	case m := <-masked:
		t.Fatalf("the revoked clerk still received %q", m)
	default:
	}
	if _, err := client.New(h.URL, admin2.Token).Dial(ctx, 0, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("a new hello with the revoked token: %v", err)
	}
}

// A request on an open socket is checked against the token as it is now:
// a token revoked in the store (by another server process or a restore,
// without this hub hearing of it) is refused at its next request.
func TestEveryWebsocketRequestChecksTheToken(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	tk, err := h.admin.CreateToken(ctx, wire.TokenRequest{Name: "m", Role: wire.RoleManager})
	if err != nil {
		t.Fatal(err)
	}
	cn, err := client.New(h.URL, tk.Token).Dial(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Store.RevokeToken(tk.ID); err != nil { // behind the API's back
		t.Fatal(err)
	}
	if _, err := cn.Request(ctx, "tokens.list", nil, "", nil, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("a request after the token was revoked in the store: %v", err)
	}
	waitClosed(t, cn, "after the refused request,")
}

// A session (a token with an expiry) closes its websocket when it expires.
func TestExpiredTokenClosesItsWebsocket(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	// a session short enough to watch expire; on a machine so busy that
	// it expires before the hello is answered, a longer one
	var tk wire.TokenCreated
	var cn *client.Conn
	for _, ttl := range []string{"1s", "5s", "30s"} {
		var err error
		if tk, err = h.admin.CreateToken(ctx, wire.TokenRequest{Name: "short", Role: wire.RoleDisplay, TTL: ttl}); err != nil {
			t.Fatal(err)
		}
		if cn, err = client.New(h.URL, tk.Token).Dial(ctx, 0, nil); err == nil {
			break
		} else if hall.ErrorCode(err) != hall.Unauthorized {
			t.Fatal(err)
		}
	}
	if cn == nil {
		t.Fatal("no session lived long enough for its hello")
	}
	waitClosed(t, cn, "after the session expired,")
	if _, err := client.New(h.URL, tk.Token).Dial(ctx, 0, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("a hello with the expired token: %v", err)
	}
}

// docs/protocol.md: managers handle clerk, kiosk and display credentials
// only — they cannot revoke an admin's or another manager's token, nor
// replace an admin's password account (by creating one of the same name).
func TestManagerCannotTouchAdminCredentials(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	mgr := h.as(wire.RoleManager, 0)
	mgr.HTTP.Timeout, h.admin.HTTP.Timeout = 0, 0 // accounts are bcrypt-hashed: seconds each under -race on a busy machine
	other, _ := h.admin.CreateToken(ctx, wire.TokenRequest{Name: "other-manager", Role: wire.RoleManager})
	kiosk, _ := h.admin.CreateToken(ctx, wire.TokenRequest{Name: "k", Role: wire.RoleKiosk})
	var adminID string
	for _, tk := range tokens(t, h) {
		if tk.Role == wire.RoleAdmin {
			adminID = tk.ID
		}
	}
	for _, id := range []string{adminID, other.ID} {
		if _, err := mgr.Do(ctx, "DELETE", "/api/v1/tokens/"+id, "", nil, nil); hall.ErrorCode(err) != hall.Forbidden {
			t.Fatalf("a manager revoking token %s: %v", id, err)
		}
	}
	if _, err := h.admin.Me(ctx); err != nil {
		t.Fatalf("the admin token after the manager's attempt: %v", err)
	}
	if _, err := mgr.Do(ctx, "DELETE", "/api/v1/tokens/"+kiosk.ID, "", nil, nil); err != nil {
		t.Fatalf("a manager revoking a kiosk token: %v", err)
	}

	if _, err := h.admin.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "boss", Password: "admin-pass-1", Role: wire.RoleAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "boss", Password: "taken-over", Role: wire.RoleClerk, Window: 1}, nil); hall.ErrorCode(err) != hall.Forbidden {
		t.Fatalf("a manager replacing an admin's account: %v", err)
	}
	var login map[string]any
	anon := client.New(h.URL, "")
	anon.HTTP.Timeout = 0 // a bcrypt check under -race on a busy machine takes seconds
	if _, err := anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "boss", Password: "admin-pass-1"}, &login); err != nil || login["role"] != wire.RoleAdmin {
		t.Fatalf("the admin's account after the attempt: %v %v", err, login)
	}
	// a clerk's account a manager may reset
	for _, pw := range []string{"clerk-pass-1", "clerk-pass-2"} {
		if _, err := mgr.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "wang", Password: pw, Role: wire.RoleClerk, Window: 1}, nil); err != nil {
			t.Fatalf("a manager setting a clerk's account: %v", err)
		}
	}
}

// A clerk who transferred a ticket to another window no longer controls
// it: the clerk at the new window does.
func TestClerkLosesTicketAfterTransfer(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	c1, c8 := h.as(wire.RoleClerk, 1), h.as(wire.RoleClerk, 8)
	tk, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	for w, c := range map[int]*client.Client{1: c1, 8: c8} {
		if _, err := c.SetWindow(ctx, w, "open", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := c1.Call(ctx, "", 1, ""); err != nil || !ok {
		t.Fatalf("call at window 1: %v %v", ok, err)
	}
	if _, err := c1.Act(ctx, "", tk.ID, hall.ActTransfer, &hall.Action{Service: "E", Window: 8}); err != nil {
		t.Fatal(err)
	}
	for _, act := range []string{hall.ActCancel, hall.ActTransfer, hall.ActPark} {
		a := &hall.Action{}
		if act == hall.ActTransfer {
			a.Service = "E"
		}
		if _, err := c1.Act(ctx, "", tk.ID, act, a); hall.ErrorReason(err) != "not_your_window" {
			t.Fatalf("window 1's clerk %s the transferred ticket: %v", act, err)
		}
	}
	if got, ok, err := c8.Call(ctx, "", 8, ""); err != nil || !ok || got.ID != tk.ID {
		t.Fatalf("call at window 8: %v %v %+v", ok, err, got)
	}
	if _, err := c8.Act(ctx, "", tk.ID, hall.ActStart, nil); err != nil {
		t.Fatalf("window 8's clerk starts it: %v", err)
	}
	if _, err := c1.Act(ctx, "", tk.ID, hall.ActComplete, nil); hall.ErrorReason(err) != "not_your_window" {
		t.Fatalf("window 1's clerk completes window 8's ticket: %v", err)
	}
}

// Every ticket action has its row in the authorization table, naming only
// roles that may run tickets.action at all; every role a row names for a
// credential is a role.
func TestAuthorizationTableIsComplete(t *testing.T) {
	acts := api.ActionRoles()
	opRoles := apiOpRoles()["tickets.action"]
	for _, a := range hall.Actions {
		rs, ok := acts[a]
		if !ok {
			t.Errorf("ticket action %s has no row", a)
		}
		for _, r := range rs {
			if !slices.Contains(opRoles, r) {
				t.Errorf("action %s names role %s, which may not run tickets.action", a, r)
			}
		}
	}
	if len(acts) != len(hall.Actions) {
		t.Errorf("%d rows for %d actions", len(acts), len(hall.Actions))
	}
	for role, rs := range api.ManagedRoles() {
		for _, r := range append(rs, role) {
			if !slices.Contains(wire.Roles, r) {
				t.Errorf("manages names %q", r)
			}
		}
	}
	if apiOpRoles()["backup"] == nil || !slices.Equal(apiOpRoles()["backup"], []string{wire.RoleAdmin}) {
		t.Errorf("backup: %v", apiOpRoles()["backup"])
	}
}

func tokens(t *testing.T, h *testHall) []struct{ ID, Name, Role string } {
	t.Helper()
	var out []struct{ ID, Name, Role string }
	if _, err := h.admin.Do(context.Background(), http.MethodGet, "/api/v1/tokens", "", nil, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

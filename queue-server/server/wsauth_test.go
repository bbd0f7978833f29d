package server

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// wsParams are the path parameters a websocket request carries in params,
// for the operations whose REST route has them (the same values as
// TestAuthorizationEveryRoute uses in its paths).
var wsParams = map[string]map[string]string{
	"tickets.get":        {"id": "x"},
	"tickets.action":     {"id": "x", "action": "start"},
	"windows.queue":      {"window": "1"},
	"windows.call":       {"window": "1"},
	"windows.set":        {"window": "1", "state": "close"},
	"leases.release":     {"id": "x"},
	"tokens.revoke":      {"id": "x"},
	"deadletters.resend": {"first": "1"},
}

// TestAuthorizationEveryWebsocketOp sends every operation of the operation
// table as a websocket request with every role: only the roles the table
// names get past authorization (anything but unauthorized, or forbidden
// without a reason), and every operation is known to the websocket. A hello
// without a token is refused, so nothing runs anonymously over the
// websocket, not even the public operations.
func TestAuthorizationEveryWebsocketOp(t *testing.T) {
	h := MustHall(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	if _, err := client.New(h.URL, "").Dial(ctx, 0, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("a hello without a token: %v, want unauthorized", err)
	}

	policy := apiOpRoles()
	ops := make([]string, 0, len(policy))
	for op := range policy {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	if len(ops) < 31 {
		t.Fatalf("the operation table has only %d operations", len(ops))
	}
	tried := 0
	for _, role := range wire.Roles {
		w := 0
		if role == wire.RoleClerk {
			w = 1
		}
		conn, err := h.as(role, w).Dial(ctx, 0, nil)
		if err != nil {
			t.Fatalf("dial as %s: %v", role, err)
		}
		if conn.Welcome.Role != role {
			t.Fatalf("welcome as %s says role %q", role, conn.Welcome.Role)
		}
		for _, op := range ops {
			status, err := conn.Request(ctx, op, wsParams[op], "", nil, nil)
			code := hall.ErrorCode(err)
			if code == hall.Unavailable && hall.ErrorReason(err) == "network" {
				t.Fatalf("%s as %s: the connection broke: %v", op, role, err)
			}
			if code == hall.NotFound && strings.HasSuffix(err.Error(), "unknown operation "+op) {
				t.Errorf("%s as %s: the websocket does not know the operation", op, role)
			}
			denied := code == hall.Unauthorized || code == hall.Forbidden && hall.ErrorReason(err) == ""
			if want := slices.Contains(policy[op], role); denied == want {
				t.Errorf("%s as %s over the websocket: status %d (%v), allowed roles %v", op, role, status, err, policy[op])
			}
			tried++
		}
		conn.Close()
	}
	t.Logf("%d operations × %d roles = %d websocket requests, plus the refused anonymous hello", len(ops), len(wire.Roles), tried)
}

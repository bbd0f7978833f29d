package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Postpone (暂离) over REST: the phone page without a token, by the
// ticket's own link, for a waiting ticket only; a clerk for the citizen
// called to their own window; never a kiosk or a board; once per ticket.
func TestPostponeRouteAuthorization(t *testing.T) {
	h := mustContractHall(t)
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)
	display := h.as(wire.RoleDisplay, "board", 0)
	clerk1 := h.as(wire.RoleClerk, "li", 1)
	clerk2 := h.as(wire.RoleClerk, "wang", 2)
	phone := h.client("")
	issue := func() hall.TicketView {
		t.Helper()
		st, body := h.do(kiosk, "POST", "/api/v1/tickets", "", `{"service":"E"}`)
		var v hall.TicketView
		if st != 201 || json.Unmarshal([]byte(body), &v) != nil {
			t.Fatalf("issue: %d %s", st, body)
		}
		return v
	}
	var tickets []hall.TicketView
	for range 7 {
		tickets = append(tickets, issue())
	}
	postpone := func(c *client.Client, id, body string) (int, string) {
		t.Helper()
		return h.do(c, "POST", "/api/v1/tickets/"+id+"/postpone", "", body)
	}
	for _, c := range []struct {
		name string
		who  *client.Client
		want int
	}{{"kiosk", kiosk, 403}, {"display", display, 403}} {
		if st, body := postpone(c.who, tickets[1].ID, ""); st != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, st, body, c.want)
		}
	}
	if st, body := postpone(phone, tickets[1].ID, `{"places":9}`); st != 400 || !strings.Contains(body, "unknown field") {
		t.Errorf("a body with fields: %d %s", st, body)
	}
	if st, body := postpone(phone, "no-such-ticket", ""); st != 404 {
		t.Errorf("unknown ticket: %d %s", st, body)
	}
	n := h.events()
	st, body := postpone(phone, tickets[1].ID, "")
	var v hall.TicketView
	json.Unmarshal([]byte(body), &v)
	if st != 200 || !v.Postponed || v.Position != 6 || strings.Contains(body, "kiosk-1") {
		t.Fatalf("phone postpone: %d %s, want postponed at position 6 (the default 5 places back), nothing personal", st, body)
	}
	if h.events() != n+1 {
		t.Errorf("%d events for one postpone", h.events()-n)
	}
	if st, body := postpone(phone, tickets[1].ID, ""); st != 409 || !strings.Contains(body, `"already_postponed"`) {
		t.Errorf("second postpone: %d %s", st, body)
	}
	// a call in progress: the phone cannot, a clerk at another window cannot, the clerk at the window can
	if st, body := h.do(h.admin, "POST", "/api/v1/windows/1/open", "", `{"clerk":"li"}`); st != 200 {
		t.Fatalf("open window 1: %d %s", st, body)
	}
	st, body = h.do(clerk1, "POST", "/api/v1/windows/1/call", "", "")
	var called hall.TicketView
	if json.Unmarshal([]byte(body), &called); st != 200 || called.ID != tickets[0].ID {
		t.Fatalf("call: %d %s", st, body)
	}
	if st, body := postpone(phone, called.ID, ""); st != 409 || !strings.Contains(body, `"illegal_transition"`) {
		t.Errorf("phone postponing a call: %d %s", st, body)
	}
	if st, body := postpone(clerk2, called.ID, ""); st != 403 || !strings.Contains(body, `"not_your_window"`) {
		t.Errorf("clerk at window 2: %d %s", st, body)
	}
	if st, body := postpone(clerk2, tickets[3].ID, ""); st != 403 {
		t.Errorf("a clerk postponing a waiting ticket at no window: %d %s", st, body)
	}
	st, body = postpone(clerk1, called.ID, "")
	json.Unmarshal([]byte(body), &v)
	if st != 200 || v.Status != hall.Waiting || !v.Postponed {
		t.Fatalf("clerk postpone: %d %s", st, body)
	}
	ws, err := h.admin.Windows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ws[0].Current != "" {
		t.Errorf("window 1 still holds %s after postponing its call", ws[0].Current)
	}
}

package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Helper calls over REST: a kiosk for itself, the phone page for its
// ticket without a token; managers list and acknowledge them; boards,
// kiosks and clerks may not acknowledge; bad input is a precise 4xx.
func TestHelperCallRoutes(t *testing.T) {
	h := mustContractHall(t)
	kiosk := h.as(wire.RoleKiosk, "kiosk-3", 0)
	display := h.as(wire.RoleDisplay, "board", 0)
	clerk := h.as(wire.RoleClerk, "li", 1)
	manager := h.as(wire.RoleManager, "zhang", 0)
	phone := h.client("")

	st, body := h.do(kiosk, "POST", "/api/v1/help", "", "")
	var k hall.HelpCall
	if json.Unmarshal([]byte(body), &k); st != 201 || k.Kiosk != "kiosk-3" || k.Ticket != "" {
		t.Fatalf("kiosk call: %d %s", st, body)
	}
	if st, body := h.do(kiosk, "POST", "/api/v1/help", "", `{"ticket":"x"}`); st != 400 {
		t.Errorf("a kiosk naming a ticket: %d %s", st, body)
	}
	_, body = h.do(kiosk, "POST", "/api/v1/tickets", "", `{"service":"E"}`)
	var tk hall.TicketView
	json.Unmarshal([]byte(body), &tk)
	for _, c := range []struct{ body, want string }{
		{"", "ticket is required"},
		{`{"ticket":"  "}`, "ticket is required"},
		{`{"ticket":"` + tk.ID + `","kiosk":"x"}`, "unknown field"},
		{`{"ticket":`, "malformed JSON"},
	} {
		if st, got := h.do(phone, "POST", "/api/v1/help", "", c.body); st != 400 || !strings.Contains(got, c.want) {
			t.Errorf("phone %q: %d %s, want 400 %q", c.body, st, got, c.want)
		}
	}
	if st, body := h.do(phone, "POST", "/api/v1/help", "", `{"ticket":"nosuch"}`); st != 404 {
		t.Errorf("unknown ticket: %d %s", st, body)
	}
	st, body = h.do(phone, "POST", "/api/v1/help", "", `{"ticket":"`+tk.ID+`"}`)
	var p hall.HelpCall
	if json.Unmarshal([]byte(body), &p); st != 201 || p.Number != tk.Number || strings.Contains(body, "kiosk-3") {
		t.Fatalf("phone call: %d %s", st, body)
	}
	// only managers and admins see and acknowledge
	for name, c := range map[string]*client.Client{"display": display, "clerk": clerk, "kiosk": kiosk, "phone": phone} {
		if st, body := h.do(c, "GET", "/api/v1/help", "", ""); st != 403 && st != 401 {
			t.Errorf("%s lists helper calls: %d %s", name, st, body)
		}
		if st, body := h.do(c, "POST", "/api/v1/help/"+k.ID+"/ack", "", ""); st != 403 && st != 401 {
			t.Errorf("%s acknowledges: %d %s", name, st, body)
		}
	}
	st, body = h.do(manager, "GET", "/api/v1/help", "", "")
	var list []hall.HelpCall
	if json.Unmarshal([]byte(body), &list); st != 200 || len(list) != 2 || list[0].ID != k.ID || list[1].ID != p.ID {
		t.Fatalf("list: %d %s", st, body)
	}
	n := h.events()
	st, body = h.do(manager, "POST", "/api/v1/help/"+k.ID+"/ack", "", "")
	var a hall.HelpCall
	if json.Unmarshal([]byte(body), &a); st != 200 || a.AckBy != "zhang" || a.AckAt.IsZero() || h.events() != n+1 {
		t.Fatalf("ack: %d %s", st, body)
	}
	if st, body := h.do(manager, "POST", "/api/v1/help/"+k.ID+"/ack", "", ""); st != 409 || !strings.Contains(body, `"already_acknowledged"`) {
		t.Errorf("second ack: %d %s", st, body)
	}
	if st, body := h.do(manager, "POST", "/api/v1/help/nosuch/ack", "", ""); st != 404 {
		t.Errorf("ack unknown: %d %s", st, body)
	}
	// the cool-down: the kiosk cannot call again at once
	if st, body := h.do(kiosk, "POST", "/api/v1/help", "", ""); st != 429 || !strings.Contains(body, `"too_many_requests"`) {
		t.Errorf("kiosk again right after the ack: %d %s", st, body)
	}
	// the per-address limit of phone calls
	var last int
	for range 12 {
		last, _ = h.do(phone, "POST", "/api/v1/help", "", `{"ticket":"`+tk.ID+`"}`)
	}
	if last != 429 {
		t.Errorf("the 13th phone call from one address: %d, want 429", last)
	}
}

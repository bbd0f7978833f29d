package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"hallq/queue-server/api/apispec"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
)

// contractHall is a whole hall on loopback for the contract tests: every
// client it hands out goes through the same HTTP transport (raw requests
// too, via do), so that every request and response can be checked.
type contractHall struct {
	t     *testing.T
	s     *server.Server
	admin *client.Client
	http  *http.Client
}

func mustContractHall(t *testing.T) *contractHall {
	t.Helper()
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	cfg.Hall.TimeZone = "Asia/Shanghai"
	cfg.OpenAllDay()
	s, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, err := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	h := &contractHall{t: t, s: s, http: specClient(t)}
	h.admin = h.client(strings.TrimSpace(string(tok)))
	return h
}

func (h *contractHall) client(token string) *client.Client {
	c := client.New(h.s.URL, token)
	c.HTTP = h.http
	return c
}

// as returns a client with a new token of role (clerks bound to window).
func (h *contractHall) as(role, name string, window int) *client.Client {
	h.t.Helper()
	tk, err := h.admin.CreateToken(context.Background(), wire.TokenRequest{Name: name, Role: role, Window: window})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.client(tk.Token)
}

// do sends a raw request and returns the status and body.
func (h *contractHall) do(c *client.Client, method, path, idem, body string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.s.URL+path, strings.NewReader(body))
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (h *contractHall) events() int {
	h.t.Helper()
	page, err := h.admin.Events(context.Background(), 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(page.Events)
}

// An idempotency key is bound to its operation, target and body: reusing
// it for anything else is 422 idempotency_key_reused and changes nothing;
// the same request again (even re-encoded) gets the first answer.
func TestIdempotencyKeyBoundToOperationTargetAndBody(t *testing.T) {
	h := mustContractHall(t)
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)
	st, body := h.do(kiosk, "POST", "/api/v1/tickets", "tx-42", `{"service":"E","channel":"walk_in"}`)
	if st != 201 {
		t.Fatalf("issue: %d %s", st, body)
	}
	var first hall.TicketView
	json.Unmarshal([]byte(body), &first)
	n := h.events()

	// the same request, keys reordered and spaced: the same ticket
	st, body = h.do(kiosk, "POST", "/api/v1/tickets", "tx-42", "{ \"channel\": \"walk_in\",\n \"service\": \"E\" }")
	if st != 201 || !strings.Contains(body, first.ID) {
		t.Fatalf("retry: %d %s", st, body)
	}
	reused := []struct{ who, method, path, body string }{
		{"kiosk", "POST", "/api/v1/tickets/" + first.ID + "/print-failed", `{"reason":"paper_out"}`}, // another operation
		{"kiosk", "POST", "/api/v1/tickets", `{"service":"C"}`},                                      // another body
	}
	for _, r := range reused {
		st, body := h.do(kiosk, r.method, r.path, "tx-42", r.body)
		if st != http.StatusUnprocessableEntity || !strings.Contains(body, `"reason":"idempotency_key_reused"`) || !strings.Contains(body, `"code":"unprocessable"`) {
			t.Errorf("%s %s with a used key: %d %s", r.method, r.path, st, body)
		}
	}
	// a manager's call next reusing the key of their own issue
	h.do(h.admin, "POST", "/api/v1/windows/1/open", "", "")
	mgr := h.as(wire.RoleManager, "mgr", 0)
	if st, body := h.do(mgr, "POST", "/api/v1/tickets", "m-1", `{"service":"E"}`); st != 201 {
		t.Fatalf("manager issue: %d %s", st, body)
	}
	n2 := h.events()
	if st, body := h.do(mgr, "POST", "/api/v1/windows/1/call", "m-1", ""); st != 422 {
		t.Errorf("call next with an issue's key: %d %s", st, body)
	}
	// another target with the same key and operation
	if st, body := h.do(mgr, "POST", "/api/v1/windows/2/open", "m-2", ""); st != 200 {
		t.Fatalf("open 2: %d %s", st, body)
	}
	if st, body := h.do(mgr, "POST", "/api/v1/windows/3/open", "m-2", ""); st != 422 {
		t.Errorf("open window 3 with window 2's key: %d %s", st, body)
	}
	if got := h.events(); got != n2+1 {
		t.Fatalf("refused reuses changed the hall: %d events, want %d (first had %d)", got, n2+1, n)
	}
	// the websocket shares the keys of the token, with the same rules
	ws, err := kiosk.Dial(context.Background(), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var again hall.TicketView
	if st, err := ws.Request(context.Background(), "tickets.issue", nil, "tx-42", map[string]string{"service": "E", "channel": "walk_in"}, &again); err != nil || st != 201 || again.ID != first.ID {
		t.Fatalf("websocket retry: %d %v %s", st, err, again.ID)
	}
	if _, err := ws.Request(context.Background(), "tickets.issue", nil, "tx-42", map[string]string{"service": "B"}, nil); hall.ErrorReason(err) != "idempotency_key_reused" {
		t.Fatalf("websocket reuse: %v", err)
	}
	if _, err := ws.Request(context.Background(), "tickets.issue", nil, "bad\x01key", map[string]string{"service": "E"}, nil); hall.ErrorReason(err) != "bad_idempotency_key" {
		t.Errorf("control character in the key: %v", err)
	}
}

// A kiosk handing over a number already handed over, with another ticket
// id, is refused with 409 number_used (the same hand-over again returns
// its ticket).
func TestHandOverOfUsedNumberWithNewIDIsNumberUsed(t *testing.T) {
	h := mustContractHall(t)
	ctx := context.Background()
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)
	l, err := kiosk.Lease(ctx, "E", 5)
	if err != nil {
		t.Fatal(err)
	}
	o := hall.OfflineTicket{Lease: l.ID, Number: l.From, IssuedAt: time.Now().Add(-time.Minute), ID: "k0123456789abcdef01234567"}
	first, err := kiosk.HandOver(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	again, err := kiosk.HandOver(ctx, o)
	if err != nil || again.ID != first.ID {
		t.Fatalf("same hand-over again: %v %s", err, again.ID)
	}
	o.ID = "k9999999999abcdef01234567"
	_, err = kiosk.HandOver(ctx, o)
	if hall.ErrorCode(err) != hall.Conflict || hall.ErrorReason(err) != "number_used" {
		t.Fatalf("used number, new id: %v", err)
	}
	if _, err := h.client("").Ticket(ctx, o.ID); hall.ErrorCode(err) != hall.NotFound {
		t.Fatalf("the refused id exists: %v", err)
	}
}

// Small defects of the contract, each as a user meets it.
func TestContractSmallDefects(t *testing.T) {
	h := mustContractHall(t)
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)

	// issuing with {} names the missing field
	if st, body := h.do(kiosk, "POST", "/api/v1/tickets", "", `{}`); st != 400 || !strings.Contains(body, "service is required") {
		t.Errorf("issue {}: %d %s", st, body)
	}
	// kiosks receive no masked ID (nor citizen key) back
	st, body := h.do(kiosk, "POST", "/api/v1/tickets", "", `{"service":"B","citizen_key":"`+strings.Repeat("1", 64)+`","masked_id":"4201**********1234"}`)
	if st != 201 || strings.Contains(body, "masked_id") || strings.Contains(body, "citizen_key") {
		t.Errorf("kiosk issue reply carries personal data: %d %s", st, body)
	}
	// staff still see the masked ID
	if st, body := h.do(h.admin, "POST", "/api/v1/tickets", "", `{"service":"B","citizen_key":"`+strings.Repeat("2", 64)+`","masked_id":"4201**********5678"}`); st != 201 || !strings.Contains(body, `"masked_id":"4201**********5678"`) {
		t.Errorf("staff issue reply: %d %s", st, body)
	}
	// the blacklist never returns the citizen key
	if st, body := h.do(h.admin, "POST", "/api/v1/blacklist", "", `{"id_number":"11010519491231002X","note":"x"}`); st != 200 || strings.Contains(body, "citizen_key") || strings.Contains(body, "11010519491231002X") {
		t.Errorf("blacklist reply: %d %s", st, body)
	}
	// bookings take the central's shape (booking_id), and the older id
	slot := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(90 * time.Minute).UTC().Format(time.RFC3339)
	for _, idField := range []string{"booking_id", "id"} {
		b := fmt.Sprintf(`{%q:"BK-%s","citizen_key":"%s","service":"B","slot_start":%q,"slot_end":%q,"status":"booked"}`, idField, idField, strings.Repeat("3", 64), slot, end)
		if st, body := h.do(h.admin, "POST", "/api/v1/bookings", "", b); st != 200 || !strings.Contains(body, `"BK-`+idField+`"`) || strings.Contains(body, "citizen_key") {
			t.Errorf("booking with %s: %d %s", idField, st, body)
		}
	}
	if st, body := h.do(h.admin, "POST", "/api/v1/bookings", "", `{"booking_id":"a","id":"b","citizen_key":"`+strings.Repeat("3", 64)+`","service":"B","slot_start":"`+slot+`","slot_end":"`+end+`"}`); st != 400 {
		t.Errorf("two ids: %d %s", st, body)
	}
	// opening an open window changes nothing: no event, since kept
	if st, body := h.do(h.admin, "POST", "/api/v1/windows/3/open", "", ""); st != 200 {
		t.Fatalf("open: %d %s", st, body)
	}
	n := h.events()
	var w1, w2 hall.Window
	_, b1 := h.do(h.admin, "GET", "/api/v1/windows", "", "")
	st, b2 := h.do(h.admin, "POST", "/api/v1/windows/3/open", "", "")
	var ws []hall.Window
	json.Unmarshal([]byte(b1), &ws)
	for _, w := range ws {
		if w.Number == 3 {
			w1 = w
		}
	}
	json.Unmarshal([]byte(b2), &w2)
	if st != 200 || !w2.Since.Equal(w1.Since) || h.events() != n {
		t.Errorf("opening an open window: %d %s (since was %s; %d new events)", st, b2, w1.Since, h.events()-n)
	}
	// user records carry no hash at all
	if st, body := h.do(h.admin, "POST", "/api/v1/users", "", `{"name":"wang","password":"correct horse","role":"clerk","window":1}`); st != 201 || strings.Contains(body, "hash") {
		t.Errorf("user created: %d %s", st, body)
	}
	if st, body := h.do(h.admin, "GET", "/api/v1/users", "", ""); st != 200 || strings.Contains(body, "hash") {
		t.Errorf("users: %d %s", st, body)
	}
}

// Every list is [] when empty, never null.
func TestEmptyListsAreEmptyArrays(t *testing.T) {
	h := mustContractHall(t)
	for _, path := range []string{"/api/v1/tickets", "/api/v1/windows/1/queue", "/api/v1/appointments", "/api/v1/devices", "/api/v1/dead-letters", "/api/v1/users"} {
		st, body := h.do(h.admin, "GET", path, "", "")
		if st != 200 || strings.TrimSpace(body) != "[]" {
			t.Errorf("GET %s: %d %s, want []", path, st, body)
		}
	}
	if st, body := h.do(h.admin, "GET", "/api/v1/overview", "", ""); st != 200 || !strings.Contains(body, `"calls":[]`) {
		t.Errorf("overview of a new hall: %d %s", st, body)
	}
	st, body := h.do(h.admin, "GET", "/api/v1/events?after=0", "", "")
	if st != 200 || !strings.Contains(body, `"events":[]`) || !strings.Contains(body, `"last_seq":0`) {
		t.Errorf("events of a new hall: %d %s", st, body)
	}
}

// wsRaw is a raw websocket connection after its hello, for frames no Go
// client would send.
func wsRaw(t *testing.T, h *contractHall, token string) (*websocket.Conn, map[string]any) {
	t.Helper()
	ws := dial(t, h.s.Addr, 0)
	t.Cleanup(func() { ws.Close() })
	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token}); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	_, raw, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if err := apispec.ValidateFrame(raw); err != nil {
		t.Error(err)
	}
	var welcome map[string]any
	json.Unmarshal(raw, &welcome)
	return ws, welcome
}

// readUntil reads frames (each checked against the document) until one
// matches. The deadline only keeps a hung server from hanging the run.
func readUntil(t *testing.T, ws *websocket.Conn, match func(map[string]any) bool) map[string]any {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	for {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if err := apispec.ValidateFrame(raw); err != nil {
			t.Error(err)
		}
		var f map[string]any
		json.Unmarshal(raw, &f)
		if match(f) {
			return f
		}
	}
}

func replyTo(id string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["id"] == id && f["type"] == "reply" }
}

// Every websocket request gets a reply with its id and a status — unknown
// ops, parameters of the wrong type; numbers as parameters are taken; a
// frame without an id gets an error frame with a status; welcome carries
// seq on a hall with no events yet.
func TestWebsocketEveryRequestGetsAReply(t *testing.T) {
	h := mustContractHall(t)
	ws, welcome := wsRaw(t, h, h.admin.Token)
	if welcome["type"] != "welcome" || welcome["seq"] != float64(0) {
		t.Fatalf("welcome on a new hall: %v", welcome)
	}
	send := func(s string) {
		ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		frame, id string
		status    float64
		reason    string
	}{
		{`{"type":"request","id":"a1","op":"no.such.op"}`, "a1", 404, "unknown_op"},
		{`{"type":"request","id":"a2","op":"windows.set","params":{"window":1,"state":"open"}}`, "a2", 200, ""},
		{`{"type":"request","id":"a3","op":"windows.call","params":{"window":{"n":1}}}`, "a3", 400, ""},
		{`{"type":"request","id":"a4","op":"windows.call","params":{"window":"1"}}`, "a4", 204, ""},
		{`{"type":"request","id":"a5","op":5}`, "a5", 400, ""},
		{`{"type":"rquest","id":"a6","op":"me"}`, "a6", 400, ""},
		{`{"type":"request","id":"a7","op":"tickets.issue","body":{}}`, "a7", 400, ""},
		{`{"type":"request","id":"a8","op":"windows.call","params":[1]}`, "a8", 400, ""},
		{`{"type":"request","id":"a9","op":"me","params":null}`, "a9", 200, ""},
	}
	for _, c := range cases {
		send(c.frame)
		f := readUntil(t, ws, replyTo(c.id))
		if f["status"] != c.status {
			t.Errorf("%s: %v, want status %v", c.frame, f, c.status)
		}
		if c.reason != "" {
			if e, _ := f["error"].(map[string]any); e == nil || e["reason"] != c.reason {
				t.Errorf("%s: %v, want reason %s", c.frame, f, c.reason)
			}
		}
	}
	for _, bad := range []string{`not json`, `{"type":"request","id":7,"op":"me"}`} {
		send(bad)
		f := readUntil(t, ws, func(f map[string]any) bool { return f["type"] == "error" })
		if f["status"] != float64(400) {
			t.Errorf("%s: %v", bad, f)
		}
	}
	// still open
	send(`{"type":"request","id":"z","op":"me"}`)
	if f := readUntil(t, ws, replyTo("z")); f["status"] != float64(200) {
		t.Fatalf("after bad frames: %v", f)
	}
}

// Bookings go by their name on REST and on the websocket
// (bookings.list, bookings.upsert); the v1 names (appointments.list,
// appointments.upsert, /api/v1/appointments) still work for third-party
// clients, with the same roles and the same answers, and the event is
// booking.upserted with the booking under "booking".
func TestBookingsUnderTheirNameAndTheDeprecatedOne(t *testing.T) {
	h := mustContractHall(t)
	slot := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(90 * time.Minute).UTC().Format(time.RFC3339)
	body := func(id string) string {
		return fmt.Sprintf(`{"booking_id":%q,"citizen_key":"%s","service":"B","slot_start":%q,"slot_end":%q}`, id, strings.Repeat("3", 64), slot, end)
	}
	if st, b := h.do(h.admin, "POST", "/api/v1/bookings", "", body("BK-new")); st != 200 || !strings.Contains(b, `"BK-new"`) {
		t.Errorf("POST /api/v1/bookings: %d %s", st, b)
	}
	if st, b := h.do(h.admin, "POST", "/api/v1/appointments", "", body("BK-old")); st != 200 || !strings.Contains(b, `"BK-old"`) {
		t.Errorf("POST /api/v1/appointments (deprecated): %d %s", st, b)
	}
	_, viaNew := h.do(h.admin, "GET", "/api/v1/bookings", "", "")
	_, viaOld := h.do(h.admin, "GET", "/api/v1/appointments", "", "")
	if viaNew != viaOld || !strings.Contains(viaNew, `"BK-new"`) || !strings.Contains(viaNew, `"BK-old"`) {
		t.Errorf("GET /api/v1/bookings %s and its deprecated alias %s differ or miss a booking", viaNew, viaOld)
	}
	clerk := h.as(wire.RoleClerk, "clerk-1", 1)
	for _, path := range []string{"/api/v1/bookings", "/api/v1/appointments"} {
		if st, b := h.do(clerk, "GET", path, "", ""); st != 403 {
			t.Errorf("a clerk lists %s: %d %s, want 403 (same roles under both names)", path, st, b)
		}
	}

	ws, _ := wsRaw(t, h, h.admin.Token)
	send := func(f wire.Frame) {
		ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := ws.WriteJSON(f); err != nil {
			t.Fatal(err)
		}
	}
	send(wire.Frame{Type: wire.FrameRequest, ID: "u1", Op: "bookings.upsert", Body: json.RawMessage(body("BK-ws-new"))})
	if f := readUntil(t, ws, replyTo("u1")); f["status"] != float64(200) {
		t.Errorf("bookings.upsert: %v", f)
	}
	send(wire.Frame{Type: wire.FrameRequest, ID: "u2", Op: "appointments.upsert", Body: json.RawMessage(body("BK-ws-old"))})
	if f := readUntil(t, ws, replyTo("u2")); f["status"] != float64(200) {
		t.Errorf("appointments.upsert (deprecated): %v", f)
	}
	lists := map[string]string{}
	for _, op := range []string{"bookings.list", "appointments.list"} {
		send(wire.Frame{Type: wire.FrameRequest, ID: op, Op: op})
		f := readUntil(t, ws, replyTo(op))
		res, _ := json.Marshal(f["result"])
		lists[op] = string(res)
		for _, id := range []string{"BK-new", "BK-old", "BK-ws-new", "BK-ws-old"} {
			if f["status"] != float64(200) || !strings.Contains(string(res), `"`+id+`"`) {
				t.Errorf("%s: %v, want %s in it", op, f, id)
			}
		}
	}
	if lists["bookings.list"] != lists["appointments.list"] {
		t.Errorf("bookings.list %s and appointments.list %s differ", lists["bookings.list"], lists["appointments.list"])
	}

	_, evs := h.do(h.admin, "GET", "/api/v1/events?after=0", "", "")
	if strings.Count(evs, `"type":"booking.upserted"`) != 4 || strings.Count(evs, `"booking":{`) != 4 || strings.Contains(evs, "appointment") {
		t.Errorf("events: %s, want four booking.upserted events with the booking under \"booking\"", evs)
	}
}

// Requests pipelined on one connection are applied in the order sent and
// answered in that order: "complete" then "call next" back to back never
// meets window_busy.
func TestWebsocketPipelinedRequestsAppliedInOrder(t *testing.T) {
	h := mustContractHall(t)
	ctx := context.Background()
	const pairs = 30
	for i := range pairs + 1 {
		if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
	}
	clerk := h.as(wire.RoleClerk, "clerk-1", 1)
	if _, err := clerk.SetWindow(ctx, 1, "open", ""); err != nil {
		t.Fatal(err)
	}
	cur, ok, err := clerk.Call(ctx, "", 1, "")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	ws, _ := wsRaw(t, h, clerk.Token)
	for i := range pairs {
		if _, err := clerk.Act(ctx, "", cur.ID, hall.ActStart, nil); err != nil {
			t.Fatal(err)
		}
		ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		c, n := fmt.Sprintf("c%d", i), fmt.Sprintf("n%d", i)
		ws.WriteJSON(wire.Frame{Type: wire.FrameRequest, ID: c, Op: "tickets.action", Params: map[string]string{"id": cur.ID, "action": hall.ActComplete}})
		ws.WriteJSON(wire.Frame{Type: wire.FrameRequest, ID: n, Op: "windows.call", Params: map[string]string{"window": "1"}})
		var got []string
		var next hall.TicketView
		for len(got) < 2 {
			f := readUntil(t, ws, func(f map[string]any) bool { return f["type"] == "reply" })
			got = append(got, f["id"].(string))
			if f["status"] != float64(200) {
				t.Fatalf("pair %d: %v", i, f)
			}
			if f["id"] == n {
				b, _ := json.Marshal(f["result"])
				json.Unmarshal(b, &next)
			}
		}
		if got[0] != c || got[1] != n {
			t.Fatalf("pair %d: replies in order %v", i, got)
		}
		cur = next
	}
}

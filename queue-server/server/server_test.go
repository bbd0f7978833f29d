package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

func TestTicketLifeThroughREST(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	kiosk := h.as(wire.RoleKiosk, 0)
	clerk := h.as(wire.RoleClerk, 4)

	tk, err := kiosk.Issue(ctx, "k-1", hall.IssueRequest{Service: "B", CitizenKey: key1, MaskedID: "4201**********1234"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Number != "B001" || tk.Status != hall.Waiting || tk.CitizenKey != "" || tk.Kiosk != "" && tk.Kiosk != "kiosk" {
		t.Fatalf("issued %+v", tk)
	}
	again, err := kiosk.Issue(ctx, "k-1", hall.IssueRequest{Service: "B", CitizenKey: key1, MaskedID: "4201**********1234"})
	if err != nil || again.ID != tk.ID {
		t.Fatalf("retry with the same key: %v, %s vs %s", err, again.ID, tk.ID)
	}
	if _, err := clerk.SetWindow(ctx, 4, "open", ""); err != nil {
		t.Fatal(err)
	}
	called, ok, err := clerk.Call(ctx, "", 4, "")
	if err != nil || !ok || called.ID != tk.ID {
		t.Fatalf("call: %v %v %+v", err, ok, called)
	}
	if _, _, err := clerk.Call(ctx, "", 5, ""); hall.ErrorCode(err) != hall.Forbidden {
		t.Fatalf("clerk of window 4 called at window 5: %v", err)
	}
	for _, a := range []string{hall.ActStart, hall.ActComplete} {
		if _, err := clerk.Act(ctx, "", tk.ID, a, nil); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	rated, err := clerk.Act(ctx, "", tk.ID, hall.ActRate, &hall.Action{Score: 5})
	if err != nil || rated.Rating == nil || rated.Rating.Score != 5 {
		t.Fatalf("rate: %v %+v", err, rated.Rating)
	}
	_, ok, err = clerk.Call(ctx, "", 4, "")
	if err != nil || ok {
		t.Fatalf("empty queue must give 204: ok=%v err=%v", ok, err)
	}
	// the public status page sees the ticket without personal data
	pub, err := client.New(h.URL, "").Ticket(ctx, tk.ID)
	if err != nil || pub.MaskedID != "" || pub.Status != hall.Done {
		t.Fatalf("public view: %v %+v", err, pub)
	}
	page, err := h.admin.Events(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range page.Events {
		types = append(types, ev.Type)
		if ev.Ticket != nil && ev.Ticket.CitizenKey != "" {
			t.Fatal("events API leaks citizen keys")
		}
	}
	want := "ticket.issued window.opened ticket.called ticket.started ticket.completed ticket.rated"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
}

// TestBadInputGetsClear4xx sends malformed, unknown and illegal requests to
// every kind of endpoint: each gets the right 4xx and code, never a 500,
// and nothing is half-applied.
func TestBadInputGetsClear4xx(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	tk, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.admin.Events(ctx, 0, 1000)
	big := `{"service":"E","masked_id":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		method, path, body string
		status             int
		code               hall.Code
	}{
		{"POST", "/api/v1/tickets", `{"service":"E"`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", `{"service":"E","bogus":1}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", `{"service":"E"} {"service":"E"}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", `{"service":5}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", ``, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", big, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", `{"service":"Q"}`, 404, hall.NotFound},
		{"POST", "/api/v1/tickets", `{"service":"A"}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", `{"service":"A","citizen_key":"110101199003070011"}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets", `{"service":"E","channel":"vip"}`, 400, hall.Invalid},
		{"GET", "/api/v1/tickets/nope", ``, 404, hall.NotFound},
		{"POST", "/api/v1/tickets/" + tk.ID + "/start", ``, 409, hall.Conflict},
		{"POST", "/api/v1/tickets/" + tk.ID + "/fly", ``, 404, hall.NotFound},
		{"POST", "/api/v1/tickets/" + tk.ID + "/rate", `{"score":"five"}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets/" + tk.ID + "/transfer", `{}`, 400, hall.Invalid},
		{"POST", "/api/v1/tickets/" + tk.ID + "/transfer", `{"service":"Z"}`, 404, hall.NotFound},
		{"POST", "/api/v1/windows/1/call", ``, 409, hall.Conflict},
		{"POST", "/api/v1/windows/99/call", ``, 404, hall.NotFound},
		{"POST", "/api/v1/windows/x/call", ``, 400, hall.Invalid},
		{"POST", "/api/v1/windows/1/call", `{"ticket":1}`, 400, hall.Invalid},
		{"POST", "/api/v1/windows/1/explode", ``, 404, hall.NotFound},
		{"POST", "/api/v1/windows/1/pause", ``, 409, hall.Conflict},
		{"GET", "/api/v1/events?after=-1", ``, 400, hall.Invalid},
		{"GET", "/api/v1/events?limit=0", ``, 400, hall.Invalid},
		{"POST", "/api/v1/checkin", `{}`, 400, hall.Invalid},
		{"POST", "/api/v1/checkin", `{"citizen_key":"` + key1 + `"}`, 404, hall.NotFound},
		{"POST", "/api/v1/blacklist", `{"id_number":"110101199003070012"}`, 400, hall.Invalid},
		{"POST", "/api/v1/bookings", `{"id":"b1","citizen_key":"` + key1 + `","service":"B"}`, 400, hall.Invalid},
		{"POST", "/api/v1/tokens", `{"name":"x","role":"emperor"}`, 400, hall.Invalid},
		{"POST", "/api/v1/tokens", `{"name":"x","role":"clerk","window":77}`, 400, hall.Invalid},
		{"DELETE", "/api/v1/tokens/nope", ``, 404, hall.NotFound},
		{"GET", "/api/v1/reports?from=yesterday", ``, 400, hall.Invalid},
		{"GET", "/api/v1/reports?by=mood", ``, 400, hall.Invalid},
		{"GET", "/api/v1/nothing", ``, 404, hall.NotFound},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, h.URL+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+h.admin.Token)
		resp, err := h.admin.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), `"code":"`+string(tc.code)+`"`) {
			t.Errorf("%s %s %.40q: got %d %s, want %d %s", tc.method, tc.path, tc.body, resp.StatusCode, body, tc.status, tc.code)
		}
	}
	after, _ := h.admin.Events(ctx, 0, 1000)
	if len(after.Events) != len(before.Events) {
		t.Fatalf("bad requests changed the hall: %d new events", len(after.Events)-len(before.Events))
	}
}

// TestAuthorizationEveryRoute tries every REST route with every role and
// without a token: only the roles the operation table names get past
// authorization (anything but 401/403).
func TestAuthorizationEveryRoute(t *testing.T) {
	h := MustHall(t)
	anon := client.New(h.URL, "")
	anon.HTTP = h.admin.HTTP
	clients := map[string]*client.Client{"": anon}
	for _, r := range wire.Roles {
		w := 0
		if r == wire.RoleClerk {
			w = 1
		}
		clients[r] = h.as(r, w)
	}
	routes := []struct{ method, path, op string }{
		{"GET", "/api/v1/me", "me"}, {"GET", "/api/v1/services", "services.list"}, {"GET", "/api/v1/overview", "overview"},
		{"POST", "/api/v1/tickets", "tickets.issue"}, {"GET", "/api/v1/tickets", "tickets.list"},
		{"GET", "/api/v1/tickets/x", "tickets.get"}, {"POST", "/api/v1/tickets/x/start", "tickets.action"},
		{"POST", "/api/v1/remote-tickets", "tickets.remote"},
		{"GET", "/api/v1/windows", "windows.list"}, {"GET", "/api/v1/windows/1/queue", "windows.queue"},
		{"POST", "/api/v1/windows/1/call", "windows.call"}, {"POST", "/api/v1/windows/1/close", "windows.set"},
		{"GET", "/api/v1/events", "events.list"}, {"POST", "/api/v1/checkin", "checkin"},
		{"POST", "/api/v1/leases", "leases.grant"}, {"POST", "/api/v1/leases/x/release", "leases.release"},
		{"POST", "/api/v1/handover", "handover"}, {"GET", "/api/v1/kiosk/seal-key", "kiosk.sealkey"},
		{"GET", "/api/v1/bookings", "bookings.list"}, {"POST", "/api/v1/bookings", "bookings.upsert"},
		{"GET", "/api/v1/appointments", "appointments.list"}, {"POST", "/api/v1/appointments", "appointments.upsert"}, // deprecated v1 names
		{"POST", "/api/v1/blacklist", "blacklist.set"}, {"GET", "/api/v1/tokens", "tokens.list"},
		{"POST", "/api/v1/tokens", "tokens.create"}, {"DELETE", "/api/v1/tokens/x", "tokens.revoke"},
		{"POST", "/api/v1/day/close", "day.close"}, {"POST", "/api/v1/devices", "devices.report"},
		{"GET", "/api/v1/devices", "devices.list"}, {"GET", "/api/v1/reports", "reports"}, {"GET", "/api/v1/config", "config"},
		{"PUT", "/api/v1/config", "config.update"},
		{"GET", "/api/v1/users", "users.list"}, {"POST", "/api/v1/users", "users.create"}, {"POST", "/api/v1/login", "login"},
		{"POST", "/api/v1/logout", "logout"},
		{"GET", "/api/v1/dead-letters", "deadletters.list"}, {"POST", "/api/v1/dead-letters/1/resend", "deadletters.resend"},
		{"GET", "/api/v1/backup", "backup"},
		{"GET", "/api/v1/day/close", "day.preview"}, {"GET", "/api/v1/figures", "figures"}, {"GET", "/api/v1/alerts", "alerts"},
		{"GET", "/api/v1/blacklist", "blacklist.list"}, {"DELETE", "/api/v1/blacklist/x", "blacklist.remove"},
		{"DELETE", "/api/v1/users/x", "users.delete"},
		{"POST", "/api/v1/tickets/x/postpone", "tickets.postpone"},
		{"POST", "/api/v1/help", "help.call"}, {"GET", "/api/v1/help", "help.list"}, {"POST", "/api/v1/help/x/ack", "help.ack"},
		{"POST", "/api/v1/board/notices", "board.notices.post"}, {"DELETE", "/api/v1/board/notices/x", "board.notices.delete"},
		{"POST", "/api/v1/board/media", "board.media.upload"}, {"GET", "/api/v1/board/media/x", "board.media.get"},
		{"DELETE", "/api/v1/board/media/x", "board.media.delete"},
		{"GET", "/api/v1/matters", "matters.list"}, {"GET", "/api/v1/tickets/x/notice", "tickets.notice"},
		{"POST", "/api/v1/tickets/x/evaluation", "tickets.evaluate"},
	}
	policy := apiOpRoles()
	if len(routes) != len(policy) {
		t.Fatalf("the test covers %d routes, the operation table has %d operations", len(routes), len(policy))
	}
	for _, rt := range routes {
		allowed := policy[rt.op]
		for role, c := range clients {
			status, err := c.Do(context.Background(), rt.method, rt.path, "", nil, nil)
			code := hall.ErrorCode(err)
			denied := code == hall.Unauthorized || code == hall.Forbidden && hall.ErrorReason(err) == ""
			want := contains(allowed, role) || (role == "" && contains(allowed, "public"))
			if denied == want {
				t.Errorf("%s %s as %q: status %d (%v), allowed roles %v", rt.method, rt.path, role, status, err, allowed)
			}
		}
	}
	status, _ := clients[""].Do(context.Background(), "GET", "/api/v1/backup", "", nil, nil)
	if status != http.StatusUnauthorized {
		t.Errorf("backup without token: %d", status)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Clerks at eight windows call from one queue at the same time, as a
// busy morning does: every ticket is called exactly once. Each clerk calls,
// marks the ticket no-show and calls again; no clerk touches another
// window's ticket, so the test makes progress with every request however
// slow the machine (a version that let fifty goroutines share a window and
// no-show each other's tickets could spin for minutes under load).
func TestConcurrentCallsThroughAPIEachTicketOnce(t *testing.T) {
	cfg := hall.SampleConfig()
	const windows, n = 8, 80
	cfg.Windows = nil
	for w := 1; w <= windows; w++ {
		cfg.Windows = append(cfg.Windows, hall.WindowConfig{Number: w, Name: hall.Text{ZH: fmt.Sprintf("%d号窗口", w)}, Services: []string{"E"}})
	}
	h := mustHallWith(t, &cfg, "")
	ctx := context.Background()
	for i := range n {
		if _, err := h.admin.Issue(ctx, fmt.Sprint(i), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	clerks := map[int]*client.Client{}
	for w := 1; w <= windows; w++ {
		clerks[w] = h.as(wire.RoleClerk, w)
		if _, err := clerks[w].SetWindow(ctx, w, "open", ""); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	perWindow := map[int]int{}
	var wg sync.WaitGroup
	for w, c := range clerks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				tk, ok, err := c.Call(ctx, "", w, "")
				if err != nil {
					t.Errorf("window %d: call: %v", w, err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				seen[tk.ID]++
				perWindow[w]++
				mu.Unlock()
				if _, err := c.Act(ctx, "", tk.ID, hall.ActNoShow, nil); err != nil {
					t.Errorf("window %d: no-show %s: %v", w, tk.ID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d tickets called, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("ticket %s called %d times", id, k)
		}
	}
	busy := 0
	for _, k := range perWindow {
		if k > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Fatalf("only %d window(s) called anything: the calls did not run concurrently (%v)", busy, perWindow)
	}
	// Calling at a busy window is refused, not a second ticket.
	if _, err := h.admin.Issue(ctx, "last", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.admin.Issue(ctx, "last2", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := clerks[1].Call(ctx, "", 1, ""); err != nil || !ok {
		t.Fatalf("call: %v %v", ok, err)
	}
	if _, _, err := clerks[1].Call(ctx, "", 1, ""); hall.ErrorReason(err) != "window_busy" {
		t.Fatalf("a second call at a busy window gave %v, want window_busy", err)
	}
}

func TestWebsocketStreamsAndResumesAfterRestart(t *testing.T) {
	h := MustHall(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	display := h.as(wire.RoleDisplay, 0)
	kiosk := h.as(wire.RoleKiosk, 0)

	var mu sync.Mutex
	var seqs []uint64
	var masked []string
	got := make(chan struct{}, 100)
	resynced := make(chan struct{}, 10)
	handler := func(f wire.Frame) {
		if f.Type == wire.FrameResync {
			resynced <- struct{}{}
		}
		if f.Type != wire.FrameEvent {
			return
		}
		mu.Lock()
		seqs = append(seqs, f.Event.Seq)
		if f.Event.Ticket != nil {
			masked = append(masked, f.Event.Ticket.MaskedID)
		}
		mu.Unlock()
		got <- struct{}{}
	}
	conns := make(chan *client.Conn, 10)
	go display.Follow(ctx, 0, handler, func(c *client.Conn) {
		if c != nil {
			conns <- c
		}
	})
	<-conns    // connected,
	<-resynced // and the overview came: from here on every change is an event

	// a kiosk issues over its own websocket connection
	kc, err := kiosk.Dial(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var tk hall.TicketView
	status, err := kc.Request(ctx, "tickets.issue", nil, "ws-1", hall.IssueRequest{Service: "E", MaskedID: "4201**********1234"}, &tk)
	if err != nil || status != http.StatusCreated || tk.Number != "E001" {
		t.Fatalf("issue over websocket: %d %v %+v", status, err, tk)
	}
	kc.Close()
	waitFor(t, got, 1)

	// server restart while events happen in between: the display resumes
	h.restart()
	for i := range 3 {
		if _, err := kiosk.Issue(ctx, fmt.Sprint("r", i), hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	<-conns // reconnected
	waitFor(t, got, 3)
	mu.Lock()
	defer mu.Unlock()
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("display saw seqs %v: want 1..4 once each, in order", seqs)
		}
	}
	for _, m := range masked {
		if m != "" {
			t.Fatal("display role received a masked ID")
		}
	}
}

func waitFor(t *testing.T, ch chan struct{}, n int) {
	t.Helper()
	for range n {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("timed out waiting for events")
		}
	}
}

func TestWebsocketRefusesBadHelloAndBadFrames(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	if _, err := client.New(h.URL, "hq_wrong").Dial(ctx, 0, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("bad token: %v", err)
	}
	if _, err := client.New(h.URL, "").Dial(ctx, 0, nil); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("no token: %v", err)
	}
	c, err := h.as(wire.RoleDisplay, 0).Dial(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Request(ctx, "tickets.issue", nil, "", hall.IssueRequest{Service: "E"}, nil); hall.ErrorCode(err) != hall.Forbidden {
		t.Fatalf("display issuing: %v", err)
	}
	if _, err := c.Request(ctx, "no.such.op", nil, "", nil, nil); hall.ErrorCode(err) != hall.NotFound {
		t.Fatalf("unknown op: %v", err)
	}
	var svcs []hall.ServiceView
	if _, err := c.Request(ctx, "services.list", nil, "", nil, &svcs); err != nil || len(svcs) != 5 {
		t.Fatalf("services over websocket: %v %d", err, len(svcs))
	}
}

func TestBootstrapTokenFileIsPrivate(t *testing.T) {
	h := MustHall(t)
	fi, err := osStat(h.dir + "/" + BootstrapFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap token mode %v", fi.Mode().Perm())
	}
	if _, err := h.admin.Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	// a second start does not write a new token
	tok := h.admin.Token
	h.restart()
	if b, _ := readFile(h.dir + "/" + BootstrapFile); strings.TrimSpace(string(b)) != tok {
		t.Fatal("bootstrap token rewritten on restart")
	}
}

func TestPasswordLoginSessionsAndRateLimit(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	manager := h.as(wire.RoleManager, 0)
	manager.HTTP.Timeout = 0 // bcrypt under -race on a busy machine takes seconds per password
	if _, err := manager.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "zhang", Password: "correct horse", Role: "manager"}, nil); hall.ErrorCode(err) != hall.Forbidden {
		t.Fatalf("a manager created a manager: %v", err)
	}
	if _, err := manager.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "zhang", Password: "correct horse", Role: "clerk", Window: 3}, nil); err != nil {
		t.Fatal(err)
	}
	anon := client.New(h.URL, "")
	anon.HTTP.Timeout = 0 // as above: every login checks a bcrypt hash
	var sess struct {
		Token  string `json:"token"`
		Window int    `json:"window"`
	}
	if _, err := anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "zhang", Password: "correct horse"}, &sess); err != nil || sess.Window != 3 {
		t.Fatalf("login: %v %+v", err, sess)
	}
	if me, err := client.New(h.URL, sess.Token).Me(ctx); err != nil || me["role"] != "clerk" {
		t.Fatalf("session token: %v %v", err, me)
	}
	var users []map[string]any
	manager.Do(ctx, "GET", "/api/v1/users", "", nil, &users)
	if len(users) != 1 || users[0]["hash"] != nil {
		t.Fatalf("users list leaks hashes: %v", users)
	}
	// signing out ends the session on the server; a token is not a session
	if _, err := manager.Do(ctx, "POST", "/api/v1/logout", "", nil, nil); hall.ErrorReason(err) != "not_a_session" {
		t.Fatalf("logout with a token: %v, want not_a_session", err)
	}
	if _, err := manager.Me(ctx); err != nil {
		t.Fatalf("a refused logout switched the token off: %v", err)
	}
	session := client.New(h.URL, sess.Token)
	live, err := session.Dial(ctx, 0, nil) // a console's open event stream
	if err != nil {
		t.Fatal(err)
	}
	if _, err := session.Do(ctx, "POST", "/api/v1/logout", "", nil, nil); err != nil {
		t.Fatalf("logout: %v", err)
	}
	select {
	case <-live.Done(): // ended at once, not at its next reconnect
	case <-time.After(10 * time.Second):
		t.Fatal("the session's open websocket outlived the logout")
	}
	// the same for a token a manager revokes: its board goes dark at once
	var board wire.TokenCreated
	if _, err := manager.Do(ctx, "POST", "/api/v1/tokens", "", wire.TokenRequest{Name: "board-9", Role: wire.RoleDisplay}, &board); err != nil {
		t.Fatal(err)
	}
	boardLive, err := client.New(h.URL, board.Token).Dial(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manager.Do(ctx, "DELETE", "/api/v1/tokens/"+board.ID, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-boardLive.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a revoked token's open websocket stayed open")
	}
	if _, err := session.Me(ctx); hall.ErrorCode(err) != hall.Unauthorized {
		t.Fatalf("the session still works after logout: %v", err)
	}
	for range 5 {
		if _, err := anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "zhang", Password: "wrong"}, nil); hall.ErrorCode(err) != hall.Unauthorized {
			t.Fatalf("wrong password: %v", err)
		}
	}
	_, err = anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "zhang", Password: "correct horse"}, nil)
	if hall.ErrorReason(err) != "too_many_attempts" {
		t.Fatalf("after 5 failures the right password must wait too: %v", err)
	}
}

func TestKioskDeviceHealthReachesDashboardAndMetrics(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	kiosk := h.as(wire.RoleKiosk, 0)
	if err := kiosk.ReportDevices(ctx, wire.DeviceHealth{Reader: "ok", Printer: "paper_out", Scanner: "ok", Online: true, SetAside: 2}); err != nil {
		t.Fatal(err)
	}
	var devs []wire.DeviceHealth
	if _, err := h.admin.Do(ctx, "GET", "/api/v1/devices", "", nil, &devs); err != nil || len(devs) != 1 || devs[0].Printer != "paper_out" {
		t.Fatalf("devices: %v %+v", err, devs)
	}
	resp, err := http.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`hallq_kiosk_online{kiosk="kiosk"} 1`, `hallq_kiosk_printer_ok{kiosk="kiosk"} 0`, `hallq_kiosk_offline_set_aside{kiosk="kiosk"} 2`, `hallq_waiting{service="A"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A kiosk does not follow every event, but must get the service figures at
// once on connecting, also to a hall that has history.
func TestKioskGetsServiceFiguresOnConnect(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	got := make(chan []hall.ServiceView, 1)
	c, err := h.as(wire.RoleKiosk, 0).Dial(ctx, 0, func(f wire.Frame) {
		if f.Type == wire.FrameResync && f.Overview != nil {
			select {
			case got <- f.Overview.Services:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case svcs := <-got:
		if len(svcs) != 5 || svcs[4].Waiting != 1 {
			t.Fatalf("services on connect: %+v", svcs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a kiosk connecting to a hall with history got no service figures")
	}
}

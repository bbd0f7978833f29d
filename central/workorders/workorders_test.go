package workorders_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/audit"
	"hallq/central/calendars"
	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/central/workorders"
	"hallq/internal/apitest"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

func tokens(t *testing.T) platform.Authenticator {
	t.Helper()
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	a, err := platform.ParseTokens([]byte(fmt.Sprintf(`{"staff":[
		{"name":"ops","role":"province_admin","token_sha256":%q},
		{"name":"wu","role":"hall_supervisor","halls":["h1"],"token_sha256":%q},
		{"name":"li","role":"hall_supervisor","halls":["h2"],"token_sha256":%q}]}`, sum("ops-token"), sum("wu-token"), sum("li-token"))))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type world struct {
	t     *testing.T
	JS    jetstream.JetStream
	Clock *testclock.Clock
	URL   string
	svcs  []*workorders.Service
}

// mustWorld starts an embedded NATS server, hall h1's calendar (Mon–Fri,
// 1 Jan 2027 a holiday; h2 has none: the default Mon–Fri) and n
// processes following the ratings, the first serving the routes.
func mustWorld(t *testing.T, n int) *world {
	t.Helper()
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	w := &world{t: t, Clock: testclock.New(time.Date(2026, 12, 28, 10, 0, 0, 0, testclock.Zone))}
	ctx := context.Background()
	for i := range n {
		nc, err := nats.Connect(ns.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := jetstream.New(nc)
		if i == 0 {
			w.JS = js
			hs, err := calendars.Open(ctx, js, 1)
			if err != nil {
				t.Fatal(err)
			}
			day := []calendar.Span{{From: "09:00", To: "12:00"}, {From: "13:30", To: "17:00"}}
			if _, _, err := hs.Put(ctx, calendars.Hall{ID: "h1", Name: catalog.Text{ZH: "一厅", EN: "Hall 1"}, SlotMinutes: 30, Capacity: map[string]int{"A": 1},
				Calendar: calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
					Holidays: []string{"2027-01-01"}}}); err != nil {
				t.Fatal(err)
			}
		}
		s, err := workorders.New(ctx, workorders.Config{JS: js, Clock: w.Clock, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		run, stop := context.WithCancel(ctx)
		t.Cleanup(stop)
		go func() { _ = s.Follow(run) }()
		w.svcs = append(w.svcs, s)
	}
	a := tokens(t)
	mux := http.NewServeMux()
	for p, h := range workorders.Routes(w.svcs[0], func() platform.Authenticator { return a }) {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// rated publishes a hall's ticket.rated event as its forwarder does.
func (w *world) rated(hallID string, seq uint64, tk hall.Ticket) {
	w.t.Helper()
	body, _ := json.Marshal(hall.Event{Seq: seq, Type: hall.EvTicketRated, At: tk.FinishedAt, Day: tk.Day, Ticket: &tk})
	m := &nats.Msg{Subject: "hall." + hallID + ".events." + hall.EvTicketRated, Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@0123456789abcdef", hallID, seq))
	if _, err := w.JS.PublishMsg(context.Background(), m); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) do(method, path, token string, body any) (int, []byte) {
	w.t.Helper()
	return apitest.Do(w.t, method, w.URL+path, token, body)
}

func (w *world) must(status int, method, path, token string, body, v any) {
	w.t.Helper()
	apitest.Must(w.t, status, method, w.URL+path, token, body, v)
}

func (w *world) refused(status int, reason, method, path, token string, body any) workorders.Refusal {
	w.t.Helper()
	st, b := w.do(method, path, token, body)
	var e struct{ Error workorders.Refusal }
	_ = json.Unmarshal(b, &e)
	if st != status || e.Error.Reason != reason {
		w.t.Fatalf("%s %s: %d %s, want %d %s: %s", method, path, st, e.Error.Reason, status, reason, b)
	}
	return e.Error
}

type list struct {
	Orders []workorders.Order
}

func (w *world) orders(token string) []workorders.Order {
	w.t.Helper()
	var l list
	w.must(200, "GET", "/api/v1/staff/workorders", token, nil, &l)
	return l.Orders
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ticket(id, number string, r *hall.Rating, matters ...hall.VisitMatter) hall.Ticket {
	at := time.Date(2026, 12, 28, 11, 0, 0, 0, testclock.Zone)
	return hall.Ticket{ID: id, Number: number, Service: "A", Day: "2026-12-28", Status: hall.Done, MaskedID: "1101**********002X",
		Window: 3, Clerk: "zhang", FinishedAt: at, Rating: r, Matters: matters}
}

func TestAPoorRatingBecomesOneWorkOrderDueIn15WorkingDays(t *testing.T) {
	w := mustWorld(t, 2) // two processes share the consumer
	ratedAt := time.Date(2026, 12, 28, 11, 5, 0, 0, testclock.Zone)
	low := &hall.Rating{Score: 2, Reason: "等太久", Indicators: []hall.Indicator{hall.IndEfficiency}, Channel: hall.ViaOnline, At: ratedAt}
	w.rated("h1", 1, ticket("t1", "A001", low))
	w.rated("h1", 2, ticket("t2", "A002", &hall.Rating{Score: 3, Channel: hall.ViaWindowPad, At: ratedAt}))              // not low
	w.rated("h1", 3, ticket("t1", "A001", low))                                                                          // the same rating again
	w.rated("h2", 1, ticket("t9", "B009", nil, hall.VisitMatter{Code: "M1", Name: catalog.Text{ZH: "换证", EN: "Renewal"}, // a matter's rating, at h2
		Rating: &hall.Rating{Score: 1, Reason: "态度差", Channel: hall.ViaWindowPad, At: ratedAt}}))
	eventually(t, "two orders", func() bool { return len(w.orders("ops-token")) == 2 })

	os := w.orders("ops-token")
	var o workorders.Order
	for _, x := range os {
		if x.Hall == "h1" {
			o = x
		}
	}
	// 28 Dec 2026 + 15 working days: 29, 30, 31 Dec, (1 Jan holiday), 4–8 Jan,
	// 11–15 Jan, 18, 19 Jan → Tuesday 19 Jan 2027 (h2, without the holiday: the 18th).
	if o.ID != workorders.ID("h1", "t1", "") || o.Status != workorders.Open || o.Score != 2 || o.Channel != "online" || o.Reason != "等太久" ||
		o.Number != "A001" || o.Window != 3 || o.Masked != "1101**********002X" || o.Due != "2027-01-19" || o.Overdue {
		t.Fatalf("order %+v", o)
	}
	if _, off := o.DueAt.Zone(); off != 8*3600 || !o.DueAt.Equal(time.Date(2027, 1, 20, 0, 0, 0, 0, testclock.Zone)) || !o.RatedAt.Equal(ratedAt) {
		t.Fatalf("due at %v, rated at %v", o.DueAt, o.RatedAt)
	}
	if got := w.orders("wu-token"); len(got) != 1 || got[0].Hall != "h1" {
		t.Fatalf("h1's supervisor sees %+v", got)
	}
	if got := w.orders("li-token"); len(got) != 1 || got[0].Matter != "M1" || got[0].MatterName.ZH != "换证" || got[0].Due != "2027-01-18" {
		t.Fatalf("h2's supervisor sees %+v", got)
	}
	path := "/api/v1/staff/workorders/" + o.ID
	w.refused(403, workorders.ReasonNotYours, "GET", path, "li-token", nil)
	w.refused(403, workorders.ReasonNotYours, "POST", path+"/followup", "li-token", workorders.FollowUpRequest{How: "phone", Said: "x", Result: "y"})
	w.refused(403, workorders.ReasonNotYours, "GET", "/api/v1/staff/workorders?hall=h1", "li-token", nil)
	w.refused(404, workorders.ReasonUnknownOrder, "GET", "/api/v1/staff/workorders/wo00", "ops-token", nil)
	if st, _ := w.do("GET", path, "", nil); st != 401 {
		t.Fatalf("no token: %d", st)
	}

	// Closing before a follow-up is refused; bad follow-ups name the field.
	w.refused(409, workorders.ReasonNotFollowed, "POST", path+"/close", "wu-token", workorders.CloseRequest{Note: "done"})
	if e := w.refused(400, workorders.ReasonBadField, "POST", path+"/followup", "wu-token", workorders.FollowUpRequest{How: "email", Said: "x", Result: "y"}); e.Field != "how" {
		t.Fatalf("field %q", e.Field)
	}
	if e := w.refused(400, workorders.ReasonBadField, "POST", path+"/followup", "wu-token", workorders.FollowUpRequest{How: "phone", Said: " ", Result: "y"}); e.Field != "said" {
		t.Fatalf("field %q", e.Field)
	}
	if e := w.refused(400, workorders.ReasonBadField, "POST", path+"/followup", "wu-token",
		workorders.FollowUpRequest{How: "phone", Said: "x", Result: "y", At: w.Clock.Now().Add(time.Hour)}); e.Field != "at" {
		t.Fatalf("field %q", e.Field)
	}
	w.refused(400, workorders.ReasonBadJSON, "POST", path+"/followup", "wu-token", `{"how":"phone","mood":1}`)
	if got, _ := w.svcs[0].Get(context.Background(), o.ID); got.Status != workorders.Open || len(got.FollowUps) != 0 {
		t.Fatalf("a refused follow-up changed the order: %+v", got)
	}

	w.Clock.Advance(24 * time.Hour)
	var fu workorders.Order
	w.must(200, "POST", path+"/followup", "wu-token", workorders.FollowUpRequest{How: "phone", Said: "窗口人少，等了一小时", Result: "已致歉，增开窗口"}, &fu)
	if fu.Status != workorders.FollowedUp || len(fu.FollowUps) != 1 || fu.FollowUps[0].By != "wu" || fu.FollowUps[0].How != "phone" {
		t.Fatalf("followed up %+v", fu)
	}
	var closed workorders.Order
	w.must(200, "POST", path+"/close", "wu-token", workorders.CloseRequest{Note: "市民满意"}, &closed)
	if closed.Status != workorders.Closed || closed.Closed == nil || closed.Closed.By != "wu" || closed.Closed.Note != "市民满意" {
		t.Fatalf("closed %+v", closed)
	}
	w.refused(409, workorders.ReasonClosed, "POST", path+"/close", "wu-token", workorders.CloseRequest{Note: "again"})
	w.refused(409, workorders.ReasonClosed, "POST", path+"/followup", "wu-token", workorders.FollowUpRequest{How: "visit", Said: "x", Result: "y"})

	// Audited: the follow-up and the closing, by wu at h1.
	al, _ := audit.Open(context.Background(), w.JS, 1)
	es, err := al.Recent(context.Background(), audit.Filter{Halls: []string{"h1"}})
	if err != nil || len(es) != 2 || es[0].Action != audit.WorkOrderClosed || es[1].Action != audit.WorkOrderFollowUp || es[0].Who != "wu" || es[0].Target != o.ID || es[0].Reason != "市民满意" {
		t.Fatalf("audit %+v %v", es, err)
	}
}

func TestAnOrderNotClosedAfter15WorkingDaysIsAnAlert(t *testing.T) {
	w := mustWorld(t, 1)
	w.rated("h1", 1, ticket("t1", "A001", &hall.Rating{Score: 1, Reason: "x", Channel: hall.ViaKiosk, At: w.Clock.Now()}))
	eventually(t, "an order", func() bool { return len(w.orders("wu-token")) == 1 })
	alerts := func(token string) []workorders.Alert {
		var a struct{ Alerts []workorders.Alert }
		w.must(200, "GET", "/api/v1/staff/workorders/alerts", token, nil, &a)
		return a.Alerts
	}
	// The last minute of the 15th working day (the holiday in between does not count).
	w.Clock.Set(time.Date(2027, 1, 19, 23, 59, 0, 0, testclock.Zone))
	if a := alerts("ops-token"); len(a) != 0 {
		t.Fatalf("alerts on the last day %+v", a)
	}
	w.Clock.Set(time.Date(2027, 1, 20, 0, 0, 0, 0, testclock.Zone))
	a := alerts("ops-token")
	if len(a) != 1 || a[0].Kind != "workorder_overdue" || a[0].Hall != "h1" || a[0].Due != "2027-01-19" {
		t.Fatalf("alerts %+v", a)
	}
	if a := alerts("li-token"); len(a) != 0 {
		t.Fatalf("h2's supervisor sees h1's alerts %+v", a)
	}
	var l list
	w.must(200, "GET", "/api/v1/staff/workorders?status=overdue", "wu-token", nil, &l)
	if len(l.Orders) != 1 || !l.Orders[0].Overdue {
		t.Fatalf("overdue %+v", l.Orders)
	}
	w.refused(400, workorders.ReasonBadField, "GET", "/api/v1/staff/workorders?status=late", "wu-token", nil)
	// Followed up and closed late: no longer an alert.
	id := l.Orders[0].ID
	w.must(200, "POST", "/api/v1/staff/workorders/"+id+"/followup", "ops-token", workorders.FollowUpRequest{How: "visit", Said: "x", Result: "y"}, nil)
	if a := alerts("ops-token"); len(a) != 1 {
		t.Fatalf("a followed-up order past its deadline is still overdue: %+v", a)
	}
	w.must(200, "POST", "/api/v1/staff/workorders/"+id+"/close", "ops-token", workorders.CloseRequest{Note: "z"}, nil)
	if a := alerts("ops-token"); len(a) != 0 {
		t.Fatalf("alerts after closing %+v", a)
	}
}

func TestDeadlineCountsTheHallsWorkingDays(t *testing.T) {
	day := []calendar.Span{{From: "09:00", To: "17:00"}}
	c := calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day},
		Holidays: []string{"2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"}, Workdays: []string{"2026-10-10"},
		Closures: []calendar.Closure{{Day: "2026-10-12", Reason: catalog.Text{ZH: "停电", EN: "Power cut"}}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		from time.Time
		n    int
		want string
	}{
		{time.Date(2026, 9, 30, 16, 0, 0, 0, testclock.Zone), 1, "2026-10-08"},
		{time.Date(2026, 9, 30, 16, 0, 0, 0, testclock.Zone), 3, "2026-10-10"}, // 8, 9, Saturday 10 (调休)
		{time.Date(2026, 9, 30, 16, 0, 0, 0, testclock.Zone), 4, "2026-10-13"}, // the 12th is closed
		{time.Date(2026, 10, 8, 23, 30, 0, 0, time.UTC), 1, "2026-10-10"},      // the 9th in the hall's zone: the days count from there
	} {
		got, end := workorders.Deadline(&c, tc.from, tc.n)
		d, _ := time.ParseInLocation("2006-01-02", tc.want, testclock.Zone)
		if got != tc.want || !end.Equal(d.AddDate(0, 0, 1)) {
			t.Errorf("%v + %d: %s %v, want %s", tc.from, tc.n, got, end, tc.want)
		}
	}
}

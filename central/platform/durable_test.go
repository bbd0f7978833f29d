package platform_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/queue-server/hall"
)

// mustProcess starts a central process joined to the NATS servers at urls
// and stops it at the end of the test (unless the test killed it).
func mustProcess(t testing.TB, urls string, o platform.Config) *platform.Process {
	t.Helper()
	o.NATSURLs, o.HTTP = urls, "127.0.0.1:0"
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.Views.LeaseTTL == 0 {
		o.Views.LeaseTTL = 2 * time.Second
	}
	if o.Views.Partitions == 0 {
		o.Views.Partitions = 8
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := platform.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}

func mustEmbedded(t testing.TB) (*natsembed.Server, jetstream.JetStream) {
	t.Helper()
	srv, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	nc, err := nats.Connect(srv.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return srv, js
}

// checkSim checks every view of a simulated hall through the API against
// what its events must give: the dedupe counters, the live status, the
// public status of every ticket and today's figures.
func checkSim(t *testing.T, base, admin string, h *simHall) {
	t.Helper()
	var d platform.HallDetail
	if code := getJSON(t, base+"/api/v1/halls/"+h.ID, admin, &d); code != 200 {
		t.Fatalf("GET hall %s: %d", h.ID, code)
	}
	n := uint64(len(h.Events))
	if d.LastSeq != n || d.Events != n || d.Duplicates != 0 || d.Gaps != 0 || d.BadIDs != 0 || d.Superseded != 0 || d.Unreadable != 0 {
		t.Fatalf("hall %s: last %d events %d dup %d gaps %d %v bad %d superseded %d, want %d exactly once",
			h.ID, d.LastSeq, d.Events, d.Duplicates, d.Gaps, d.GapRanges, d.BadIDs, d.Superseded, n)
	}
	a := d.Today["A"]
	if a == nil || a.Issued != len(h.Tickets) || a.Served != h.served() || a.Ratings[5] != h.rated() || a.WaitN != h.served() ||
		a.ServiceN != h.served() || a.ServiceSumS != float64(120*h.served()) {
		t.Fatalf("hall %s today: %+v, want issued %d served %d rated %d", h.ID, a, len(h.Tickets), h.served(), h.rated())
	}
	if d.Waiting != 3 || d.OpenWindows != 1 || len(d.Services) != 1 || d.Services[0].Waiting != 3 || *d.Services[0].EstimatedWaitS != 360 {
		t.Fatalf("hall %s live: %+v", h.ID, d.HallSummary)
	}
	for i, id := range h.Tickets {
		if i%25 != 0 && i < len(h.Tickets)-3 {
			continue
		}
		var ts platform.TicketStatus
		if code := getJSON(t, base+"/api/v1/tickets/"+id, "", &ts); code != 200 {
			t.Fatalf("GET ticket %s: %d", id, code)
		}
		if i < len(h.Tickets)-3 {
			if ts.Status != "done" || ts.Window != 1 || ts.PeopleAhead != nil || ts.Number != fmt.Sprintf("A%03d", i+1) {
				t.Fatalf("ticket %d: %+v", i, ts)
			}
			continue
		}
		ahead := i - (len(h.Tickets) - 3)
		if ts.Status != "waiting" || ts.PeopleAhead == nil || *ts.PeopleAhead != ahead || ts.EstimatedWaitS == nil || *ts.EstimatedWaitS != ahead*120 {
			t.Fatalf("waiting ticket %d: %+v", i, ts)
		}
	}
}

// Ten thousand events from four halls, applied by central processes that
// are killed (as a crash: their leases run out) and stopped and started
// while the halls forward: every view exact, 0 gaps, 0 duplicates.
func TestViewsExactWhileProcessesRestart(t *testing.T) {
	srv, js := mustEmbedded(t)
	staff, admin, _ := staffFile(t, "H-1")
	cfg := platform.Config{StaffTokens: staff}
	p1 := mustProcess(t, srv.URL(), cfg)
	p2 := mustProcess(t, srv.URL(), cfg)
	halls := []*simHall{newSimHall("H-1", 580), newSimHall("H-2", 580), newSimHall("H-3", 580), newSimHall("H-4", 580)}
	total := 0
	for _, h := range halls {
		total += len(h.Events)
	}
	if total < 10000 {
		t.Fatalf("only %d events", total)
	}
	var wg sync.WaitGroup
	ctx := t.Context()
	for _, h := range halls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half, then the first quarter again (a hall re-publishing after a
			// crash: the stream drops the copies), then the rest.
			h.publish(ctx, t, js, 0, len(h.Events)/2, 200)
			h.publish(ctx, t, js, 0, len(h.Events)/4, 200)
			h.publish(ctx, t, js, len(h.Events)/2, len(h.Events), 200)
		}()
	}
	waitAny := func(seq uint64) {
		for _, h := range halls {
			waitHall(t, p1, h.ID, seq)
		}
	}
	waitAny(300)
	p1.Kill() // a crash: nothing handed back
	p3 := mustProcess(t, srv.URL(), cfg)
	waitHall(t, p3, "H-2", 1200)
	p2.Stop() // a clean stop hands its partitions back
	p4 := mustProcess(t, srv.URL(), cfg)
	waitHall(t, p4, "H-3", 1800)
	p3.Kill()
	p5 := mustProcess(t, srv.URL(), cfg)
	wg.Wait()
	for _, h := range halls {
		waitHall(t, p5, h.ID, uint64(len(h.Events)))
	}
	// Both live processes answer the same, from JetStream.
	for _, p := range []*platform.Process{p4, p5} {
		deadline := time.Now().Add(10 * time.Second)
		for _, h := range halls {
			for {
				if st, ok := p.Views.Hall(h.ID); ok && st.LastSeq == uint64(len(h.Events)) || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			checkSim(t, p.URL(), admin, h)
		}
	}
	var alerts struct{ Alerts []platform.Alert }
	getJSON(t, p5.URL()+"/api/v1/alerts", admin, &alerts)
	for _, a := range alerts.Alerts {
		if a.Kind != "silent" { // the simulated day is long past: its windows stand open
			t.Fatalf("alerts: %+v", alerts.Alerts)
		}
	}
	// Restarting every process changes nothing: nothing is applied twice.
	p4.Stop()
	p5.Stop()
	p6 := mustProcess(t, srv.URL(), cfg)
	time.Sleep(500 * time.Millisecond) // give a wrong re-apply the chance to show
	for _, h := range halls {
		checkSim(t, p6.URL(), admin, h)
	}
}

// A gap and a duplicate are counted, alerted and exported as metrics,
// never absorbed; a restored hall (new epoch) is applied from its new
// numbers and its old store's late events are superseded.
func TestGapsDuplicatesAndEpochsAreAlerted(t *testing.T) {
	srv, js := mustEmbedded(t)
	staff, admin, super := staffFile(t, "G-1")
	p := mustProcess(t, srv.URL(), platform.Config{StaffTokens: staff})
	h := newSimHall("G-1", 10)
	h.publish(t.Context(), t, js, 0, 5, 10)
	// a copy of seq 3 outside the duplicate window (another message id)
	// (a message id that does not name the event is counted, and the copy
	// judged by its seq alone)
	dup := h.msg(2)
	if _, err := js.PublishMsg(t.Context(), &nats.Msg{Subject: dup.Subject, Data: dup.Data}, jetstream.WithMsgID("G-1:3#copy@"+h.Epoch)); err != nil {
		t.Fatal(err)
	}
	h.publish(t.Context(), t, js, 7, 9, 10) // seqs 6 and 7 missing
	// restored from a backup: a new epoch numbering on from 9
	restored := *h
	restored.Epoch = "0123456789abcdef"
	restored.publish(t.Context(), t, js, 9, 10, 10)
	h.publish(t.Context(), t, js, 10, 11, 10) // the lost store's late event: superseded
	waitHall(t, p, "G-1", 10)
	var d platform.HallDetail
	for deadline := time.Now().Add(10 * time.Second); d.Superseded == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		getJSON(t, p.URL()+"/api/v1/halls/G-1", admin, &d)
	}
	if d.Gaps != 2 || len(d.GapRanges) != 1 || d.GapRanges[0] != "6-7" || d.Duplicates != 1 || d.BadIDs != 1 || d.Restores != 1 || d.Superseded != 1 || d.Epoch != restored.Epoch {
		t.Fatalf("hall: %+v", d)
	}
	var alerts struct{ Alerts []platform.Alert }
	getJSON(t, p.URL()+"/api/v1/alerts", super, &alerts)
	kinds := map[string]uint64{}
	for _, a := range alerts.Alerts {
		kinds[a.Kind] = a.Count
	}
	if kinds["gap"] != 2 || kinds["duplicate"] != 1 || kinds["bad_msg_id"] != 1 || kinds["restored"] != 1 || kinds["superseded"] != 1 ||
		kinds["silent"] != 1 { // window 1 open, and the last event days ago
		t.Fatalf("alerts: %+v", alerts.Alerts)
	}
	res, err := http.Get(p.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), `hallq_central_hall_gaps_total{hall="G-1"} 2`) {
		t.Fatalf("metrics:\n%s", body)
	}
}

// A copy of an applied event under another message id (outside the
// duplicate window) is a duplicate: counted, not applied.
func TestDuplicateCopyIsCounted(t *testing.T) {
	srv, js := mustEmbedded(t)
	staff, admin, _ := staffFile(t, "D-1")
	p := mustProcess(t, srv.URL(), platform.Config{StaffTokens: staff})
	h := newSimHall("D-1", 3)
	h.publish(t.Context(), t, js, 0, 3, 10)
	m := h.msg(1)
	m.Header.Set(jetstream.MsgIDHeader, "D-1:2@"+h.Epoch) // same id, dropped by the stream
	if _, err := js.PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	// a copy of seq 2 that the stream stores again (here: under a message id
	// that does not name the event, which is counted too)
	if _, err := js.PublishMsg(t.Context(), &nats.Msg{Subject: m.Subject, Data: m.Data}, jetstream.WithMsgID("D-1:2-late@"+h.Epoch)); err != nil {
		t.Fatal(err)
	}
	h.publish(t.Context(), t, js, 3, 4, 10)
	waitHall(t, p, "D-1", 4)
	var d platform.HallDetail
	getJSON(t, p.URL()+"/api/v1/halls/D-1", admin, &d)
	if d.Duplicates != 1 || d.BadIDs != 1 || d.Events != 4 || d.Today["A"].Issued != 3 {
		t.Fatalf("hall: %+v %+v", d, d.Today["A"])
	}
}

// Every bad request gets a precise error in the one shape; staff routes
// check who asks.
func TestAPIRefusals(t *testing.T) {
	srv, js := mustEmbedded(t)
	staff, admin, super := staffFile(t, "R-1")
	p := mustProcess(t, srv.URL(), platform.Config{StaffTokens: staff})
	h := newSimHall("R-1", 4)
	h.publish(t.Context(), t, js, 0, len(h.Events), 50)
	other := newSimHall("R-2", 1)
	other.publish(t.Context(), t, js, 0, len(other.Events), 50)
	waitHall(t, p, "R-1", uint64(len(h.Events)))
	waitHall(t, p, "R-2", uint64(len(other.Events)))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, ok := p.Views.Hall("R-2"); ok || time.Now().After(deadline) {
			break
		}
	}
	if st, err := p.Buckets.Tickets.Status(t.Context()); err != nil || st.TTL() != 48*time.Hour {
		t.Fatalf("tickets are kept for the day and a margin: %v %v", st, err)
	}
	type apiErr struct {
		Error struct{ Code, Message string }
	}
	for _, c := range []struct {
		method, path, token string
		status              int
		code, says          string
	}{
		{"GET", "/api/v1/tickets/bad.id", "", 400, "invalid", "ticket id"},
		{"GET", "/api/v1/tickets/nosuchticket", "", 404, "not_found", "nosuchticket"},
		{"GET", "/api/v1/halls?x=1", "", 400, "invalid", `"x"`},
		{"POST", "/api/v1/halls", "", 405, "method_not_allowed", "POST"},
		{"GET", "/api/v1/nothing", "", 404, "not_found", "/api/v1/nothing"},
		{"GET", "/api/v1/halls/R-1", "", 401, "unauthorized", "bearer"},
		{"GET", "/api/v1/halls/R-1", "wrong", 401, "unauthorized", "refused"},
		{"GET", "/api/v1/halls/R-2", super, 403, "forbidden", "R-2"},
		{"GET", "/api/v1/halls/R-9", admin, 404, "not_found", "R-9"},
		{"GET", "/api/v1/alerts", "", 401, "unauthorized", "bearer"},
		{"GET", "/api/v1/reports?hall=R-1&from=2026-11-27", admin, 400, "invalid", "to:"},
		{"GET", "/api/v1/reports?hall=R-1&from=2026-11-31&to=2026-12-01", admin, 400, "invalid", "from:"},
		{"GET", "/api/v1/reports?hall=R-1&from=2026-11-28&to=2026-11-27", admin, 400, "invalid", "before"},
		{"GET", "/api/v1/reports?from=2026-11-27&to=2026-11-27", admin, 400, "invalid", "hall is required"},
		{"GET", "/api/v1/reports?hall=R-1&from=2026-11-27&to=2026-11-27&format=xml", admin, 400, "invalid", "format"},
		{"GET", "/api/v1/reports?hall=R-1&from=2026-11-27&to=2026-11-27&sort=day", admin, 400, "invalid", `"sort"`},
		{"GET", "/api/v1/reports?hall=R-2&from=2026-11-27&to=2026-11-27", super, 403, "forbidden", "R-2"},
	} {
		req, _ := http.NewRequest(c.method, p.URL()+c.path, nil)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e apiErr
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		_ = jsonUnmarshal(body, &e)
		if res.StatusCode != c.status || e.Error.Code != c.code || !strings.Contains(e.Error.Message, c.says) {
			t.Errorf("%s %s: %d %s, want %d %s saying %q", c.method, c.path, res.StatusCode, body, c.status, c.code, c.says)
		}
	}
	// The supervisor sees their hall's alerts only, and its report, also as CSV.
	var list struct{ Halls []platform.HallSummary }
	if getJSON(t, p.URL()+"/api/v1/halls", "", &list); len(list.Halls) != 2 || list.Halls[0].Hall != "R-1" || list.Halls[0].Waiting != 3 {
		t.Fatalf("public list: %+v", list)
	}
	var rep struct{ Rows []platform.ReportRow }
	if code := getJSON(t, p.URL()+"/api/v1/reports?hall=R-1&from=2026-11-27&to=2026-11-27", super, &rep); code != 200 || len(rep.Rows) != 1 ||
		rep.Rows[0].Issued != 4 || rep.Rows[0].Served != 1 || rep.Rows[0].MeanServiceS != 120 || rep.Rows[0].Ratings[5] != 1 {
		t.Fatalf("report: %d %+v", code, rep)
	}
	res, err := http.Get(p.URL() + "/api/v1/reports?hall=R-1&from=2026-11-01&to=2026-11-30&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("CSV without a token: %d", res.StatusCode)
	}
	req, _ := http.NewRequest("GET", p.URL()+"/api/v1/reports?hall=R-1&from=2026-11-01&to=2026-11-30&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || len(recs) != 2 || recs[0][0] != "hall" || recs[1][0] != "R-1" || recs[1][3] != "4" || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("CSV: %v %q", err, recs)
	}
}

// A new hall day closes the previous one into central_days (with its
// bookings that never arrived counted as missed) and today starts at zero.
func TestDayRolloverKeepsTheClosedDay(t *testing.T) {
	srv, js := mustEmbedded(t)
	staff, admin, _ := staffFile(t, "N-1")
	p := mustProcess(t, srv.URL(), platform.Config{StaffTokens: staff})
	h := newSimHall("N-1", 4)
	at := h.Events[len(h.Events)-1].At
	// Booking events as the hall writes them: v1 spells the field
	// "appointment", the renamed hall "booking"; the central reads both.
	book := func(id, status, spelling string) hall.Event {
		return hall.Event{Type: spelling + ".upserted", At: at, Day: h.Day, Reason: `{"` + spelling + `":{"id":"` + id + `","service":"A","status":"` + status + `"}}`}
	}
	h.Events = append(h.Events, book("BK-1", hall.BookingBooked, "booking"), book("BK-2", hall.BookingBooked, "appointment"),
		book("BK-2", hall.BookingCheckedIn, "booking"), book("BK-3", hall.BookingBooked, "booking"), book("BK-3", hall.BookingCancelled, "appointment"))
	next := &hall.Ticket{ID: "n-1-next", Number: "A001", Service: "A", Day: "2026-11-28", Status: hall.Waiting, IssuedAt: at.Add(24 * time.Hour), QueuedAt: at.Add(24 * time.Hour)}
	h.Events = append(h.Events, hall.Event{Type: hall.EvTicketIssued, At: at.Add(24 * time.Hour), Day: "2026-11-28", Ticket: next})
	for i := range h.Events {
		h.Events[i].Seq = uint64(i + 1)
	}
	h.publish(t.Context(), t, js, 0, len(h.Events), 50)
	waitHall(t, p, "N-1", uint64(len(h.Events)))
	var rep struct{ Rows []platform.ReportRow }
	getJSON(t, p.URL()+"/api/v1/reports?hall=N-1&from=2026-11-27&to=2026-11-28", admin, &rep)
	if len(rep.Rows) != 2 || rep.Rows[0].Day != "2026-11-27" || rep.Rows[0].Issued != 4 || rep.Rows[0].BookingsBooked != 2 ||
		rep.Rows[0].BookingsArrived != 1 || rep.Rows[0].BookingsMissed != 1 || rep.Rows[1].Day != "2026-11-28" || rep.Rows[1].Issued != 1 {
		t.Fatalf("report: %+v", rep.Rows)
	}
	var d platform.HallDetail
	getJSON(t, p.URL()+"/api/v1/halls/N-1", admin, &d)
	if d.Day != "2026-11-28" || d.Waiting != 1 {
		t.Fatalf("today: %+v", d.HallSummary)
	}
}

package platform_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"hallq/central/platform"
	"hallq/queue-server/hall"
)

// dashHalls feeds two halls: 420106-01 has a day 2026-11-27 (six walk-ins,
// and a visit of service B with two matters, one rated 2 online) and is
// on 2026-12-01 with one ticket waiting since 10:00; 420111-02 has only
// its 2026-11-27 (five tickets, two served) and is silent since.
func dashHalls(t *testing.T) (p *platform.Process, admin, sup string) {
	t.Helper()
	srv, js := mustEmbedded(t)
	staff, admin, sup := staffFile(t, "420106-01")
	now := time.Date(2026, 12, 1, 10, 45, 0, 0, shanghai)
	p = mustProcess(t, srv.URL(), platform.Config{StaffTokens: staff, Now: func() time.Time { return now }})
	h := newSimHall("420106-01", 6)
	at := h.Events[len(h.Events)-1].At
	mt := &hall.Ticket{ID: "mt-1", Number: "B001", Service: "B", Day: h.Day, Status: hall.Waiting, IssuedAt: at, QueuedAt: at,
		Matters: []hall.VisitMatter{{Code: "M-passport", Services: []string{"B"}}, {Code: "=SUM(1)", Services: []string{"B"}}}}
	h.Events = append(h.Events, hall.Event{Type: hall.EvTicketIssued, At: at, Day: h.Day, Ticket: clone(mt)})
	mt.Status, mt.Window, mt.CalledAt, mt.StartedAt = hall.Called, 1, at.Add(time.Minute), at.Add(time.Minute)
	mt.Status, mt.FinishedAt = hall.Done, at.Add(5*time.Minute)
	mt.Matters[0].Outcome, mt.Matters[1].Outcome = hall.OutcomeDone, hall.OutcomeIncomplete
	h.Events = append(h.Events, hall.Event{Type: hall.EvTicketCompleted, At: mt.FinishedAt, Day: h.Day, Ticket: clone(mt)})
	mt.Matters = slices.Clone(mt.Matters)
	mt.Matters[0].Rating = &hall.Rating{Score: 2, Reason: "slow", Channel: hall.ViaOnline, At: at.Add(6 * time.Minute)}
	h.Events = append(h.Events, hall.Event{Type: hall.EvTicketRated, At: at.Add(6 * time.Minute), Day: h.Day, Ticket: clone(mt)})
	next := time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai)
	nt := &hall.Ticket{ID: "next-1", Number: "A001", Service: "A", Day: "2026-12-01", Status: hall.Waiting, IssuedAt: next, QueuedAt: next}
	h.Events = append(h.Events, hall.Event{Type: hall.EvTicketIssued, At: next, Day: "2026-12-01", Ticket: nt},
		hall.Event{Type: hall.EvWindowOpened, At: next.Add(40 * time.Minute), Day: "2026-12-01",
			Window: &hall.Window{Number: 2, Services: []string{"A"}, Status: hall.WindowOpen, Since: next.Add(40 * time.Minute)}})
	for i := range h.Events {
		h.Events[i].Seq = uint64(i + 1)
	}
	h.publish(t.Context(), t, js, 0, len(h.Events), 50)
	other := newSimHall("420111-02", 5)
	other.publish(t.Context(), t, js, 0, len(other.Events), 50)
	waitHall(t, p, "420106-01", uint64(len(h.Events)))
	waitHall(t, p, "420111-02", uint64(len(other.Events)))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		a, _ := p.Views.Hall("420106-01")
		b, _ := p.Views.Hall("420111-02")
		if a != nil && b != nil && a.LastSeq == uint64(len(h.Events)) && b.LastSeq == uint64(len(other.Events)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the read copy did not catch up")
		}
	}
	return p, admin, sup
}

func clone(t *hall.Ticket) *hall.Ticket { c := *t; c.Matters = slices.Clone(t.Matters); return &c }

// The overview shows every hall's longest wait, SLA breaches against the
// target, today's arrivals and waits by hour and the forwarding alerts;
// a supervisor sees their halls only.
func TestOverview(t *testing.T) {
	p, admin, sup := dashHalls(t)
	var ov platform.Overview
	if code := getJSON(t, p.URL()+"/api/v1/overview", admin, &ov); code != 200 || len(ov.Halls) != 2 {
		t.Fatalf("overview: %d %+v", code, ov)
	}
	if ov.SLATargetS != 1800 || ov.SilentAfterS != 600 || ov.Now.Format(time.RFC3339) != "2026-12-01T10:45:00+08:00" {
		t.Fatalf("overview settings: %+v", ov)
	}
	a, b := ov.Halls[0], ov.Halls[1]
	if a.Hall != "420106-01" || a.District != "420106" || a.Day != "2026-12-01" || a.Waiting != 1 || a.LongestWaitS != 45*60 ||
		a.SLABreaches != 1 || a.Issued != 1 || a.Arrivals[10] != 1 || a.OpenWindows != 2 || a.Silent || a.LagS != 300 {
		t.Fatalf("hall a: %+v", a)
	}
	if len(a.Services) != 1 || a.Services[0].Service != "A" || a.Services[0].LongestWaitS != 2700 || a.Services[0].SLABreaches != 1 {
		t.Fatalf("hall a services: %+v", a.Services)
	}
	// 420111-02: five issued at 09:00, two called within the hour, silent.
	if b.District != "420111" || b.Issued != 5 || b.Served != 2 || b.Arrivals[9] != 5 || b.MeanWaitByHourS[9] != 60 || b.Ratings[5] != 1 ||
		!b.Silent || !slices.ContainsFunc(b.Alerts, func(x platform.Alert) bool { return x.Kind == "silent" }) || b.LongestWaitS == 0 {
		t.Fatalf("hall b: %+v", b)
	}
	var mine platform.Overview
	if getJSON(t, p.URL()+"/api/v1/overview", sup, &mine); len(mine.Halls) != 1 || mine.Halls[0].Hall != "420106-01" {
		t.Fatalf("the supervisor sees: %+v", mine.Halls)
	}
	if code := getJSON(t, p.URL()+"/api/v1/overview?hall=420111-02", sup, nil); code != 403 {
		t.Fatalf("the supervisor asked for another hall: %d", code)
	}
	if getJSON(t, p.URL()+"/api/v1/overview?hall=420106-01", sup, &mine); len(mine.Halls) != 1 {
		t.Fatalf("one hall: %+v", mine.Halls)
	}
	for path, want := range map[string]int{"/api/v1/overview?hall=bad.id": 400, "/api/v1/overview?x=1": 400, "/api/v1/overview?hall=NOPE-1": 404} {
		if code := getJSON(t, p.URL()+path, admin, nil); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	if code := getJSON(t, p.URL()+"/api/v1/overview", "", nil); code != 401 {
		t.Errorf("no credentials: %d", code)
	}
}

// Reports by hall, service or matter per month, day or the whole range,
// as JSON and as CSV with formula-looking cells quoted.
func TestReportSummary(t *testing.T) {
	p, admin, sup := dashHalls(t)
	type rep struct{ Rows []platform.SummaryRow }
	var r rep
	fresh := func() *rep { r = rep{}; return &r }
	getJSON(t, p.URL()+"/api/v1/reports/summary?from=2026-11-01&to=2026-12-31", admin, fresh())
	if len(r.Rows) != 3 || r.Rows[0].Period != "2026-11" || r.Rows[0].Hall != "420106-01" || r.Rows[0].Issued != 7 || r.Rows[0].Ratings[2] != 1 ||
		r.Rows[0].Ratings[5] != 1 || r.Rows[1].Hall != "420111-02" || r.Rows[1].Issued != 5 || r.Rows[2].Period != "2026-12" || r.Rows[2].Issued != 1 {
		t.Fatalf("by hall and month: %+v", r.Rows)
	}
	getJSON(t, p.URL()+"/api/v1/reports/summary?from=2026-11-01&to=2026-12-31&by=service&group=all", admin, fresh())
	if len(r.Rows) != 2 || r.Rows[0].Period != "2026-11-01..2026-12-31" || r.Rows[0].Service != "A" || r.Rows[0].Hall != "" || r.Rows[0].Issued != 12 ||
		r.Rows[1].Service != "B" || r.Rows[1].Served != 1 || r.Rows[1].MeanServiceS != 240 || r.Rows[0].Served != 5 {
		t.Fatalf("by service, all: %+v", r.Rows)
	}
	getJSON(t, p.URL()+"/api/v1/reports/summary?from=2026-11-27&to=2026-11-27&by=hall,matter&group=day", admin, fresh())
	if len(r.Rows) != 2 || r.Rows[0].Matter != "=SUM(1)" || r.Rows[0].Incomplete != 1 || r.Rows[1].Matter != "M-passport" ||
		r.Rows[1].Handled != 1 || r.Rows[1].Done != 1 || r.Rows[1].Ratings[2] != 1 || r.Rows[1].Period != "2026-11-27" {
		t.Fatalf("by matter: %+v", r.Rows)
	}
	getJSON(t, p.URL()+"/api/v1/reports/summary?from=2026-11-01&to=2026-12-31", sup, fresh())
	if len(r.Rows) != 2 || r.Rows[0].Hall != "420106-01" || r.Rows[1].Hall != "420106-01" {
		t.Fatalf("the supervisor's report: %+v", r.Rows)
	}
	csvOf := func(query string) [][]string {
		req, _ := http.NewRequest("GET", p.URL()+"/api/v1/reports/summary?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(string(body), "\ufeff") {
			t.Fatalf("CSV %s: %d %s %q", query, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "\ufeff"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	recs := csvOf("from=2026-11-27&to=2026-11-27&by=hall,matter&group=day&format=csv")
	if !slices.Equal(recs[0], platform.SummaryMatterCSVHeader) || len(recs) != 3 || recs[1][3] != "'=SUM(1)" || recs[2][3] != "M-passport" || recs[2][4] != "1" {
		t.Fatalf("matter CSV: %q", recs)
	}
	recs = csvOf("from=2026-11-01&to=2026-12-31&format=csv")
	if !slices.Equal(recs[0], platform.SummaryCSVHeader) || len(recs) != 4 || recs[1][0] != "2026-11" || recs[1][1] != "420106-01" || recs[1][3] != "7" {
		t.Fatalf("CSV: %q", recs)
	}
	for path, want := range map[string]int{
		"?from=2026-11-01&to=2026-11-30&by=week":    400,
		"?from=2026-11-01&to=2026-11-30&group=week": 400,
		"?to=2026-11-30":                                          400,
		"?from=2026-11-01":                                        400,
		"?from=2026-11-30&to=2026-11-01":                          400,
		"?from=2020-01-01&to=2026-11-01":                          400,
		"?from=2026-11-01&to=2026-11-30&hall=bad.id":              400,
		"?from=2026-11-01&to=2026-11-30&format=xml":               400,
		"?from=2026-11-01&to=2026-11-30&sort=x":                   400,
		"?from=2026-11-01&to=2026-11-30&hall=420106-01":           200,
		"?from=2026-11-01&to=2026-11-30&hall=420111-02&by=matter": 200,
	} {
		if code := getJSON(t, p.URL()+"/api/v1/reports/summary"+path, admin, nil); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
	if code := getJSON(t, p.URL()+"/api/v1/reports/summary?from=2026-11-01&to=2026-11-30&hall=420111-02", sup, nil); code != 403 {
		t.Errorf("the supervisor asked for another hall's report: %d", code)
	}
}

// The command's -sla-target reaches the overview; a bad one is refused.
func TestMainSLATarget(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	staff, admin, _ := staffFile(t, "X-1")
	logs := &lineWriter{t: t, lines: make(chan string, 100)}
	errc := make(chan error, 1)
	go func() {
		errc <- platform.Main(ctx, []string{"-data", t.TempDir(), "-nats-listen", "127.0.0.1:0", "-http", "127.0.0.1:0",
			"-staff-tokens", staff, "-sla-target", "12m"}, logs)
	}()
	var api string
	for api == "" {
		select {
		case line := <-logs.lines:
			if strings.Contains(line, `msg="central view"`) {
				_, rest, _ := strings.Cut(line, "api=")
				api, _, _ = strings.Cut(rest, " ")
				api = strings.TrimSuffix(strings.TrimSpace(api), "/halls")
			}
		case err := <-errc:
			t.Fatalf("Main returned before serving: %v", err)
		}
	}
	var ov platform.Overview
	if code := getJSON(t, api+"/overview", admin, &ov); code != 200 || ov.SLATargetS != 720 {
		t.Fatalf("overview: %d %+v", code, ov)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := platform.Main(context.Background(), []string{"-sla-target", "soon"}, io.Discard); err == nil || !strings.Contains(err.Error(), "sla-target") {
		t.Fatalf("a bad -sla-target: %v", err)
	}
}

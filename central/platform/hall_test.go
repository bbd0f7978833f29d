package platform_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/central/platform"
	"hallq/internal/halltest"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
)

// A real hall (queue-server with its forwarder) forwards its day to an
// embedded central: the central's public and staff views say what the
// hall itself says — who waits where, with how many ahead, who was called
// to which window, the day's figures.
func TestRealHallViewsMatchTheHall(t *testing.T) {
	ctx := t.Context()
	staff, admin, _ := staffFile(t, "420102-01")
	p, err := platform.Start(ctx, platform.Config{DataDir: filepath.Join(t.TempDir(), "central"), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0", StaffTokens: staff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	h := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: p.NATS.URL()}
	}})
	if _, err := h.Admin.SetWindow(ctx, 1, string(hall.WindowOpen), ""); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 6 {
		tk, err := h.Admin.Issue(ctx, fmt.Sprint("issue-", i), hall.IssueRequest{Service: "E"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	called, ok, err := h.Admin.Call(ctx, "call-1", 1, "")
	if err != nil || !ok {
		t.Fatalf("call: %v %v", ok, err)
	}
	ev, err := h.Admin.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := ev.Events[len(ev.Events)-1].Seq
	st := waitHall(t, p, "420102-01", last)
	if st.Duplicates != 0 || st.Gaps != 0 || st.BadIDs != 0 || st.Epoch == "" {
		t.Fatalf("hall entry: %+v", st)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s, ok := p.Views.Hall("420102-01"); ok && s.LastSeq == last {
			break
		}
	}
	var d platform.HallDetail
	getJSON(t, p.URL()+"/api/v1/halls/420102-01", admin, &d)
	var e *platform.ServiceLive
	for i := range d.Services {
		if d.Services[i].Service == "E" {
			e = &d.Services[i]
		}
	}
	if e == nil || e.Waiting != 5 || e.OpenWindows != 1 || d.OpenWindows != 1 || d.Today["E"] == nil || d.Today["E"].Issued != 6 {
		t.Fatalf("hall detail: %+v (E: %+v)", d, e)
	}
	for i, id := range ids {
		var ts platform.TicketStatus
		if code := getJSON(t, p.URL()+"/api/v1/tickets/"+id, "", &ts); code != 200 {
			t.Fatalf("ticket %d: %d", i, code)
		}
		mine, err := h.Admin.Ticket(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Number != mine.Number || ts.Status != string(mine.Status) {
			t.Fatalf("ticket %d at the central %+v, at the hall %+v", i, ts, mine)
		}
		if id == called.ID {
			if ts.Window != 1 || ts.PeopleAhead != nil {
				t.Fatalf("called ticket: %+v", ts)
			}
			continue
		}
		if ts.PeopleAhead == nil || *ts.PeopleAhead != i-1 {
			t.Fatalf("ticket %d: %+v, want %d ahead", i, ts, i-1)
		}
	}
}

// "People ahead" at the central is the hall's own Position for every
// waiting ticket: a booking checked in is called first, then priority
// citizens, then a ticket transferred from another service, then walk-ins
// (hall.QueueClass). A central that ordered by priority and time alone
// told a citizen who had booked that walk-ins were ahead of them.
func TestPeopleAheadIsTheHallsPosition(t *testing.T) {
	ctx := t.Context()
	staff, _, _ := staffFile(t, "420102-01")
	p, err := platform.Start(ctx, platform.Config{DataDir: filepath.Join(t.TempDir(), "central"), NATSListen: "127.0.0.1:0", HTTP: "127.0.0.1:0", StaffTokens: staff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	h := halltest.RunHall(t, halltest.Options{OpenAll: true, Tweak: func(o *server.Options) {
		o.Forward = &forward.Config{NATSURL: p.NATS.URL()}
	}})
	issue := func(idem string, r hall.IssueRequest) hall.TicketView {
		t.Helper()
		tk, err := h.Admin.Issue(ctx, idem, r)
		if err != nil {
			t.Fatalf("issue %s: %v", idem, err)
		}
		h.Clock.Advance(time.Minute) // each later than the one before
		return tk
	}
	var ids []string
	for i := range 3 {
		ids = append(ids, issue(fmt.Sprint("walk-", i), hall.IssueRequest{Service: "E"}).ID)
	}
	moved := issue("other-service", hall.IssueRequest{Service: "B", CitizenKey: strings.Repeat("4", 64), MaskedID: "4201**********1234"})
	if _, err := h.Admin.Act(ctx, "move", moved.ID, hall.ActTransfer, &hall.Action{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, moved.ID, issue("walk-late", hall.IssueRequest{Service: "E"}).ID)
	ids = append(ids, issue("priority", hall.IssueRequest{Service: "E", Channel: hall.Priority}).ID)
	slot := h.Clock.Now().Add(10 * time.Minute)
	bk := map[string]any{"booking_id": "BK-ahead", "citizen_key": strings.Repeat("3", 64), "service": "E",
		"slot_start": slot.Format(time.RFC3339), "slot_end": slot.Add(30 * time.Minute).Format(time.RFC3339), "status": "booked"}
	if code, err := h.Admin.Do(ctx, "POST", "/api/v1/bookings", "", bk, nil); err != nil || code != 200 {
		t.Fatalf("booking: %d %v", code, err)
	}
	booked, err := h.Admin.CheckIn(ctx, "check-in", hall.CheckIn{Booking: "BK-ahead"})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, booked.ID)
	ev, err := h.Admin.Events(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := ev.Events[len(ev.Events)-1].Seq
	waitHall(t, p, "420102-01", last)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if s, ok := p.Views.Hall("420102-01"); ok && s.LastSeq == last {
			break
		}
	}
	positions := map[int]bool{}
	for _, id := range ids {
		mine, err := h.Admin.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		var ts platform.TicketStatus
		if code := getJSON(t, p.URL()+"/api/v1/tickets/"+id, "", &ts); code != 200 {
			t.Fatalf("ticket %s: %d", mine.Number, code)
		}
		if mine.Status != hall.Waiting || ts.PeopleAhead == nil || *ts.PeopleAhead != mine.Position {
			central := "none"
			if ts.PeopleAhead != nil {
				central = fmt.Sprint(*ts.PeopleAhead)
			}
			t.Errorf("%s (%s, %s): the hall says %d ahead, the central %s", mine.Number, mine.Channel, mine.Status, mine.Position, central)
		} else {
			positions[mine.Position] = true
		}
	}
	if booked, _ := h.Admin.Ticket(ctx, booked.ID); booked.Position != 0 || len(positions) != len(ids) {
		t.Errorf("the hall's own order is not what this test means: booked %d ahead, positions %v", booked.Position, positions)
	}
}

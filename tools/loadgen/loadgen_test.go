package loadgen_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"hallq/internal/halltest"
	"hallq/queue-server/hall"
	"hallq/tools/loadgen"
)

// TestHallDayThroughTheAPI starts a real hall (bbolt in a temp dir, open
// around the clock), plays a couple of hall hours at high speed through
// the command's Main, and checks that tickets were issued, called, served
// and rated through the API without a single server error.
func TestHallDayThroughTheAPI(t *testing.T) {
	s := halltest.RunHall(t, halltest.Options{OpenAll: true, Real: true})
	tokFile := s.TokenFile()

	var out, errs bytes.Buffer
	rc := loadgen.Main(context.Background(), []string{"-server", s.URL, "-token-file", tokFile,
		"-seed", "7", "-speed", "2400", "-duration", "4s", "-every", "1s"}, &out, &errs)
	t.Logf("loadgen output:\n%s%s", out.String(), errs.String())
	if rc != 0 {
		t.Fatalf("loadgen exit %d", rc)
	}
	for _, want := range []string{"tickets issued", "served", "no-shows", "rated"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("summary lacks %q", want)
		}
	}

	admin := s.Admin
	ctx := context.Background()
	counts := map[string]int{}
	for after := uint64(0); ; {
		page, err := admin.Events(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			counts[ev.Type]++
		}
		after = page.LastSeq
		if !page.More {
			break
		}
	}
	t.Logf("events in the hall's log: %v", counts)
	for _, typ := range []string{hall.EvTicketIssued, "ticket.called", "ticket.started", "ticket.completed", "ticket.rated", "window.opened", hall.EvBooking} {
		if counts[typ] == 0 {
			t.Errorf("no %s event after a hall day", typ)
		}
	}
	if tks, err := admin.Tickets(ctx); err != nil || len(tks) == 0 {
		t.Fatalf("tickets: %v %d", err, len(tks))
	}

	// The summary agrees with the hall, and nothing was a server error.
	sum, err := loadgen.Run(ctx, loadgen.Config{Server: s.URL, Token: s.Token, Seed: 8, Speed: 3600, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Issued == 0 || sum.Called == 0 || sum.Served == 0 || sum.Rated == 0 || sum.CheckedIn == 0 || sum.Priority == 0 {
		t.Fatalf("a hall day without traffic: %+v", sum)
	}
	if sum.ServerErrors != 0 || sum.Errors["internal"] != 0 {
		t.Fatalf("server errors: %+v", sum.Errors)
	}
	if sum.Events == 0 {
		t.Fatal("the board saw no events")
	}
}

package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/catalog"
	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// wire is an event as it is forwarded: its JSON.
func wire(t *testing.T, ev hall.Event) string {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Every event read back from the log — to forward it, to load the day, to
// answer a report — is the event committed, byte for byte in its wire
// form, whether stored whole or as a patch: through calls, recalls, starts,
// parks, transfers, requeues, no-shows, cancellations, matters and ratings,
// window pauses and closes, a restart of the store in the middle of the
// day (its bases are then read back from nowhere: the next events are
// whole), a day carried over, and the purge (which must leave exactly the
// committed events without their personal data). Most ticket events are
// stored as patches, or the log would be no smaller.
func TestEventsReadBackAsCommitted(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	cfg.Rules.CarryOver = true
	cfg.Matters = []catalog.Matter{{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"A"},
		Booking: catalog.BookingAllowed, Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}}}}}
	var mu sync.Mutex
	var committed []hall.Event
	onCommit := func(evs []hall.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs {
			b, _ := json.Marshal(ev) // a deep copy, as it was committed
			var c hall.Event
			json.Unmarshal(b, &c)
			committed = append(committed, c)
		}
	}
	clock := testclock.New(time.Date(2026, 11, 26, 8, 0, 0, 0, cst))
	rng := rand.New(rand.NewPCG(3, 4))
	var s *Store
	var svc *hall.Service
	start := func() {
		var err error
		if s, err = Open(dir); err != nil {
			t.Fatal(err)
		}
		if svc, err = hall.NewService(cfg, s, clock, onCommit); err != nil {
			t.Fatal(err)
		}
	}
	stop := func() { svc.Close(); s.Close() }
	start()
	for w := 1; w <= 3; w++ {
		svc.SetWindow(ctx, hall.Op{}, w, hall.WindowOpen, fmt.Sprint("clerk-", w), "")
	}
	work := func(n int) {
		for i := range n {
			clock.Advance(time.Duration(rng.IntN(300)) * time.Second)
			key, masked := citizen(i % 40)
			svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: []string{"A", "B", "E"}[rng.IntN(3)], CitizenKey: key, MaskedID: masked})
			w := 1 + rng.IntN(3)
			tk, ok, err := svc.Call(ctx, hall.Op{}, w, "")
			if err != nil || !ok {
				continue
			}
			act := func(a hall.Action) {
				a.Ticket = tk.ID
				clock.Advance(time.Duration(1+rng.IntN(200)) * time.Second)
				svc.Act(ctx, hall.Op{}, a)
			}
			switch rng.IntN(8) {
			case 0:
				act(hall.Action{Name: hall.ActRecall})
				act(hall.Action{Name: hall.ActNoShow})
			case 1:
				act(hall.Action{Name: hall.ActTransfer, Service: "E"})
			case 2:
				act(hall.Action{Name: hall.ActStart})
				act(hall.Action{Name: hall.ActTransfer, Window: 1 + rng.IntN(3)})
			case 3:
				act(hall.Action{Name: hall.ActRequeue})
			case 4:
				act(hall.Action{Name: hall.ActCancel, Reason: "left"})
			case 5:
				act(hall.Action{Name: hall.ActStart})
				act(hall.Action{Name: hall.ActPark})
				act(hall.Action{Name: hall.ActResume})
				act(hall.Action{Name: hall.ActComplete})
			default:
				act(hall.Action{Name: hall.ActStart})
				act(hall.Action{Name: hall.ActAddMatter, Matter: "hukou-move"})
				act(hall.Action{Name: hall.ActOutcome, Matter: "hukou-move", Outcome: hall.OutcomeDone})
				act(hall.Action{Name: hall.ActRate, Matter: "hukou-move", Score: 5, Via: hall.ViaWindowPad})
				act(hall.Action{Name: hall.ActComplete})
				act(hall.Action{Name: hall.ActRate, Score: 4, Via: hall.ViaWindowPad})
			}
			if rng.IntN(10) == 0 {
				svc.SetWindow(ctx, hall.Op{}, w, hall.WindowPaused, "", "break")
				svc.SetWindow(ctx, hall.Op{}, w, hall.WindowOpen, fmt.Sprint("clerk-", w), "")
			}
		}
		for range 5 { // left waiting: carried over
			svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
		}
	}
	work(60)
	stop()
	start() // the bases are gone with the process
	work(40)
	clock.Set(time.Date(2026, 11, 27, 8, 0, 0, 0, cst)) // the day ends, waiting tickets carry over
	work(30)
	stop()

	s = MustStore(t, dir)
	check := func(when string, want []hall.Event) {
		t.Helper()
		got, err := s.Events(0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d events read back, %d committed", when, len(got), len(want))
		}
		for i := range want {
			if g, w := wire(t, got[i]), wire(t, want[i]); g != w {
				t.Fatalf("%s: event %d read back as\n%s\ncommitted as\n%s", when, want[i].Seq, g, w)
			}
		}
	}
	check("as committed", committed)
	// a ticket's day starts with a whole event (issued, carried over); most
	// of the rest are patches
	patches, later := 0, 0
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bEvents).ForEach(func(k, v []byte) error {
			if bytes.Contains(v, []byte(`"type":"ticket.`)) && !bytes.Contains(v, []byte(`"type":"ticket.issued"`)) && !bytes.Contains(v, []byte(`"type":"ticket.carried_over"`)) {
				later++
				if v[0] == patchTag {
					patches++
				}
			}
			return nil
		})
	})
	if later == 0 || patches < later*2/3 {
		t.Fatalf("%d of %d ticket events after the first of their day are patches", patches, later)
	}
	for {
		n, err := s.PurgePersonal(time.Date(2026, 11, 27, 12, 0, 0, 0, cst), 50)
		if err != nil {
			t.Fatal(err)
		}
		if n < 50 {
			break
		}
	}
	var stripped []hall.Event
	for _, ev := range committed {
		b, _ := json.Marshal(ev)
		var c hall.Event
		json.Unmarshal(b, &c)
		if c.Day < "2026-11-27" && stripPersonal(&c) {
			c.Idem = nil
		}
		if c.Day < "2026-11-27" && c.Ticket != nil {
			c.Idem = nil // a patched ticket event loses its idempotency record too (retention.go)
		}
		stripped = append(stripped, c)
	}
	check("after the purge", stripped)
}

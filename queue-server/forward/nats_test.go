package forward_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

var provinceKey = []byte("province-key-for-tests-0123456789")

func TestSubjectAndMsgID(t *testing.T) {
	for typ, want := range map[string]string{
		hall.EvTicketIssued: "hall.420102-01.events.ticket.issued",
		hall.EvTicketNoShow: "hall.420102-01.events.ticket.no_show",
		"odd type*>":        "hall.420102-01.events.odd_type__",
		"":                  "hall.420102-01.events._",
		"a..b.":             "hall.420102-01.events.a._.b._",
	} {
		if got := forward.Subject(hallID, typ); got != want {
			t.Errorf("Subject(%q) = %q, want %q", typ, got, want)
		}
	}
	if got := forward.MsgID(hallID, 42); got != "420102-01:42" {
		t.Errorf("MsgID = %q", got)
	}
	for _, bad := range []string{"", "a.b", "a b", "a*", "a>"} {
		if forward.ValidHallID(bad) {
			t.Errorf("hall id %q accepted", bad)
		}
	}
}

// A day in the hall: every event arrives at the central once and in order,
// carrying only citizen keys: no ID number, no masked form (that would make
// a key easy to reverse for whoever holds the province key).
func TestNormalFlowArrivesOnceInOrder(t *testing.T) {
	c := MustCentral(t)
	h := MustHall(t, "", hall.SampleConfig(), nil)
	f, _ := h.StartForwarder(t, forward.Config{NATSURL: c.Srv.URL(), BatchSize: 7, Retention: time.Hour, CompactEvery: 10 * time.Millisecond})
	ctx := context.Background()

	var ids []string
	for i := range 12 {
		id := testID(i)
		key, err := platform.CitizenKey(provinceKey, id)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if _, err := h.Svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "A", CitizenKey: key, MaskedID: platform.MaskID(id)}); err != nil {
			t.Fatal(err)
		}
		h.Clock.Advance(time.Minute)
	}
	if _, err := h.Svc.SetWindow(ctx, hall.Op{}, 1, hall.WindowOpen, "wang", ""); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		tk, ok, err := h.Svc.Call(ctx, hall.Op{}, 1, "")
		if err != nil || !ok {
			t.Fatal(err)
		}
		for _, a := range []hall.Action{{Name: hall.ActStart}, {Name: hall.ActComplete}, {Name: hall.ActRate, Score: 5}} {
			a.Ticket = tk.ID
			if _, err := h.Svc.Act(ctx, hall.Op{}, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	last := h.LastSeq(t)
	v := c.CheckOracle(t, last)
	if v.Issued != 12 || v.Served != 3 || v.Ratings[5] != 3 || v.MeanWaitS <= 0 {
		t.Fatalf("view: %+v", v)
	}
	waitFor(t, "stats to show an empty backlog", 10*time.Second, func() bool { return f.Stats().Backlog == 0 })
	st := f.Stats()
	if !st.Connected || st.Sink != "nats" || st.ForwardedSeq != last || st.Sent != last || st.LastError != "" || st.OldestAgeS != 0 {
		t.Fatalf("stats: %+v", st)
	}

	// The message layout: subject per type, id header, event JSON.
	stream, _ := c.JS.Stream(ctx, platform.HallsStream)
	m, err := stream.GetLastMsgForSubject(ctx, "hall."+hallID+".events.ticket.issued")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get(jetstream.MsgIDHeader); got != forward.MsgID(hallID, 12) {
		t.Fatalf("last ticket.issued has id %q", got)
	}

	// No raw ID number left the hall: scan every forwarded payload.
	if got := findIDNumbers([]byte(`{"x":"` + ids[0] + `"}`)); len(got) != 1 {
		t.Fatalf("the ID scanner misses a planted ID: %v", got)
	}
	for seq := uint64(1); seq <= last; seq++ {
		raw, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if found := findIDNumbers(raw.Data); len(found) > 0 {
			t.Fatalf("event %d carries ID numbers %v", seq, found)
		}
		if bytes.Contains(raw.Data, []byte("**********")) {
			t.Fatalf("event %d carries a masked ID next to its citizen key: %s", seq, raw.Data)
		}
	}

	// Forwarded entries older than the retention are compacted.
	h.Clock.Advance(2 * time.Hour)
	f.Notify()
	// (the store empties first; the forwarder counts right after)
	waitFor(t, "compaction", 10*time.Second, func() bool {
		n, _, _ := h.Store.OutboxBytes()
		return n == 0 && f.Stats().Compacted == last
	})
}

// The central is down while the hall produces 10k events; when it comes
// back all of them arrive once and in order.
func TestCentralDownThenBacklogArrives(t *testing.T) {
	c := MustCentral(t)
	c.Down()
	h := MustHall(t, "", fastConfig(), nil)
	f, _ := h.StartForwarder(t, forward.Config{NATSURL: c.Srv.URL(), AckTimeout: 2 * time.Second})
	start := time.Now()
	h.Produce(t, 10_000)
	t.Logf("produced 10k events in %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, "the forwarder to report the outage", 10*time.Second, func() bool { return f.Stats().LastError != "" })
	st := f.Stats()
	if st.Connected || st.Backlog != 10_000 || st.OldestAgeS < 0 || st.Oldest.IsZero() {
		t.Fatalf("stats while down: %+v", st)
	}
	c.Up()
	start = time.Now()
	c.CheckOracle(t, 10_000)
	t.Logf("drained 10k events in %v", time.Since(start).Round(time.Millisecond))
	waitFor(t, "an empty backlog", 10*time.Second, func() bool { return f.Stats().Backlog == 0 })
	if v, _ := c.View.Hall(hallID); v.Issued != 10_000 {
		t.Fatalf("issued %d", v.Issued)
	}
}

// Until the stream stores one event, the forwarder publishes only the
// first event of its backlog: were the whole batch in flight when the stream
// appeared, a later event could be stored ahead of an earlier one that had
// failed (seen as a gap, then a duplicate, at the central). A plain NATS
// subscriber sees every publish attempt while the stream is missing.
func TestFirstEventGoesAloneUntilStored(t *testing.T) {
	c := mustNATS(t, natsembed.Options{Dir: t.TempDir()})
	var mu sync.Mutex
	var attempts []string // Nats-Msg-Id of each publish seen
	sub, err := c.NC.Subscribe("hall."+hallID+".events.>", func(m *nats.Msg) {
		mu.Lock()
		attempts = append(attempts, m.Header.Get(jetstream.MsgIDHeader))
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	c.NC.Flush()

	h := MustHall(t, "", fastConfig(), nil)
	h.Produce(t, 50)
	f, _ := h.StartForwarder(t, forward.Config{NATSURL: c.Srv.URL(), AckTimeout: 100 * time.Millisecond})
	waitFor(t, "three failed attempts", 10*time.Second, func() bool { return f.Stats().Errors >= 3 })
	sub.Unsubscribe()
	mu.Lock()
	for _, id := range attempts {
		if id != forward.MsgID(hallID, 1) {
			t.Errorf("published %s while the stream was missing; attempts %v", id, attempts)
			break
		}
	}
	mu.Unlock()

	c.createStreams()
	c.CheckOracle(t, 50)
}

// A hall killed after publishing but before marking re-publishes on
// restart; JetStream drops the copies, the central sees each event once.
func TestKilledBetweenPublishAndMark(t *testing.T) {
	c := MustCentral(t)
	h := MustHall(t, "", fastConfig(), nil)
	h.Produce(t, 300)
	cfg := forward.Config{HallID: hallID, NATSURL: c.Srv.URL()}
	f1, err := forward.New(cfg, h.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	acked, err := forward.PublishWithoutMark(context.Background(), f1)
	if err != nil || acked != 300 {
		t.Fatalf("published %d: %v", acked, err)
	}
	if st, _ := h.Store.OutboxStats(); st.Backlog != 300 {
		t.Fatalf("backlog %d after the crash, want 300", st.Backlog)
	}
	h.Produce(t, 50) // the restarted hall keeps working
	f2, _ := h.StartForwarder(t, forward.Config{NATSURL: c.Srv.URL(), BatchSize: 64})
	c.CheckOracle(t, 350)
	// (the forwarder marks a batch in the store, then counts it: wait for both)
	waitFor(t, "an empty backlog, every event counted", 10*time.Second, func() bool {
		st := f2.Stats()
		return st.Backlog == 0 && st.Sent >= 350
	})
	if st := f2.Stats(); st.Duplicates != 300 || st.Sent != 350 {
		t.Fatalf("stats after restart: %+v (want 300 duplicates dropped by JetStream)", st)
	}
}

// readAheadLog is the hall's store, counting the reads of the log that
// begin after an event not yet marked forwarded: batches read while the one
// before them is still in flight.
type readAheadLog struct {
	*store.Store
	mu    sync.Mutex
	ahead int
}

func (l *readAheadLog) Events(after uint64, limit int) ([]hall.Event, error) {
	st, err := l.Store.OutboxStats()
	if err != nil {
		return nil, err
	}
	if st.Forwarded < after {
		l.mu.Lock()
		l.ahead++
		l.mu.Unlock()
	}
	return l.Store.Events(after, limit)
}

// A backlog of 45 events in batches of 10: each batch after the first is
// read while the one before it is in flight, and still every event arrives
// once and in order, and the mark ends at the last one.
func TestNextBatchIsReadWhileOneIsInFlight(t *testing.T) {
	c := MustCentral(t)
	h := MustHall(t, "", fastConfig(), nil)
	h.Produce(t, 45)
	last := h.LastSeq(t)
	log := &readAheadLog{Store: h.Store}
	f, err := forward.New(forward.Config{HallID: hallID, NATSURL: c.Srv.URL(), BatchSize: 10, Retention: -1, Now: h.Clock.Now,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	goUntilCleanup(t, func(ctx context.Context) {
		if err := f.Run(ctx); err != nil {
			t.Errorf("forwarder: %v", err)
		}
	})
	c.CheckOracle(t, last)
	waitFor(t, "the mark at the last event", 10*time.Second, func() bool { st, _ := h.Store.OutboxStats(); return st.Forwarded == last })
	if st := f.Stats(); st.Sent != last || st.Duplicates != 0 || st.Errors != 0 {
		t.Fatalf("stats: %+v", st)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if want := int(last)/10 - 1; log.ahead < want {
		t.Fatalf("%d batches were read while the one before was in flight, want at least %d of %d events in batches of 10", log.ahead, want, last)
	}
}

package forward_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"hallq/queue-server/forward"
	"hallq/queue-server/store"
)

// markWatcher is the hall's real store; right after each real outbox mark
// it asks the forwarder for its Stats from another goroutine, as /metrics
// or the dashboard may at any moment.
type markWatcher struct {
	*store.Store
	fwd   atomic.Pointer[forward.Forwarder]
	snaps chan forward.Stats
}

func (m *markWatcher) MarkForwarded(seq uint64) error {
	if err := m.Store.MarkForwarded(seq); err != nil {
		return err
	}
	done := make(chan forward.Stats, 1)
	go func() { done <- m.fwd.Load().Stats() }()
	// A consistent Stats waits for the counters that go with this mark, so
	// it cannot answer before MarkForwarded returns; give an inconsistent
	// one the chance to answer first. Either way the snapshot is checked.
	t := time.NewTimer(50 * time.Millisecond)
	defer t.Stop()
	select {
	case s := <-done:
		m.snaps <- s
	case <-t.C:
		go func() { m.snaps <- <-done }()
	}
	return nil
}

// Every Stats snapshot counts in Sent exactly the events the outbox shows
// forwarded: a caller that sees the backlog empty sees all of it sent
// (TestNormalFlowArrivesOnceInOrder once failed on a busy machine because
// Sent was raised after the mark that Stats reads).
func TestStatsCountSentWithTheMark(t *testing.T) {
	c := MustCentral(t)
	h := MustHall(t, "", fastConfig(), nil)
	h.Produce(t, 40)
	last := h.LastSeq(t)
	w := &markWatcher{Store: h.Store, snaps: make(chan forward.Stats, 64)}
	f, err := forward.New(forward.Config{HallID: hallID, NATSURL: c.Srv.URL(), BatchSize: 10, Now: h.Clock.Now,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.fwd.Store(f)
	goUntilCleanup(t, func(ctx context.Context) {
		if err := f.Run(ctx); err != nil {
			t.Errorf("forwarder: %v", err)
		}
	})
	c.CheckOracle(t, last)
	for forwarded := uint64(0); forwarded < last; {
		s := <-w.snaps
		if s.Sent != s.ForwardedSeq {
			t.Fatalf("a snapshot shows seq %d forwarded (backlog %d) but %d sent", s.ForwardedSeq, s.Backlog, s.Sent)
		}
		forwarded = s.ForwardedSeq
	}
}

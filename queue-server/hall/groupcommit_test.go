package hall

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"hallq/internal/testclock"
)

// gateJournal holds its first commit until the gate opens and counts commits.
type gateJournal struct {
	memJournal
	gate    chan struct{}
	entered chan struct{}
	mu      sync.Mutex
	commits [][]Event
}

func (j *gateJournal) Commit(evs []Event) error {
	j.mu.Lock()
	first := len(j.commits) == 0
	j.commits = append(j.commits, evs)
	j.mu.Unlock()
	if first {
		close(j.entered)
		<-j.gate
	}
	return j.memJournal.Commit(evs)
}

// Batches applied while a commit is being synced are committed together in
// one transaction afterwards (one sync for all of them), not one commit
// each; no request is answered before its events are durable.
func TestBatchesQueuedDuringACommitShareTheNextOne(t *testing.T) {
	j := &gateJournal{gate: make(chan struct{}), entered: make(chan struct{})}
	clock := testclock.New(at(9, 0))
	svc, err := NewService(SampleConfig(), j, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	defer func() { // a failed test must not leave the first commit waiting
		select {
		case <-j.gate:
		default:
			close(j.gate)
		}
	}()
	ctx := context.Background()
	results := make(chan string, 4)
	issue := func(n int) {
		v, err := svc.Issue(ctx, Op{Actor: "kiosk-1"}, IssueRequest{Service: "A", CitizenKey: fmt.Sprintf("%064d", n), MaskedID: "4201**********1234"})
		if err != nil {
			t.Error(err)
		}
		results <- v.Number
	}
	go issue(0)
	select {
	case <-j.entered: // the first batch is being committed
	case <-results:
		t.Fatal("the first ticket was answered without a commit")
	}
	if cap(svc.jobs) < 3 {
		t.Fatalf("room for %d applied batches while a commit is under way; they cannot share the next commit", cap(svc.jobs))
	}
	for n := 1; n <= 3; n++ { // three more batches, applied one after another while the first commit waits
		go issue(n)
		for len(svc.jobs) < n {
			runtime.Gosched()
		}
	}
	select {
	case v := <-results:
		t.Fatalf("ticket %s answered before its commit was durable", v)
	default:
	}
	close(j.gate)
	var got []string
	for range 4 {
		got = append(got, <-results)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.commits) != 2 || len(j.commits[1]) < 3 {
		sizes := []int{}
		for _, c := range j.commits {
			sizes = append(sizes, len(c))
		}
		t.Fatalf("commits of %v events, want 2: the first and one for the three batches queued behind it", sizes)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"A001", "A002", "A003", "A004"}) {
		t.Fatalf("tickets %v, want A001–A004", got)
	}
}

// A read while a commit is under way (the hub's services summary, a board
// starting) does not hold up the pipeline: writes after it are applied at
// once and share the next commit. It is answered only once the writes it
// saw are durable, and it shows those and not the later ones.
func TestAReadDoesNotWaitForTheCommitsInFlight(t *testing.T) {
	j := &gateJournal{gate: make(chan struct{}), entered: make(chan struct{})}
	svc, err := NewService(SampleConfig(), j, testclock.New(at(9, 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	defer func() {
		select {
		case <-j.gate:
		default:
			close(j.gate)
		}
	}()
	ctx := context.Background()
	issued := make(chan error, 2)
	issue := func(n int) {
		_, err := svc.Issue(ctx, Op{Actor: "kiosk-1"}, IssueRequest{Service: "A", CitizenKey: fmt.Sprintf("%064d", n), MaskedID: "4201**********1234"})
		issued <- err
	}
	go issue(0)
	<-j.entered // the first ticket's commit is under way
	type read struct {
		svcs []ServiceView
		err  error
	}
	reads := make(chan read, 1)
	go func() {
		svcs, err := svc.Services(ctx)
		reads <- read{svcs, err}
	}()
	waitFor(t, "the read to be taken from the queue", func() bool { return len(svc.jobs) == 1 && len(svc.reqs) == 0 })
	go issue(1)
	waitFor(t, "the ticket after the read to be applied while the first commit waits", func() bool { return len(svc.jobs) == 2 && len(svc.reqs) == 0 })
	select {
	case r := <-reads:
		t.Fatalf("the read was answered (%v) before the ticket it saw was durable", r.err)
	case err := <-issued:
		t.Fatalf("a ticket was answered (%v) before its commit", err)
	default:
	}
	close(j.gate)
	r := <-reads
	if r.err != nil {
		t.Fatal(r.err)
	}
	if a := r.svcs[0]; a.Code != "A" || a.Issued != 1 || a.Waiting != 1 {
		t.Fatalf("the read shows %s issued %d, waiting %d; want A 1 and 1 (the ticket before it, not the one after)", a.Code, a.Issued, a.Waiting)
	}
	for range 2 {
		if err := <-issued; err != nil {
			t.Fatal(err)
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.commits) != 2 {
		t.Fatalf("%d commits, want 2", len(j.commits))
	}
}

// waitFor yields until cond holds; a minute without it fails the test (a
// loop that never gets there, not a slow one).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		runtime.Gosched()
	}
}

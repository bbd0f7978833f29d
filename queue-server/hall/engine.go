package hall

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// The engine: the Service's loop owns the live state, applies requests in
// batches and commits each batch through the Journal (group commit,
// pipelined with the next batch), and reloads from the journal when a commit
// fails. The public operations (operations.go, reconfig.go and
// reads.go) reach the state only through write and read.

// Journal makes the hall's changes durable. Commit writes a batch of events
// — with the state snapshots they carry and their outbox entries — in one
// atomic, synced transaction; Load returns the state to resume from.
type Journal interface {
	Load() (Snapshot, error)
	Commit(events []Event) error
}

// Clock tells the time; tests and simulations inject their own.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Op identifies who asks for a change and the request's idempotency key
// (already scoped to the caller by the API layer).
type Op struct {
	Actor   string
	IdemKey string
	// IdemWhileOpen: an earlier answer to IdemKey stands only while its
	// ticket is open (waiting, called, serving, parked); once the ticket
	// is closed, the same key makes a new request. Remote ticket taking
	// uses it: a double tap gets the same ticket, a citizen whose ticket
	// was served, cancelled or missed can take another.
	IdemWhileOpen bool
	// Fingerprint identifies the request IdemKey was given with (its
	// operation, target and body, as the API layer hashes them). A key
	// already answered for another fingerprint is refused with
	// unprocessable/idempotency_key_reused instead of returning the other
	// request's result. Empty on either side: not checked.
	Fingerprint string
}

// Service is the one place where hall rules are decided. A single goroutine
// owns the hall state; requests queue on a channel, and all requests that
// arrived while the previous batch was being committed are applied and
// committed together — group commit without a timer: a lone request is
// committed at once, concurrent ones share one fsync.
//
// Commits are pipelined: while one batch is being written and synced by the
// committer goroutine, the loop already applies the next ones, and the
// committer writes all of those in its next transaction. Replies are
// sent only after their batch (and every batch before it) is durable —
// replies to reads too: a read is computed in its turn and answered behind
// the writes it saw, so it never waits for nor breaks up the pipeline, and
// never shows what a crash could still undo. If a
// commit fails, every batch applied after it fails too, and the state is
// reloaded from the journal, so nothing half-applied survives.
type Service struct {
	cfg      Config                        // the configuration for a journal that holds none
	current  atomic.Pointer[Config]        // the committed configuration, for Config()
	zone     atomic.Pointer[time.Location] // its time zone, for Now()
	journal  Journal
	clock    Clock
	onCommit func([]Event)
	reqs     chan *request
	jobs     chan job
	failed   chan error // a commit failed; the loop must reload
	quit     chan struct{}
	done     chan struct{}

	st     *state // owned by the loop goroutine
	broken error  // last reload failure; the loop retries
}

type request struct {
	ctx   context.Context
	op    Op
	write func(st *state, now time.Time) (Ref, error) // returns what it produced
	read  func(st *state, now time.Time) (any, error)
	reply chan response
	// filled by the loop
	ref Ref
	res response
}

type response struct {
	v   any
	err error
}

// job is one batch on its way to disk: its events and the replies (to
// writes and reads) to send once they are durable. A job without events and requests is a barrier.
type job struct {
	events  []Event
	writes  []*request
	barrier chan struct{}
}

// maxBatch caps how many requests share one commit.
const maxBatch = 1024

// maxJobs is how many applied batches may wait for the committer, which
// takes all of them in one transaction.
const maxJobs = 64

// NewService loads the hall from the journal and starts its loop.
// cfg is the hall's configuration unless the journal holds one changed at
// runtime (config.changed, Snapshot.Config), which wins; UpdateConfig replaces
// it. onCommit, if set, receives every committed batch of events in order,
// on the committer goroutine: it must hand them off without blocking (the
// slice is its own to keep; nothing changes it afterwards).
func NewService(cfg Config, j Journal, clock Clock, onCommit func([]Event)) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s0, err := j.Load()
	if err != nil {
		return nil, fmt.Errorf("load hall state: %w", err)
	}
	if s0.Config != nil {
		if err := s0.Config.Validate(); err != nil {
			return nil, fmt.Errorf("the stored hall configuration (changed at runtime) is invalid: %w", err)
		}
	}
	if clock == nil {
		clock = SystemClock{}
	}
	s := &Service{cfg: cfg, journal: j, clock: clock, onCommit: onCommit,
		reqs: make(chan *request, maxBatch), jobs: make(chan job, maxJobs), failed: make(chan error, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	s.st = newState(s.configOf(s0), s0)
	if s.st.day == "" {
		s.st.day = s.st.dayOf(clock.Now())
	}
	s.setCurrent(s.st.cfg)
	committed := make(chan struct{})
	go s.commitLoop(committed)
	go s.loop(committed)
	return s, nil
}

// Close stops the loop after the batch in progress.
func (s *Service) Close() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
}

// Now is the hall's time, from its clock (the demo's runs fast, tests' are
// fake), in the hall's time zone whatever the machine's zone is.
func (s *Service) Now() time.Time { return s.clock.Now().In(s.zone.Load()) }

// Config returns the hall's current, committed configuration.
func (s *Service) Config() Config { return s.current.Load().Clone() }

// configOf is the configuration to build a loaded state with: the one the
// journal stored with the last config.changed, else the start configuration.
func (s *Service) configOf(s0 Snapshot) Config {
	if s0.Config != nil {
		return s0.Config.Clone()
	}
	return s.cfg.Clone()
}

func (s *Service) setCurrent(c Config) {
	c = c.Clone()
	s.current.Store(&c)
	s.zone.Store(c.Location())
}

func (s *Service) loop(committed chan struct{}) {
	defer close(s.done)
	defer func() { close(s.jobs); <-committed }()
	batch := make([]*request, 0, maxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.run(batch)
	}
}

// run applies a batch. A read sees every write before it and is answered
// only once they are durable, so nobody is shown the effect of a change
// that is not on disk: its answer goes down the commit pipeline behind them
// (send), and a failed commit before it refuses it as it refuses them.
func (s *Service) run(batch []*request) {
	select {
	case <-s.failed:
		s.flush()
		s.reload()
	default:
	}
	if s.broken != nil && !s.reload() {
		for _, r := range batch {
			r.reply <- response{err: Refusal(Unavailable, ReasonStorage, "the hall's storage is unavailable: %w", s.broken)}
		}
		return
	}
	st := s.st
	// every time the hall records (events, tickets, replies) is in the
	// hall's zone: a hall server whose machine runs UTC still stamps
	// 09:30+08:00, which the pages and the central show as they are
	now := s.clock.Now().In(st.loc)
	if d := st.dayOf(now); d > st.day {
		st.closeDay(d, now, "system")
	}
	var writes []*request
	for _, r := range batch {
		if r.ctx.Err() != nil {
			r.reply <- response{err: r.ctx.Err()}
			continue
		}
		if r.read != nil {
			// answered like a write: from the state every request before
			// it produced, once their events are durable (refused if one
			// of those commits fails), without waiting here for the
			// commits in flight — the loop goes on applying meanwhile
			v, err := r.read(st, now)
			r.res = response{v: v, err: err}
			writes = append(writes, r)
			continue
		}
		s.apply(r, now)
		writes = append(writes, r)
	}
	s.send(writes)
}

func (s *Service) apply(r *request, now time.Time) {
	st := s.st
	if r.op.IdemKey != "" {
		if rec, ok := st.idem[r.op.IdemKey]; ok && !(r.op.IdemWhileOpen && st.closed(rec.Ref)) {
			if rec.Fingerprint != "" && r.op.Fingerprint != "" && rec.Fingerprint != r.op.Fingerprint {
				r.res = response{err: Refusal(Unprocessable, ReasonIdempotencyKeyReused,
					"this Idempotency-Key was already used for a different request (another operation, target or body); use a new key for a new request")}
				return
			}
			r.ref = rec.Ref
			return
		}
	}
	mark := len(st.pending)
	var err error
	r.ref, err = r.write(st, now)
	if err != nil {
		if len(st.pending) != mark {
			panic("hall: an operation emitted events and then failed: " + err.Error())
		}
		r.res = response{err: err}
		return
	}
	if r.op.IdemKey != "" && len(st.pending) > mark {
		rec := IdemRecord{Key: r.op.IdemKey, Ref: r.ref, Fingerprint: r.op.Fingerprint}
		st.idem[r.op.IdemKey] = rec
		st.pending[len(st.pending)-1].Idem = &rec
	}
}

// send hands the applied writes and their events to the committer. The
// replies are computed now, from the state they produced, and sent once
// the events are durable.
func (s *Service) send(writes []*request) {
	if len(writes) == 0 && len(s.st.pending) == 0 {
		return
	}
	now := s.clock.Now().In(s.st.loc)
	for _, r := range writes {
		if r.read == nil && r.res.err == nil {
			r.res.v = s.st.resolve(r.ref, now)
		}
	}
	n := len(s.st.pending)
	s.jobs <- job{events: s.st.pending, writes: writes}
	// the job owns those events now; the next batch is likely as large
	s.st.pending = make([]Event, 0, n)
}

// flush waits until every job sent so far has been committed (or failed).
func (s *Service) flush() {
	b := make(chan struct{})
	s.jobs <- job{barrier: b}
	<-b
}

// commitLoop writes jobs in order. Every job queued while it was busy goes
// into one transaction (one sync for all of them, as a bare group-commit
// loop does), up to the next barrier. After a failure it fails every later
// job until a barrier (sent by the loop before it reloads) resets it.
func (s *Service) commitLoop(committed chan struct{}) {
	defer close(committed)
	var failure error
	var writes []*request
	for j := range s.jobs {
		// a job's events are its own (send hands them over): the first
		// job's slice carries the others', and onCommit gets it to keep
		events, barrier := j.events, j.barrier
		writes = append(writes[:0], j.writes...)
	gather:
		for barrier == nil && len(writes) < maxBatch {
			select {
			case j, ok := <-s.jobs:
				if !ok {
					break gather
				}
				events, writes, barrier = append(events, j.events...), append(writes, j.writes...), j.barrier
			default:
				break gather
			}
		}
		err := failure
		if err == nil && len(events) > 0 {
			if err = s.journal.Commit(events); err != nil {
				failure = err
				select {
				case s.failed <- err:
				default:
				}
			} else {
				for i := len(events) - 1; i >= 0; i-- {
					if c := events[i].Config; c != nil {
						s.setCurrent(*c)
						break
					}
				}
				if s.onCommit != nil {
					s.onCommit(events)
				}
			}
		}
		for _, r := range writes {
			if err != nil && r.res.err == nil {
				r.res = response{err: Refusal(Unavailable, ReasonStorage, "could not save the change, nothing was applied: %w", err)}
			}
			r.reply <- r.res
		}
		clear(writes) // the requests are answered; do not hold them
		if barrier != nil {
			failure = nil
			close(barrier)
		}
	}
}

// reload rebuilds the state from the journal after a failed commit, so that
// nothing half-applied stays in memory.
func (s *Service) reload() bool {
	s0, err := s.journal.Load()
	if err != nil {
		s.broken = err
		return false
	}
	s.st = newState(s.configOf(s0), s0)
	if s.st.day == "" {
		s.st.day = s.st.dayOf(s.clock.Now())
	}
	s.setCurrent(s.st.cfg)
	s.broken = nil
	return true
}

func (s *Service) do(ctx context.Context, r *request) (any, error) {
	r.ctx = ctx
	r.reply = make(chan response, 1)
	select {
	case s.reqs <- r:
	case <-s.quit:
		return nil, Errorf(Unavailable, "the hall service is shutting down")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case resp := <-r.reply:
		return resp.v, resp.err
	case <-s.done:
		return nil, Errorf(Unavailable, "the hall service stopped")
	}
}

func (s *Service) write(ctx context.Context, op Op, fn func(st *state, now time.Time) (Ref, error)) (any, error) {
	return s.do(ctx, &request{op: op, write: fn})
}

func (s *Service) read(ctx context.Context, fn func(st *state, now time.Time) (any, error)) (any, error) {
	return s.do(ctx, &request{read: fn})
}

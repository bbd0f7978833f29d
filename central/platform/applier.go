package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hallq/queue-server/forward"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/hall"
)

// KV buckets of the durable views (docs/central.md, "Durable views").
const (
	HallsBucket    = "central_halls"    // hall id → HallState
	TicketsBucket  = "central_tickets"  // ticket id → TicketState, TTL
	DaysBucket     = "central_days"     // "<hall>.<day>" → DayAgg
	LeasesBucket   = "central_leases"   // "p<n>" → owner; "m.<owner>" → member; TTL
	ProgressBucket = "central_progress" // "p<n>" → HALLS stream seq judged through
)

// ViewOptions tune the durable views.
type ViewOptions struct {
	Replicas   int           // replicas of every bucket; default 1
	Partitions int           // hall partitions shared out between processes; default 16
	TicketTTL  time.Duration // how long a ticket's public status is kept; default 48h
	LeaseTTL   time.Duration // a dead process's partitions move after this; default 10s
	// KeyScheme is the province's citizen-key scheme (KeySchemeSHA256 when
	// empty): events of a hall that keys citizens another way are refused
	// and alerted (keyscheme.go).
	KeyScheme string
}

func (o *ViewOptions) defaults() {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Partitions <= 0 {
		o.Partitions = 16
	}
	if o.TicketTTL <= 0 {
		o.TicketTTL = 48 * time.Hour
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
}

// Buckets are the KV buckets of the durable views.
type Buckets struct {
	Halls, Tickets, Days, Leases, Progress jetstream.KeyValue
	Audit                                  jetstream.KeyValue // central_hall_audit (hallaudit.go)
}

// EnsureBuckets creates or updates the views' KV buckets (idempotent).
func EnsureBuckets(ctx context.Context, js jetstream.JetStream, o ViewOptions) (*Buckets, error) {
	o.defaults()
	var b Buckets
	for _, c := range []struct {
		kv  *jetstream.KeyValue
		cfg jetstream.KeyValueConfig
	}{
		{&b.Halls, jetstream.KeyValueConfig{Bucket: HallsBucket, Description: "per-hall live status, dedupe state and today's figures"}},
		{&b.Tickets, jetstream.KeyValueConfig{Bucket: TicketsBucket, Description: "public ticket status by ticket id", TTL: o.TicketTTL}},
		{&b.Days, jetstream.KeyValueConfig{Bucket: DaysBucket, Description: "per hall/day/service figures of closed days"}},
		{&b.Leases, jetstream.KeyValueConfig{Bucket: LeasesBucket, Description: "which central process applies which hall partition", TTL: o.LeaseTTL}},
		{&b.Progress, jetstream.KeyValueConfig{Bucket: ProgressBucket, Description: "HALLS stream sequence each partition is judged through"}},
		{&b.Audit, jetstream.KeyValueConfig{Bucket: HallAuditBucket, Description: "each hall's audit trail as the central judged it, and the HALL_AUDIT sequence judged through"}},
	} {
		c.cfg.Storage, c.cfg.Replicas = jetstream.FileStorage, o.Replicas
		kv, err := OpenKV(ctx, js, c.cfg)
		if err != nil {
			return nil, fmt.Errorf("central: bucket %s: %w", c.cfg.Bucket, err)
		}
		*c.kv = kv
	}
	return &b, nil
}

// PartitionOf is the partition a hall's events are applied in.
func PartitionOf(hallID string, partitions int) int {
	h := fnv.New32a()
	h.Write([]byte(hallID))
	return int(h.Sum32() % uint32(partitions))
}

// ApplierStats are a process's counters (for /metrics and the tests).
type ApplierStats struct {
	Applied    uint64 // messages judged and committed by this process
	Conflicts  uint64 // hall entries another process had changed (compare-and-set lost)
	Partitions int    // partitions this process holds now
}

// Applier applies stream HALLS into the KV views. Any number of processes
// run one each: the halls are hashed into partitions, each partition is
// held by one process at a time through a lease in central_leases, and a
// process reads HALLS in stream order for the partitions it holds, so each
// hall's events are judged in order. A hall's entry is written with
// compare-and-set on its revision, so a process that lost its lease
// without knowing it cannot apply an event a second time.
type Applier struct {
	js  jetstream.JetStream
	b   *Buckets
	o   ViewOptions
	log *slog.Logger
	id  string
	now func() time.Time

	applied, conflicts atomic.Uint64
	held               atomic.Int64
}

// NewApplier returns an applier for the buckets.
func NewApplier(js jetstream.JetStream, b *Buckets, o ViewOptions, log *slog.Logger) *Applier {
	o.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var r [6]byte
	_, _ = rand.Read(r[:])
	return &Applier{js: js, b: b, o: o, log: log, id: hex.EncodeToString(r[:]), now: time.Now}
}

// ID names this process in the leases.
func (a *Applier) ID() string { return a.id }

// Stats returns the counters.
func (a *Applier) Stats() ApplierStats {
	return ApplierStats{Applied: a.applied.Load(), Conflicts: a.conflicts.Load(), Partitions: int(a.held.Load())}
}

// Run holds leases and applies until ctx ends; then it gives its leases
// back so that another process takes over at once.
func (a *Applier) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := a.session(ctx)
		if ctx.Err() != nil {
			break
		}
		a.log.Warn("central applier stopped; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

// session holds leases and runs the reader over the partitions held,
// starting it again whenever that set changes. It ends on an error of
// JetStream (Run starts another) or when ctx ends, and gives back what it
// holds.
func (a *Applier) session(ctx context.Context) error {
	held := map[int]uint64{} // partition → lease revision
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		for p, rev := range held {
			_ = a.b.Leases.Delete(rctx, leaseKey(p), jetstream.LastRevision(rev))
		}
		_ = a.b.Leases.Delete(rctx, "m."+a.id)
		a.held.Store(0)
	}()
	tick := time.NewTicker(a.o.LeaseTTL / 4)
	defer tick.Stop()
	var (
		cancel context.CancelFunc
		errc   chan error
	)
	stopReader := func() error {
		if cancel == nil {
			return nil
		}
		cancel()
		err := <-errc
		cancel, errc = nil, nil
		return err
	}
	defer stopReader()
	for n := 0; ; n++ {
		changed := a.balance(ctx, held, n%4 == 0 || len(held) == 0)
		a.held.Store(int64(len(held)))
		if changed || cancel == nil && len(held) > 0 {
			if err := stopReader(); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				a.log.Warn("central: reader stopped", "err", err)
			}
			if len(held) > 0 {
				parts := map[int]bool{}
				for p := range held {
					parts[p] = true
				}
				rctx, rcancel := context.WithCancel(ctx)
				cancel, errc = rcancel, make(chan error, 1)
				go func() { errc <- a.read(rctx, parts) }()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			// JetStream failed the reader (a node away, a timeout under
			// load): start it again at the next tick, keeping the leases.
			cancel()
			cancel, errc = nil, nil
			a.log.Warn("central: reader stopped; starting it again", "err", err)
			if !sleep(ctx, 200*time.Millisecond) {
				return nil
			}
		case <-tick.C:
		}
	}
}

func leaseKey(p int) string { return "p" + strconv.Itoa(p) }

// balance renews the leases held (first: that is what must not be late)
// and drops those lost; with share, it also takes free ones up to a fair
// share (partitions / live processes, rounded up) and gives back what is
// above it. It reports whether the set changed.
//
// A renewal that JetStream refuses (another process holds the lease, or
// it ran out) drops the partition; one that times out keeps it until the
// next try tells. Holding a lease is not what keeps an event from being
// applied twice — the compare-and-set of the hall entry is — so a lease
// that two processes believe they hold for a moment costs work, not
// correctness.
func (a *Applier) balance(ctx context.Context, held map[int]uint64, share bool) bool {
	rctx, cancel := context.WithTimeout(ctx, a.o.LeaseTTL/2)
	defer cancel()
	// All renewals at once (and the membership with them): on a busy
	// cluster one round trip can take a good part of the TTL.
	type renewal struct {
		p   int
		rev uint64
		err error
	}
	out := make(chan renewal, len(held))
	for p, rev := range held {
		go func() {
			nrev, err := a.b.Leases.Update(rctx, leaseKey(p), []byte(a.id), rev)
			out <- renewal{p, nrev, err}
		}()
	}
	if _, err := a.b.Leases.Put(rctx, "m."+a.id, []byte(a.id)); err != nil {
		a.log.Warn("central: membership not renewed", "err", err)
	}
	changed := false
	for range len(held) {
		r := <-out
		switch err := r.err; {
		case err == nil:
			held[r.p] = r.rev
		case errors.Is(err, jetstream.ErrKeyExists) || isWrongSeq(err) || errors.Is(err, jetstream.ErrKeyNotFound):
			a.log.Warn("central: lease lost", "partition", r.p, "err", err)
			delete(held, r.p)
			changed = true
		default:
			a.log.Warn("central: lease not renewed; trying again", "partition", r.p, "err", err)
		}
	}
	if !share {
		return changed
	}
	cctx, cancel2 := context.WithTimeout(ctx, a.o.LeaseTTL/2)
	defer cancel2()
	keys, err := a.b.Leases.ListKeys(cctx)
	if err != nil {
		a.log.Warn("central: leases not listed", "err", err)
		return changed
	}
	members := 0
	taken := map[int]bool{}
	for k := range keys.Keys() {
		if len(k) > 2 && k[:2] == "m." {
			members++
		} else if p, err := strconv.Atoi(k[1:]); err == nil && k[0] == 'p' {
			taken[p] = true
		}
	}
	fair := (a.o.Partitions + max(1, members) - 1) / max(1, members)
	for p := 0; p < a.o.Partitions && len(held) < fair; p++ {
		if taken[p] {
			continue
		}
		if rev, err := a.b.Leases.Create(cctx, leaseKey(p), []byte(a.id)); err == nil {
			held[p] = rev
			changed = true
		}
	}
	for p := 0; p < a.o.Partitions && len(held) < fair; p++ {
		// A lease still naming this process (a renewal that timed out but
		// went through) is taken back.
		if _, ok := held[p]; ok || !taken[p] {
			continue
		}
		if e, err := a.b.Leases.Get(cctx, leaseKey(p)); err == nil && string(e.Value()) == a.id {
			held[p] = e.Revision()
			changed = true
		}
	}
	for p, rev := range held {
		if len(held) <= fair {
			break
		}
		_ = a.b.Leases.Delete(cctx, leaseKey(p), jetstream.LastRevision(rev))
		delete(held, p)
		changed = true
	}
	return changed
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// cached is a hall entry with the KV revision it was read or written at.
type cached struct {
	st  *HallState
	rev uint64 // 0: no entry yet
}

// read applies HALLS for the partitions parts until ctx ends: from the
// lowest progress any of them recorded, in stream order, in batches (all
// messages already delivered, up to 2,000), the halls of a batch in
// parallel and each hall's messages in order.
func (a *Applier) read(ctx context.Context, parts map[int]bool) error {
	progress := map[int]uint64{}
	start := uint64(0)
	first := true
	for p := range parts {
		var seq uint64
		e, err := a.b.Progress.Get(ctx, leaseKey(p))
		switch {
		case err == nil:
			seq, _ = strconv.ParseUint(string(e.Value()), 10, 64)
		case !errors.Is(err, jetstream.ErrKeyNotFound):
			return err
		}
		progress[p] = seq
		if first || seq < start {
			start, first = seq, false
		}
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: HallsSubjects}
	if start > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start+1
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := a.js.OrderedConsumer(cctx, HallsStream, cfg)
	cancel()
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(4000))
	if err != nil {
		return err
	}
	defer it.Stop()
	msgs := make(chan jetstream.Msg, 4000)
	rerr := make(chan error, 1)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					rerr <- err
				}
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()

	cache := map[string]*cached{}
	var last uint64
	lastSaved := time.Now()
	for {
		var batch []jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-msgs:
			if !ok {
				select {
				case err := <-rerr:
					return err
				default:
					return ctx.Err()
				}
			}
			batch = append(batch, m)
		}
	drain:
		for len(batch) < 2000 {
			select {
			case m, ok := <-msgs:
				if !ok {
					break drain
				}
				batch = append(batch, m)
			default:
				break drain
			}
		}
		byHall := map[string][]jetstream.Msg{}
		var order []string
		for _, m := range batch {
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			last = md.Sequence.Stream
			id, ok := hallOf(m.Subject())
			if !ok {
				continue
			}
			p := PartitionOf(id, a.o.Partitions)
			if !parts[p] || md.Sequence.Stream <= progress[p] {
				continue
			}
			if byHall[id] == nil {
				order = append(order, id)
			}
			byHall[id] = append(byHall[id], m)
		}
		if err := a.applyHalls(ctx, order, byHall, cache); err != nil {
			return err
		}
		if time.Since(lastSaved) > time.Second || len(batch) < 2000 {
			for p := range parts {
				if last > progress[p] {
					if _, err := a.b.Progress.Put(ctx, leaseKey(p), []byte(strconv.FormatUint(last, 10))); err != nil {
						return err
					}
					progress[p] = last
				}
			}
			lastSaved = time.Now()
		}
	}
}

// applyHalls applies a batch, each hall by one of up to 64 workers.
func (a *Applier) applyHalls(ctx context.Context, order []string, byHall map[string][]jetstream.Msg, cache map[string]*cached) error {
	type job struct {
		id string
		c  *cached
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	results := map[string]*cached{}
	for range min(64, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c, err := a.applyHall(ctx, j.id, byHall[j.id], j.c)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				results[j.id] = c
				mu.Unlock()
			}
		}()
	}
	for _, id := range order {
		jobs <- job{id, cache[id]}
	}
	close(jobs)
	wg.Wait()
	for id, c := range results { // the reader goroutine owns the cache
		if c == nil {
			delete(cache, id)
		} else {
			cache[id] = c
		}
	}
	return firstErr
}

// applyHall judges one hall's messages of a batch against its entry and
// commits: the idempotent writes first (ticket entries, closed days), then
// the hall entry by compare-and-set. A lost compare-and-set (another
// process, or a stale cache) re-reads the entry and judges again: what
// the other wrote counts, nothing twice.
func (a *Applier) applyHall(ctx context.Context, id string, msgs []jetstream.Msg, c *cached) (*cached, error) {
	for attempt := 0; ; attempt++ {
		if c == nil {
			var err error
			if c, err = a.load(ctx, id); err != nil {
				return nil, err
			}
		}
		st := c.st.clone()
		var fx effects
		n := 0
		for _, m := range msgs {
			md, _ := m.Metadata()
			if st.judged(md.Sequence.Stream) {
				continue
			}
			if msg := schemeMismatch(id, m.Headers().Get(forward.HeaderKeyScheme), a.o.KeyScheme); msg != "" {
				st.LastStream = max(st.LastStream, md.Sequence.Stream)
				st.KeySchemeRefused++
				st.KeySchemeError = msg
				n++
				continue
			}
			st.apply(m.Headers().Get(jetstream.MsgIDHeader), m.Data(), md.Sequence.Stream, a.now(), &fx)
			n++
		}
		if n == 0 {
			return c, nil
		}
		if err := a.writeEffects(ctx, id, &fx, st.Epoch); err != nil {
			return nil, err
		}
		body, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		var rev uint64
		if c.rev == 0 {
			rev, err = a.b.Halls.Create(ctx, id, body)
		} else {
			rev, err = a.b.Halls.Update(ctx, id, body, c.rev)
		}
		if err == nil {
			a.applied.Add(uint64(n))
			return &cached{st: st, rev: rev}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSeq(err) || attempt > 20 {
			return nil, fmt.Errorf("central: hall %s: %w", id, err)
		}
		a.conflicts.Add(1)
		c = nil
	}
}

func isWrongSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

func (a *Applier) load(ctx context.Context, id string) (*cached, error) {
	e, err := a.b.Halls.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return &cached{st: &HallState{Hall: id}}, nil
	}
	if err != nil {
		return nil, err
	}
	var st HallState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return nil, fmt.Errorf("central: hall entry %s: %w", id, err)
	}
	return &cached{st: &st, rev: e.Revision()}, nil
}

func (a *Applier) writeEffects(ctx context.Context, hallID string, fx *effects, epoch string) error {
	for id, t := range fx.tickets {
		if !validKey(id) {
			continue
		}
		if err := a.putTicket(ctx, id, t); err != nil {
			return err
		}
	}
	for _, d := range fx.days {
		body, _ := json.Marshal(d)
		if _, err := a.b.Days.Put(ctx, d.Hall+"."+d.Day, body); err != nil {
			return err
		}
	}
	for i := range fx.late {
		if err := a.addLate(ctx, hallID, &fx.late[i], epoch); err != nil {
			return err
		}
	}
	return nil
}

// putTicket writes a ticket's public status unless the bucket already holds
// a newer one of the same epoch: a process that stalled between this write
// and its hall entry's compare-and-set, while another applied later events
// of the ticket, must not put an older status back. The write itself is a
// compare-and-set on the entry's revision.
func (a *Applier) putTicket(ctx context.Context, id string, t TicketState) error {
	body, _ := json.Marshal(t)
	for range 20 {
		e, err := a.b.Tickets.Get(ctx, id)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			if _, err = a.b.Tickets.Create(ctx, id, body); err == nil {
				return nil
			}
		case err != nil:
			return err
		default:
			var cur TicketState
			if json.Unmarshal(e.Value(), &cur) == nil && cur.Epoch == t.Epoch && cur.Seq >= t.Seq {
				return nil // as new or newer already
			}
			if _, err = a.b.Tickets.Update(ctx, id, body, e.Revision()); err == nil {
				return nil
			}
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSeq(err) {
			return err
		}
		a.conflicts.Add(1)
	}
	return fmt.Errorf("central: ticket %s: the entry kept changing", id)
}

// addLate counts an event for a closed day into its entry, by
// compare-and-set, once (DayAgg.Through).
func (a *Applier) addLate(ctx context.Context, hallID string, ev *hall.Event, epoch string) error {
	key := hallID + "." + ev.Day
	for range 20 {
		var d DayAgg
		var rev uint64
		e, err := a.b.Days.Get(ctx, key)
		switch {
		case err == nil:
			if err := json.Unmarshal(e.Value(), &d); err != nil {
				return err
			}
			rev = e.Revision()
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			return err
		}
		d.Hall, d.Day = hallID, ev.Day
		if !d.addLate(ev, epoch) {
			return nil
		}
		body, _ := json.Marshal(d)
		if rev == 0 {
			_, err = a.b.Days.Create(ctx, key, body)
		} else {
			_, err = a.b.Days.Update(ctx, key, body, rev)
		}
		if err == nil {
			return nil
		}
	}
	return errors.New("central: closed day entry kept changing")
}

// validKey reports whether s may be a KV key: 1–128 of [A-Za-z0-9_-].
func validKey(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	return !slices.ContainsFunc([]byte(s), func(c byte) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')
	})
}

func (h *HallState) clone() *HallState {
	body, _ := json.Marshal(h)
	var c HallState
	_ = json.Unmarshal(body, &c)
	c.index()
	return &c
}

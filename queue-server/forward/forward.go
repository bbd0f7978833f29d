package forward

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"hallq/internal/catalog"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// Config configures the link to the central platform. Exactly one of
// NATSURL and HTTPSURL selects the sink for hall events; RunBookings
// always needs NATSURL.
type Config struct {
	HallID string // e.g. "420102-01"; one NATS subject token: no '.', '*', '>' or spaces

	// NATS JetStream sink (and the bookings consumer).
	NATSURL   string      // e.g. "tls://central.example:4222"; comma-separated for a cluster
	CredsFile string      // NATS .creds file (JWT + nkey), optional
	User      string      // NATS user and password, optional (instead of CredsFile)
	Password  string      //
	TLS       *tls.Config // client TLS for NATS and HTTPS, optional (see ClientTLS)

	// HTTPS sink, the alternative to NATS.
	HTTPSURL    string        // POST endpoint
	HTTPSSecret []byte        // HMAC-SHA256 key for X-Hallq-Signature
	HTTPTimeout time.Duration // per request; default 30s
	HTTPClient  *http.Client  // optional; overrides TLS and HTTPTimeout
	// AuditHTTPSURL is where the HTTPS sink POSTs the audit trail's
	// records (AuditBatch); default HTTPSURL + "/audit".
	AuditHTTPSURL string

	BatchSize    int           // events per batch; default 1000 (NATS) or 200 (HTTPS)
	AckTimeout   time.Duration // NATS publish ack timeout; default 10s
	Retention    time.Duration // keep forwarded outbox entries this long; default 7 days; negative: never compact
	CompactEvery time.Duration // how often to compact; default 10m
	PollInterval time.Duration // slow ticker in case a Notify was missed; default 5s
	MinBackoff   time.Duration // first retry delay while the central is unreachable; default 500ms
	MaxBackoff   time.Duration // retry delay cap; default 1m

	// Bookings and remote tickets (central → hall).
	CentralStream string // default "CENTRAL"
	Durable       string // durable consumer name; default "hall-<hall-id>"

	Now func() time.Time // clock; default time.Now

	// KeyScheme names how the hall derives citizen keys, sent with every
	// event (HeaderKeyScheme) so a province of another scheme refuses them
	// instead of matching nothing: KeySchemeSHA256 (also for "") or
	// KeySchemeSM3 (the 国密 option).
	KeyScheme string

	// EpochOf names the store epoch in which the event with this seq was
	// committed (store.Store.EpochOf); nil means every event is of the
	// empty epoch. A non-empty epoch goes into the message id (EpochMsgID)
	// and the HTTPS Idempotency-Key, and a batch never spans two epochs.
	EpochOf func(seq uint64) string
}

func (c *Config) epochOf(seq uint64) string {
	if c.EpochOf == nil {
		return ""
	}
	return c.EpochOf(seq)
}

func (c *Config) setDefaults() {
	if c.HTTPTimeout <= 0 {
		c.HTTPTimeout = 30 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
		if c.NATSURL == "" {
			c.BatchSize = 200
		}
	}
	if c.AckTimeout <= 0 {
		c.AckTimeout = 10 * time.Second
	}
	if c.Retention == 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.CompactEvery <= 0 {
		c.CompactEvery = 10 * time.Minute
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 5 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(time.Minute, c.MinBackoff)
	}
	if c.CentralStream == "" {
		c.CentralStream = "CENTRAL"
	}
	if c.Durable == "" {
		c.Durable = "hall-" + c.HallID
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// ValidHallID reports whether id can be used as one NATS subject token and
// in message ids: 1–64 characters from [A-Za-z0-9_-].
func ValidHallID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Subject is the NATS subject an event is published on:
// "hall.<hall-id>.events.<type>". The event type's dots stay dots, so
// "ticket.issued" becomes hall.420102-01.events.ticket.issued and a
// consumer can filter on hall.*.events.ticket.> ; any character outside
// [A-Za-z0-9_.-] is replaced by '_', and empty tokens become "_".
func Subject(hallID, eventType string) string {
	var b strings.Builder
	b.WriteString("hall.")
	b.WriteString(hallID)
	b.WriteString(".events.")
	if eventType == "" {
		eventType = "_"
	}
	prevDot := true
	for _, r := range eventType {
		switch {
		case r == '.':
			if prevDot {
				b.WriteByte('_')
			}
			b.WriteByte('.')
			prevDot = true
			continue
		case r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		prevDot = false
	}
	if prevDot {
		b.WriteByte('_')
	}
	return b.String()
}

// MsgID is the JetStream message id of an event of the empty epoch (a
// store made before epochs): "<hall-id>:<seq>".
func MsgID(hallID string, seq uint64) string {
	return hallID + ":" + strconv.FormatUint(seq, 10)
}

// EpochMsgID is the JetStream message id of an event committed in a store
// epoch: "<hall-id>:<seq>@<epoch>", or MsgID's form for the empty epoch.
// Sequence numbers are unique within an epoch; a restored store begins a
// new one (see docs/central.md for the rule consumers apply).
func EpochMsgID(hallID, epoch string, seq uint64) string {
	if epoch == "" {
		return MsgID(hallID, seq)
	}
	return MsgID(hallID, seq) + "@" + epoch
}

// ParseMsgID splits a message id made by EpochMsgID (or MsgID).
func ParseMsgID(id string) (hallID, epoch string, seq uint64, ok bool) {
	rest, epoch, hasEpoch := strings.Cut(id, "@")
	if hasEpoch && epoch == "" {
		return "", "", 0, false
	}
	hallID, num, found := strings.Cut(rest, ":")
	if !found || !ValidHallID(hallID) {
		return "", "", 0, false
	}
	seq, err := strconv.ParseUint(num, 10, 64)
	if err != nil || seq == 0 {
		return "", "", 0, false
	}
	return hallID, epoch, seq, true
}

// Outbox is the store's side of forwarding; *store.Store satisfies it.
type Outbox interface {
	Outbox(limit int) ([]hall.Event, error)
	MarkForwarded(seq uint64) error
	OutboxStats() (store.OutboxStats, error)
	CompactOutbox(cutoff time.Time, limit int) (int, error)
}

// DeadLetterStore is what the HTTPS sink needs to move a refused batch
// aside and to re-send it later; *store.Store satisfies it.
type DeadLetterStore interface {
	PutDeadLetter(store.DeadLetter) error
	DeadLetter(first uint64) (store.DeadLetter, error)
	DropDeadLetter(first uint64) error
}

// Stats is the forwarder's health, for /metrics, the dashboard and /healthz.
type Stats struct {
	Sink           string    `json:"sink"`      // "nats" or "https"
	Connected      bool      `json:"connected"` // NATS: connection up; HTTPS: last request got a response
	Backlog        uint64    `json:"backlog"`   // events committed but not yet acknowledged
	Oldest         time.Time `json:"oldest,omitzero"`
	OldestAgeS     float64   `json:"oldest_age_s"` // age of the oldest unforwarded event, 0 when none
	ForwardedSeq   uint64    `json:"forwarded_seq"`
	LastSeq        uint64    `json:"last_seq"`
	Sent           uint64    `json:"sent"`       // events acknowledged since start
	Duplicates     uint64    `json:"duplicates"` // acks JetStream flagged duplicate (re-publish after a crash)
	Batches        uint64    `json:"batches"`
	LastAck        time.Time `json:"last_ack,omitzero"`
	LastError      string    `json:"last_error,omitempty"` // cleared by the next success
	LastErrorAt    time.Time `json:"last_error_at,omitzero"`
	Errors         uint64    `json:"errors"`
	DeadLetters    uint64    `json:"dead_letters"`    // batches moved aside since start
	Alert          string    `json:"alert,omitempty"` // set when an operator must look (dead letter); stays until restart
	Compacted      uint64    `json:"compacted"`
	StoreError     string    `json:"store_error,omitempty"`
	RetryingBatch  bool      `json:"retrying_batch"`
	BackoffSeconds float64   `json:"backoff_s"` // current retry delay, 0 when healthy
}

// Forwarder drains the outbox to the central platform.
type Forwarder struct {
	cfg    Config
	outbox Outbox
	dead   DeadLetterStore
	log    *slog.Logger
	sink   sink
	wake   chan struct{}
	retry  chan struct{} // cuts a back-off short (reconnected)

	mu sync.Mutex
	st Stats
}

// sink sends one batch and reports the highest seq of its contiguously
// acknowledged prefix (0: none).
type sink interface {
	name() string
	start(ctx context.Context) error
	send(ctx context.Context, evs []hall.Event) (sendResult, error)
	connected() bool
	close()
}

type sendResult struct {
	acked      uint64 // highest contiguously acknowledged seq, 0 for none
	duplicates int
	rejected   *rejection // HTTPS: the batch was refused for good
}

type rejection struct {
	status int
	reason string
	body   []byte
}

// New checks cfg and returns a Forwarder; Run starts it.
func New(cfg Config, outbox Outbox, logger *slog.Logger) (*Forwarder, error) {
	if !ValidHallID(cfg.HallID) {
		return nil, fmt.Errorf("forward: hall id %q must be 1–64 characters from A–Z a–z 0–9 _ -", cfg.HallID)
	}
	if (cfg.NATSURL == "") == (cfg.HTTPSURL == "") {
		return nil, errors.New("forward: configure exactly one of the NATS URL and the HTTPS URL")
	}
	if outbox == nil {
		return nil, errors.New("forward: no outbox")
	}
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &Forwarder{cfg: cfg, outbox: outbox, log: logger.With("component", "forward"),
		wake: make(chan struct{}, 1), retry: make(chan struct{}, 1)}
	if cfg.NATSURL != "" {
		f.sink = &natsSink{cfg: &f.cfg, log: f.log, onReconnect: f.kick}
	} else {
		if len(cfg.HTTPSSecret) < 16 {
			return nil, errors.New("forward: the HTTPS sink needs a signing secret of at least 16 bytes")
		}
		d, ok := outbox.(DeadLetterStore)
		if !ok {
			return nil, errors.New("forward: the HTTPS sink needs an outbox that can keep dead letters (PutDeadLetter)")
		}
		f.dead = d
		f.sink = newHTTPSink(&f.cfg)
	}
	f.st.Sink = f.sink.name()
	return f, nil
}

// Resend posts a dead letter to the central platform again — its body byte
// for byte, with its Idempotency-Key, signed with the current secret — for
// when the central has fixed what made it refuse the batch. Acknowledged,
// the dead letter is dropped; refused again, it keeps the new status and
// reason (conflict, central_refused). It is safe to call while Run runs.
func (f *Forwarder) Resend(ctx context.Context, first uint64) error {
	hs, ok := f.sink.(*httpSink)
	if !ok {
		return hall.Refusal(hall.Conflict, hall.ReasonNotHTTPS, "only the HTTPS sink keeps dead letters; this hall forwards over %s", f.sink.name())
	}
	d, err := f.dead.DeadLetter(first)
	if errors.Is(err, store.ErrNoDeadLetter) {
		return hall.Errorf(hall.NotFound, "no dead letter starts at seq %d", first)
	}
	if err != nil {
		return err
	}
	res, err := hs.post(ctx, d.First, d.Last, d.Body)
	if err != nil {
		return hall.Errorf(hall.Unavailable, "re-send batch %d–%d: %v", d.First, d.Last, err)
	}
	if r := res.rejected; r != nil {
		d.At, d.Status, d.Reason = f.cfg.Now(), r.status, r.reason
		if err := f.dead.PutDeadLetter(d); err != nil {
			return err
		}
		return hall.Refusal(hall.Conflict, hall.ReasonCentralRefused, "the central refused batch %d–%d again (HTTP %d: %s)", d.First, d.Last, r.status, r.reason)
	}
	f.log.Info("dead letter re-sent and acknowledged", "first", d.First, "last", d.Last)
	return f.dead.DropDeadLetter(first)
}

// Notify tells the forwarder that new events were committed. It never
// blocks; call it after every commit (e.g. from hall.NewService's onCommit).
func (f *Forwarder) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *Forwarder) kick() {
	select {
	case f.retry <- struct{}{}:
	default:
	}
	f.Notify()
}

// Stats returns the forwarder's health. It reads the outbox counters (one
// short read transaction) and is safe to call from any goroutine.
//
// The snapshot is consistent: the outbox mark and the counters it moves
// (Sent, Batches, LastAck) change together under f.mu, and Stats reads
// the outbox under f.mu too, so a caller that sees an empty backlog also
// sees every acknowledged event counted in Sent.
func (f *Forwarder) Stats() Stats {
	f.mu.Lock()
	ob, err := f.outbox.OutboxStats()
	s := f.st
	f.mu.Unlock()
	s.Connected = f.sink.connected()
	if err != nil {
		s.StoreError = err.Error()
	} else {
		s.Backlog, s.Oldest, s.ForwardedSeq, s.LastSeq = ob.Backlog, ob.Oldest, ob.Forwarded, ob.Last
		if !ob.Oldest.IsZero() {
			s.OldestAgeS = max(0, f.cfg.Now().Sub(ob.Oldest).Seconds())
		}
	}
	return s
}

// Run forwards until ctx is cancelled, then returns nil. It returns an
// error only when the sink cannot be set up at all (bad credentials file,
// bad URL); an unreachable central platform is waited out.
func (f *Forwarder) Run(ctx context.Context) error {
	if err := f.sink.start(ctx); err != nil {
		return err
	}
	defer f.sink.close()
	ticker := time.NewTicker(f.cfg.PollInterval)
	defer ticker.Stop()
	var batch []hall.Event
	attempt := 0
	nextCompact := f.cfg.Now()
	for ctx.Err() == nil {
		if now := f.cfg.Now(); !now.Before(nextCompact) {
			f.compact(ctx)
			nextCompact = now.Add(f.cfg.CompactEvery)
		}
		sent, err := f.step(ctx, &batch)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			attempt++
			d := backoff(f.cfg.MinBackoff, f.cfg.MaxBackoff, attempt)
			f.fail(err, len(batch) > 0, d)
			f.log.Warn("forwarding failed; retrying", "err", err, "retry_in", d.Round(time.Millisecond), "attempt", attempt)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-f.retry:
			}
			t.Stop()
			continue
		}
		if attempt > 0 {
			f.log.Info("forwarding resumed", "after_attempts", attempt)
		}
		attempt = 0
		if sent {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-ticker.C:
		}
	}
	return nil
}

// logReader reads the event log after a seq; *store.Store has it. With
// it the forwarder reads the next batch while the current one is in
// flight (see step).
type logReader interface {
	Events(after uint64, limit int) ([]hall.Event, error)
}

// prefetched is the batch read ahead of the mark.
type prefetched struct {
	evs []hall.Event
	err error
}

// oneEpoch cuts evs to the events of its first event's epoch: a batch's
// Idempotency-Key names one.
func (f *Forwarder) oneEpoch(evs []hall.Event) []hall.Event {
	if e := f.cfg.epochOf(evs[0].Seq); f.cfg.epochOf(evs[len(evs)-1].Seq) != e {
		n := 1
		for n < len(evs) && f.cfg.epochOf(evs[n].Seq) == e {
			n++
		}
		evs = evs[:n]
	}
	return evs
}

// step forwards one batch. It reports whether anything was sent.
//
// While the batch is in flight, the batch after it is read from the log
// (when the outbox is a logReader): the central's store is then never left
// idle while the hall reads and decodes the next batch, which on a busy
// machine costs as much as the central takes to store one. It becomes the
// next batch only when this one is acknowledged in full and marked; the
// mark still moves only after the acks.
func (f *Forwarder) step(ctx context.Context, batch *[]hall.Event) (bool, error) {
	if len(*batch) == 0 {
		evs, err := f.outbox.Outbox(f.cfg.BatchSize)
		if err != nil {
			return false, fmt.Errorf("read outbox: %w", err)
		}
		if len(evs) == 0 {
			return false, nil
		}
		*batch = f.oneEpoch(evs)
	}
	evs := *batch
	var ahead chan prefetched
	if r, ok := f.outbox.(logReader); ok {
		ahead = make(chan prefetched, 1) // never blocks: a batch not taken is dropped with the channel
		go func(after uint64) {
			evs, err := r.Events(after, f.cfg.BatchSize)
			ahead <- prefetched{evs, err}
		}(evs[len(evs)-1].Seq)
	}
	res, err := f.sink.send(ctx, forwardable(evs))
	if res.rejected != nil {
		r := res.rejected
		d := store.DeadLetter{First: evs[0].Seq, Last: evs[len(evs)-1].Seq, At: f.cfg.Now(), Status: r.status, Reason: r.reason, Body: jsonOrNil(r.body)}
		if derr := f.dead.PutDeadLetter(d); derr != nil {
			return false, fmt.Errorf("store dead letter: %w", derr)
		}
		f.log.Error("central refused a batch; moved it to the dead letters", "first", d.First, "last", d.Last, "status", r.status, "reason", r.reason)
		f.mu.Lock()
		f.st.DeadLetters++
		f.st.Alert = fmt.Sprintf("batch %d–%d refused by the central platform (HTTP %d: %s); kept as a dead letter", d.First, d.Last, r.status, r.reason)
		f.mu.Unlock()
		*batch = nil
		return true, nil
	}
	if res.acked >= evs[0].Seq {
		// The mark and the counters move together (see Stats).
		f.mu.Lock()
		if merr := f.outbox.MarkForwarded(res.acked); merr != nil {
			f.mu.Unlock()
			return false, fmt.Errorf("mark forwarded: %w", merr)
		}
		n := int(res.acked - evs[0].Seq + 1)
		*batch = evs[n:]
		if len(*batch) == 0 {
			*batch = nil
		}
		f.st.Sent += uint64(n)
		f.st.Duplicates += uint64(res.duplicates)
		f.st.Batches++
		f.st.LastAck = f.cfg.Now()
		if err == nil {
			f.st.LastError, f.st.RetryingBatch, f.st.BackoffSeconds = "", false, 0
		}
		f.mu.Unlock()
		if *batch == nil && ahead != nil && err == nil {
			// the batch after it, read while it was in flight (an error
			// or nothing there: the next step reads the outbox)
			if p := <-ahead; p.err == nil && len(p.evs) > 0 {
				*batch = f.oneEpoch(p.evs)
			}
		}
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

func (f *Forwarder) fail(err error, retrying bool, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.LastError, f.st.LastErrorAt = err.Error(), f.cfg.Now()
	f.st.Errors++
	f.st.RetryingBatch = retrying
	f.st.BackoffSeconds = d.Seconds()
}

// compact deletes forwarded outbox entries older than the retention, in
// bounded transactions.
func (f *Forwarder) compact(ctx context.Context) {
	if f.cfg.Retention < 0 {
		return
	}
	const chunk = 5000
	cutoff := f.cfg.Now().Add(-f.cfg.Retention)
	total := 0
	for ctx.Err() == nil {
		n, err := f.outbox.CompactOutbox(cutoff, chunk)
		total += n
		if err != nil {
			f.log.Warn("outbox compaction failed", "err", err)
			break
		}
		if n < chunk {
			break
		}
	}
	if total > 0 {
		f.log.Info("compacted forwarded outbox entries", "deleted", total, "older_than", cutoff)
		f.mu.Lock()
		f.st.Compacted += uint64(total)
		f.mu.Unlock()
	}
}

// backoff is the delay before retry number attempt (1, 2, …): exponential
// from lo, capped at hi, with "equal jitter" (half fixed, half random) so
// hundreds of halls coming back together do not retry in lockstep.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	half := d / 2
	return half + rand.N(half+1)
}

func jsonOrNil(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// forwardable is what leaves the hall of a batch: the events without the
// masked ID numbers. The central platform gets the citizen key, which
// matches a citizen's own real-name sign-in and bookings; a person who must
// read a masked number (a clerk, the citizen) sees it in the hall or on the
// portal, from their own card or sign-in. Key and masked form together are
// what makes a key easy to reverse for whoever holds the province key.
func forwardable(evs []hall.Event) []hall.Event {
	out := make([]hall.Event, len(evs))
	for i, ev := range evs {
		if ev.Ticket != nil && ev.Ticket.MaskedID != "" {
			t := *ev.Ticket
			t.MaskedID = ""
			ev.Ticket = &t
		}
		if ev.Booking != nil && ev.Booking.MaskedID != "" {
			b := *ev.Booking
			b.MaskedID = ""
			ev.Booking = &b
		}
		if ev.Catalog != nil { // the central has the catalogue: the hall says only which version it now holds
			ev.Catalog = &catalog.Catalog{Version: ev.Catalog.Version, PublishedAt: ev.Catalog.PublishedAt, Matters: []catalog.Matter{}}
		}
		out[i] = ev
	}
	return out
}

// The citizen-key schemes (docs/central.md).
const (
	KeySchemeSHA256 = "hmac-sha256"
	KeySchemeSM3    = "hmac-sm3"
)

func (c Config) keyScheme() string {
	if c.KeyScheme == "" {
		return KeySchemeSHA256
	}
	return c.KeyScheme
}

// wireEvent is a forwarded event as it goes on the wire: the event, and
// its booking also under "appointment", the v1 field name centrals in the
// field read (docs/central.md). hall.Event reads either.
type wireEvent struct {
	*hall.Event
	V1 *hall.Booking `json:"appointment,omitempty"`
}

func onWire(ev *hall.Event) wireEvent { return wireEvent{Event: ev, V1: ev.Booking} }

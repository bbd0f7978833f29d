package platform

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/internal/gm"
	"hallq/queue-server/audit"
	"hallq/queue-server/forward"
)

// The halls' security audit trails (等保 安全审计), kept off the halls'
// machines: every record a hall writes to its audit.log arrives (over
// NATS, or through the HTTPS ingest, which publishes it the same way) on
// stream HALL_AUDIT, subject hallaudit.<hall-id>.<seq / 1000> (see
// forward.AuditSubject), its data the record's line as the hall wrote it.
// The stream denies deleting and purging and has no age or count limit:
// what arrived stays, also a record that does not chain.
//
// An AuditChecker in every central process reads the stream in order and
// judges each record with the hall's own algorithm (audit.Check) against
// the last record kept for that hall, in bucket central_hall_audit (one
// entry a hall, written by compare-and-set with the stream position judged
// through, so a record is judged once whichever process reads it). A
// break — a record whose hash does not match its content, a Prev that is
// not the hash of the record before, a seq that does not follow, a record
// sent again with other content, a new trail starting over at seq 1 — is
// counted and the first one named, never repaired; the checking goes on
// from the record that broke, so one break is one break.

// Names of the halls' audit stream and bucket.
const (
	HallAuditStream = "HALL_AUDIT"
	HallAuditBucket = "central_hall_audit" // "h.<hall-id>" → AuditTrail; "progress" → stream seq judged through
)

// HallAuditSubjects are the subjects of stream HALL_AUDIT.
var HallAuditSubjects = []string{"hallaudit.*.*"}

// auditHashes are the hashes a hall's trail may name (as the hall's
// `queue-server audit verify`).
var auditHashes = audit.Hashes{"sha256": sha256.New, "sm3": gm.NewSM3}

// hallAuditStream is the stream's configuration.
func hallAuditStream(duplicates time.Duration, replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        HallAuditStream,
		Description: "every hall's security audit trail, record by record as the hall wrote it (append-only); Nats-Msg-Id <hall-id>:audit:<seq>",
		Subjects:    HallAuditSubjects,
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		DenyDelete:  true,
		DenyPurge:   true,
		Duplicates:  duplicates,
		Replicas:    max(replicas, 1),
	}
}

// AuditTrail is what the central holds of one hall's audit trail.
type AuditTrail struct {
	Hall string `json:"hall"`
	// Records is how many records were kept (not counting duplicates).
	Records uint64 `json:"records"`
	// FirstSeq is the first record received; Start says how the trail
	// begins there: "genesis" (the hall's first record) or "after_removed"
	// (its Prev names a record the hall had removed by retention before it
	// was forwarded: a hall joined to the province later).
	FirstSeq uint64 `json:"first_seq"`
	Start    string `json:"start,omitempty"`
	// LastSeq and LastHash are the last record kept: the head a hall's
	// trail is verified against (queue-server audit verify -central).
	LastSeq    uint64    `json:"last_seq"`
	LastHash   string    `json:"last_hash,omitempty"`
	LastAt     time.Time `json:"last_at,omitzero"`     // that record's time at the hall
	ReceivedAt time.Time `json:"received_at,omitzero"` // when the central judged it
	Duplicates uint64    `json:"duplicates"`           // records received again, identical
	// Breaks counts the records that did not chain; BrokenAt and
	// BrokenWhy name the first, BrokenSince when it was found.
	Breaks      uint64    `json:"breaks"`
	BrokenAt    uint64    `json:"broken_at,omitempty"`
	BrokenWhy   string    `json:"broken_why,omitempty"`
	BrokenSince time.Time `json:"broken_since,omitzero"`
	LastStream  uint64    `json:"last_stream"` // HALL_AUDIT seq judged through
}

// Intact reports a trail with no break.
func (t *AuditTrail) Intact() bool { return t.Breaks == 0 }

// Summary is the trail in words, as the hall page shows it.
func (t *AuditTrail) Summary() string {
	if t.Records == 0 && t.Breaks == 0 {
		return "audit trail: nothing received yet"
	}
	s := fmt.Sprintf("audit trail: received through #%d at %s; ", t.LastSeq, t.ReceivedAt.UTC().Format(time.RFC3339))
	if t.Intact() {
		return s + "intact"
	}
	return s + fmt.Sprintf("broken at #%d: %s", t.BrokenAt, t.BrokenWhy)
}

func (t *AuditTrail) broke(seq uint64, why string, now time.Time) {
	t.Breaks++
	if t.Breaks == 1 {
		t.BrokenAt, t.BrokenWhy, t.BrokenSince = seq, why, now
	}
}

// judge applies one record (the line as the hall wrote it) to the trail.
// lookup returns the hash of the record seq kept earlier ("" when it
// cannot tell): a record that arrives again is a duplicate only if it is
// the same.
func (t *AuditTrail) judge(data []byte, sseq uint64, now time.Time, lookup func(seq uint64) string) {
	t.LastStream = max(t.LastStream, sseq)
	var peek struct {
		Seq  uint64 `json:"seq"`
		Hash string `json:"hash"`
		Prev string `json:"prev"`
	}
	_ = json.Unmarshal(data, &peek)
	if t.Records > 0 && peek.Seq != 0 && peek.Seq <= t.LastSeq {
		kept := t.LastHash
		if peek.Seq != t.LastSeq {
			kept = lookup(peek.Seq)
		}
		if kept == peek.Hash {
			t.Duplicates++
			return
		}
		if peek.Seq != 1 || peek.Prev != audit.Genesis {
			t.broke(peek.Seq, fmt.Sprintf("#%d arrived again with other content (hash %s; the one kept: %s)", peek.Seq, peek.Hash, kept), now)
			return
		}
		// a trail begun again: the hall lost or replaced its audit.log;
		// go on checking the new trail from its start
		t.broke(1, fmt.Sprintf("a new trail begins at #1 after #%d: the hall's trail was lost or replaced", t.LastSeq), now)
		t.LastSeq, t.LastHash = 0, ""
	}
	var prev *audit.Record
	if t.LastSeq > 0 {
		prev = &audit.Record{Seq: t.LastSeq, Hash: t.LastHash}
	}
	rec, err := audit.Check(prev, data, auditHashes)
	if err != nil {
		seq := rec.Seq
		if seq == 0 {
			seq = t.LastSeq + 1
		}
		t.broke(seq, strings.TrimPrefix(err.Error(), fmt.Sprintf("(seq %d): ", rec.Seq)), now)
		if rec.Seq == 0 || rec.Hash == "" {
			return // nothing to go on from
		}
	}
	if t.Records == 0 {
		t.FirstSeq, t.Start = rec.Seq, "genesis"
		if rec.Prev != audit.Genesis {
			t.Start = "after_removed"
		}
	}
	t.Records++
	t.LastSeq, t.LastHash, t.LastAt, t.ReceivedAt = rec.Seq, rec.Hash, rec.At, now
}

// hallOfAudit is the hall of a HALL_AUDIT subject.
func hallOfAudit(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, "hallaudit.")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ".")
	return id, ok && forward.ValidHallID(id)
}

func auditKey(hallID string) string { return "h." + hallID }

// AuditChecker judges stream HALL_AUDIT into bucket central_hall_audit.
type AuditChecker struct {
	js  jetstream.JetStream
	kv  jetstream.KeyValue
	log *slog.Logger
	now func() time.Time
}

// NewAuditChecker returns a checker; Run starts it.
func NewAuditChecker(js jetstream.JetStream, b *Buckets, log *slog.Logger) *AuditChecker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AuditChecker{js: js, kv: b.Audit, log: log, now: time.Now}
}

// Run judges records until ctx ends.
func (c *AuditChecker) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := c.session(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("checking the halls' audit trails: restarting", "err", err)
		}
		sleep(ctx, 500*time.Millisecond)
	}
	return nil
}

type auditCached struct {
	t   AuditTrail
	rev uint64
}

func (c *AuditChecker) session(ctx context.Context) error {
	var progress uint64
	if e, err := c.kv.Get(ctx, "progress"); err == nil {
		progress, _ = strconv.ParseUint(string(e.Value()), 10, 64)
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return err
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: HallAuditSubjects}
	if progress > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, progress+1
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := c.js.OrderedConsumer(cctx, HallAuditStream, cfg)
	cancel()
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	cache := map[string]*auditCached{}
	saved := time.Now()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return err
		}
		md, err := m.Metadata()
		if err != nil {
			continue
		}
		if id, ok := hallOfAudit(m.Subject()); ok {
			if err := c.judge(ctx, id, m.Data(), md.Sequence.Stream, cache); err != nil {
				return err
			}
		}
		if md.NumPending == 0 || time.Since(saved) > time.Second {
			if _, err := c.kv.Put(ctx, "progress", []byte(strconv.FormatUint(md.Sequence.Stream, 10))); err != nil {
				return err
			}
			saved = time.Now()
		}
	}
}

// judge applies one message to its hall's entry by compare-and-set; a
// lost compare-and-set re-reads the entry (what the other process judged
// counts, nothing twice).
func (c *AuditChecker) judge(ctx context.Context, id string, data []byte, sseq uint64, cache map[string]*auditCached) error {
	for attempt := 0; ; attempt++ {
		cur := cache[id]
		if cur == nil {
			cur = &auditCached{t: AuditTrail{Hall: id}}
			e, err := c.kv.Get(ctx, auditKey(id))
			switch {
			case err == nil:
				if err := json.Unmarshal(e.Value(), &cur.t); err != nil {
					return fmt.Errorf("central: audit entry of %s: %w", id, err)
				}
				cur.rev = e.Revision()
			case !errors.Is(err, jetstream.ErrKeyNotFound):
				return err
			}
		}
		if sseq <= cur.t.LastStream {
			cache[id] = cur
			return nil
		}
		t := cur.t
		t.judge(data, sseq, c.now(), func(seq uint64) string { return c.lookup(ctx, id, seq, sseq) })
		body, _ := json.Marshal(t)
		var rev uint64
		var err error
		if cur.rev == 0 {
			rev, err = c.kv.Create(ctx, auditKey(id), body)
		} else {
			rev, err = c.kv.Update(ctx, auditKey(id), body, cur.rev)
		}
		if err == nil {
			if t.Breaks > cur.t.Breaks {
				c.log.Error("a hall's audit trail does not chain", "hall", id, "broken_at", t.BrokenAt, "why", t.BrokenWhy, "breaks", t.Breaks)
			}
			cache[id] = &auditCached{t: t, rev: rev}
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSeq(err) || attempt > 20 {
			return fmt.Errorf("central: audit entry of %s: %w", id, err)
		}
		delete(cache, id)
	}
}

// lookup is the hash of the first copy of a hall's record seq stored
// before stream seq before ("" when there is none).
func (c *AuditChecker) lookup(ctx context.Context, hallID string, seq, before uint64) string {
	recs, err := readBlock(ctx, c.js, hallID, seq/forward.AuditBlock, before)
	if err != nil {
		return ""
	}
	for _, r := range recs {
		if r.Seq == seq {
			return r.Hash
		}
	}
	return ""
}

// StoredRecord is a hall's audit record as the central holds it.
type StoredRecord struct {
	audit.Record
	Stream uint64 `json:"stream_seq"` // its place in HALL_AUDIT
}

// readBlock reads a hall's records of one block (forward.AuditBlock
// records), in stream order, stored before stream seq before (0: all).
func readBlock(ctx context.Context, js jetstream.JetStream, hallID string, block, before uint64) ([]StoredRecord, error) {
	subj := "hallaudit." + hallID + "." + strconv.FormatUint(block, 10)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(cctx, HallAuditStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}})
	if err != nil {
		return nil, err
	}
	info, err := cons.Info(cctx)
	if err != nil {
		return nil, err
	}
	n := int(info.NumPending)
	var out []StoredRecord
	for n > 0 {
		batch, err := cons.Fetch(min(n, 500), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, err
		}
		got := 0
		for m := range batch.Messages() {
			got++
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			if before > 0 && md.Sequence.Stream >= before {
				n = 0
				break
			}
			var r audit.Record
			if json.Unmarshal(m.Data(), &r) != nil {
				r = audit.Record{Action: "(not an audit record)"}
			}
			out = append(out, StoredRecord{Record: r, Stream: md.Sequence.Stream})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, err
		}
		if got == 0 {
			break
		}
		n -= got
	}
	return out, nil
}

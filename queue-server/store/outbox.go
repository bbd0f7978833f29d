package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// The outbox is the event log from a mark on: every event from the meta
// key outbox_from (1 when absent) to the last one is still to forward, or
// forwarded and not yet compacted, so a commit writes nothing for it (the
// last seq is in the meta it writes anyway). Compaction moves the mark.
// Schema ≤ 3 kept an entry per event in the outbox bucket, always the
// log's tail from its first entry: opening such a file sets the mark
// there and empties the bucket (outboxToMark).

var kOutboxFrom = []byte("outbox_from")

// outboxFrom is the first event the outbox holds.
func outboxFrom(m *bolt.Bucket) uint64 { return max(getU64(m, kOutboxFrom), 1) }

// outboxToMark turns a schema ≤ 3 outbox (an entry per event, the log's
// tail) into the mark, in the opening transaction.
func outboxToMark(tx *bolt.Tx) error {
	m, b := tx.Bucket(bMeta), tx.Bucket(bOutbox)
	from := getU64(m, kSeq) + 1 // nothing left to forward or compact
	if k, _ := b.Cursor().First(); k != nil {
		if len(k) != 8 {
			return fmt.Errorf("a garbled outbox entry (%d-byte key)", len(k))
		}
		from = binary.BigEndian.Uint64(k)
	}
	// compaction only ever dropped forwarded events: whatever the entries
	// say, nothing after the forwarded mark leaves the outbox
	from = min(from, getU64(m, kForwarded)+1)
	if err := tx.DeleteBucket(bOutbox); err != nil {
		return err
	}
	if _, err := tx.CreateBucket(bOutbox); err != nil {
		return err
	}
	return putU64(m, kOutboxFrom, from)
}

// Outbox returns up to limit events not yet forwarded to the central
// platform, in sequence order.
func (s *Store) Outbox(limit int) ([]hall.Event, error) {
	var after uint64
	if err := s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		after = max(getU64(m, kForwarded), outboxFrom(m)-1)
		return nil
	}); err != nil {
		return nil, err
	}
	return s.readLog(bEvents, after, limit)
}

// MarkForwarded records that every event up to seq has been acknowledged by
// the central platform. It never moves backwards.
func (s *Store) MarkForwarded(seq uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if cur := getU64(m, kForwarded); seq <= cur {
			return nil
		}
		if last := getU64(m, kSeq); seq > last {
			return fmt.Errorf("store: cannot mark %d forwarded, last event is %d", seq, last)
		}
		return putU64(m, kForwarded, seq)
	})
}

// OutboxStats reports the forwarding backlog: how many events wait and the
// time of the oldest one (zero when none wait).
type OutboxStats struct {
	Forwarded uint64    `json:"forwarded"` // last acknowledged seq
	Last      uint64    `json:"last"`      // last committed seq
	Backlog   uint64    `json:"backlog"`
	Oldest    time.Time `json:"oldest,omitzero"`
}

// OutboxStats returns the current backlog.
func (s *Store) OutboxStats() (OutboxStats, error) {
	var st OutboxStats
	err := s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		st.Forwarded, st.Last = getU64(m, kForwarded), getU64(m, kSeq)
		st.Backlog = st.Last - min(st.Forwarded, st.Last)
		if st.Backlog == 0 {
			return nil
		}
		var err error
		st.Oldest, err = eventTime(tx, u64(max(st.Forwarded+1, outboxFrom(m))))
		return err
	})
	return st, err
}

// CompactOutbox drops forwarded events committed before cutoff from the
// outbox, at most limit of them per call (so a long history does not hold
// one huge transaction). It returns how many it dropped.
func (s *Store) CompactOutbox(cutoff time.Time, limit int) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		fwd, from := getU64(m, kForwarded), outboxFrom(m)
		seq := from
		for ; seq <= fwd && n < limit; seq++ {
			at, err := eventTime(tx, u64(seq))
			if err != nil {
				return err
			}
			if !at.Before(cutoff) {
				break
			}
			n++
		}
		if n == 0 {
			return nil
		}
		return putU64(m, kOutboxFrom, seq)
	})
	return n, err
}

// eventTime returns when the event with key seq was committed.
func eventTime(tx *bolt.Tx, seq []byte) (time.Time, error) {
	var ev struct {
		At time.Time `json:"at"`
	}
	v := tx.Bucket(bEvents).Get(seq)
	if len(v) > 0 && v[0] == patchTag { // its time is in the event's own part
		p, err := splitPatch(v)
		if err != nil {
			return time.Time{}, fmt.Errorf("store: event %d: %w", binary.BigEndian.Uint64(seq), err)
		}
		v = p.rest
	}
	if err := json.Unmarshal(v, &ev); err != nil {
		return time.Time{}, fmt.Errorf("store: event %d: %w", binary.BigEndian.Uint64(seq), err)
	}
	return ev.At, nil
}

// OutboxBytes returns how many events the outbox holds and the bytes it
// takes beyond them: none (the events are stored once, in the event log;
// the outbox is a mark in the meta bucket).
func (s *Store) OutboxBytes() (events int, bytes int64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if from, last := outboxFrom(m), getU64(m, kSeq); last >= from {
			events = int(last - from + 1)
		}
		return nil
	})
	return events, 0, err
}

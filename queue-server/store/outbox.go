package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// The outbox holds one entry per commit: the key is the commit's first
// event's seq, the value empty when the commit had that event alone (the
// only form of schema ≤ 3 files) or else the last one's seq. An entry
// compacted in part keeps the rest of its range under a new key.

// outboxRange reads an entry: the seqs from first to last.
func outboxRange(k, v []byte) (first, last uint64, err error) {
	if len(k) != 8 || len(v) != 0 && len(v) != 8 {
		return 0, 0, fmt.Errorf("store: a garbled outbox entry (%d-byte key, %d-byte value)", len(k), len(v))
	}
	first, last = binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k)
	if len(v) == 8 {
		last = binary.BigEndian.Uint64(v)
	}
	if last < first {
		return 0, 0, fmt.Errorf("store: a garbled outbox entry (%d to %d)", first, last)
	}
	return first, last, nil
}

// eachOutboxed calls fn with each seq in the outbox after seq, in order,
// until fn says stop.
func eachOutboxed(tx *bolt.Tx, after uint64, fn func(seq uint64) (more bool, err error)) error {
	c := tx.Bucket(bOutbox).Cursor()
	k, v := c.Seek(u64(after + 1))
	if k == nil || binary.BigEndian.Uint64(k) > after+1 { // the range before may hold after+1
		if pk, pv := c.Prev(); pk != nil {
			if _, last, err := outboxRange(pk, pv); err != nil {
				return err
			} else if last > after {
				k, v = pk, pv
			} else {
				k, v = c.Next()
			}
		} else if k == nil {
			k, v = c.First()
		}
	}
	for ; k != nil; k, v = c.Next() {
		first, last, err := outboxRange(k, v)
		if err != nil {
			return err
		}
		for seq := max(first, after+1); seq <= last; seq++ {
			if more, err := fn(seq); err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// Outbox returns up to limit events not yet forwarded to the central
// platform, in sequence order.
func (s *Store) Outbox(limit int) ([]hall.Event, error) {
	var after uint64
	if err := s.db.View(func(tx *bolt.Tx) error {
		after = getU64(tx.Bucket(bMeta), kForwarded)
		return nil
	}); err != nil {
		return nil, err
	}
	return s.readLog(bOutbox, after, limit)
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
		return eachOutboxed(tx, st.Forwarded, func(seq uint64) (bool, error) {
			var err error
			st.Oldest, err = eventTime(tx, u64(seq))
			return false, err
		})
	})
	return st, err
}

// CompactOutbox drops forwarded events committed before cutoff from the
// outbox, at most limit of them per call (so a long history does not hold
// one huge transaction). It returns how many it dropped.
func (s *Store) CompactOutbox(cutoff time.Time, limit int) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		fwd := getU64(tx.Bucket(bMeta), kForwarded)
		b := tx.Bucket(bOutbox)
		for n < limit {
			k, v := b.Cursor().First()
			if k == nil {
				break
			}
			first, last, err := outboxRange(k, v)
			if err != nil {
				return err
			}
			// the entry's events that may go: forwarded, before cutoff
			upTo := first - 1
			for seq := first; seq <= min(last, fwd) && n < limit; seq++ {
				at, err := eventTime(tx, u64(seq))
				if err != nil {
					return err
				}
				if !at.Before(cutoff) {
					break
				}
				upTo, n = seq, n+1
			}
			if upTo < first {
				break
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			if upTo < last { // the rest of the range stays
				var rest []byte
				if upTo+1 < last {
					rest = u64(last)
				}
				if err := b.Put(u64(upTo+1), rest); err != nil {
					return err
				}
				break
			}
		}
		return nil
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

// OutboxBytes returns how many events the outbox names and the bytes its
// own entries occupy (keys and values, one entry per commit); the events
// are stored once, in the event log.
func (s *Store) OutboxBytes() (events int, bytes int64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			first, last, err := outboxRange(k, v)
			if err != nil {
				return err
			}
			events += int(last - first + 1)
			bytes += int64(len(k) + len(v))
			return nil
		})
	})
	return events, bytes, err
}

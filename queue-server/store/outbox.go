package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

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
		k, _ := tx.Bucket(bOutbox).Cursor().Seek(u64(st.Forwarded + 1))
		if k == nil {
			return nil
		}
		var err error
		st.Oldest, err = eventTime(tx, k)
		return err
	})
	return st, err
}

// CompactOutbox deletes forwarded outbox entries committed before cutoff,
// at most limit of them per call (so a long history does not hold one huge
// transaction). It returns how many it deleted.
func (s *Store) CompactOutbox(cutoff time.Time, limit int) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		fwd := getU64(tx.Bucket(bMeta), kForwarded)
		c := tx.Bucket(bOutbox).Cursor()
		for k, _ := c.First(); k != nil && n < limit; k, _ = c.First() {
			if binary.BigEndian.Uint64(k) > fwd {
				break
			}
			at, err := eventTime(tx, k)
			if err != nil {
				return err
			}
			if !at.Before(cutoff) {
				break
			}
			if err := c.Delete(); err != nil {
				return err
			}
			n++
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

// OutboxBytes returns the bytes the outbox's own entries occupy (keys and
// values); the events they name are stored once, in the event log.
func (s *Store) OutboxBytes() (entries int, bytes int64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bOutbox).ForEach(func(k, v []byte) error {
			entries++
			bytes += int64(len(k) + len(v))
			return nil
		})
	})
	return entries, bytes, err
}

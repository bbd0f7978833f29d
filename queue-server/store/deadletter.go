package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bDeadLetters holds outbox batches the central platform refused for good
// (an HTTPS 4xx): first seq (8 bytes) → DeadLetter JSON. The bucket is
// created on first use, so files of schema 1 need no migration.
var bDeadLetters = []byte("deadletters")

// DeadLetter is a batch of outbox events moved aside because the central
// platform rejected it permanently. Body is exactly what was sent, so an
// operator can inspect and re-submit it.
type DeadLetter struct {
	First  uint64          `json:"first"` // first seq of the batch
	Last   uint64          `json:"last"`  // last seq of the batch
	At     time.Time       `json:"at"`
	Status int             `json:"status,omitempty"` // HTTP status, if any
	Reason string          `json:"reason"`
	Body   json.RawMessage `json:"body,omitempty"`
	// Purged: the personal data retention removed citizen keys and masked
	// ID numbers from Body (its events are past the retention period).
	Purged bool `json:"purged,omitempty"`
}

// PutDeadLetter records d and, in the same transaction, marks every event
// up to d.Last forwarded, so a poison batch is neither lost nor retried
// forever.
func (s *Store) PutDeadLetter(d DeadLetter) error {
	if d.First == 0 || d.Last < d.First {
		return fmt.Errorf("store: dead letter needs a seq range, got %d–%d", d.First, d.Last)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if last := getU64(m, kSeq); d.Last > last {
			return fmt.Errorf("store: dead letter ends at %d, last event is %d", d.Last, last)
		}
		b, err := tx.CreateBucketIfNotExists(bDeadLetters)
		if err != nil {
			return err
		}
		if err := b.Put(u64(d.First), raw); err != nil {
			return err
		}
		if getU64(m, kForwarded) < d.Last {
			return putU64(m, kForwarded, d.Last)
		}
		return nil
	})
}

// DeadLetters returns up to limit dead letters, oldest first.
func (s *Store) DeadLetters(limit int) ([]DeadLetter, error) {
	var out []DeadLetter
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDeadLetters)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var d DeadLetter
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("store: dead letter %x: %w", k, err)
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// ErrNoDeadLetter: no dead letter starts at that sequence number.
var ErrNoDeadLetter = errors.New("store: no such dead letter")

// DeadLetter returns the dead letter whose batch starts at first.
func (s *Store) DeadLetter(first uint64) (DeadLetter, error) {
	var d DeadLetter
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDeadLetters)
		var v []byte
		if b != nil {
			v = b.Get(u64(first))
		}
		if v == nil {
			return ErrNoDeadLetter
		}
		return json.Unmarshal(v, &d)
	})
	return d, err
}

// DropDeadLetter removes the dead letter starting at first, once the
// central platform has taken the batch after all.
func (s *Store) DropDeadLetter(first uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bDeadLetters)
		if b == nil || b.Get(u64(first)) == nil {
			return ErrNoDeadLetter
		}
		return b.Delete(u64(first))
	})
}

// DeadLetterCount is how many dead letters wait in the store.
func (s *Store) DeadLetterCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bDeadLetters); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

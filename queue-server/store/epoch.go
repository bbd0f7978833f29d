package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// An epoch names one incarnation of a hall's store: a new hall gets one,
// and a store restored from a backup gets a new one at its first open, from
// the sequence number after its last event. Sequence numbers are unique
// within an epoch, not across epochs: a restored hall numbers its events
// again from where the backup stopped, while the central platform may
// already have seen those numbers from the lost store. So the epoch goes
// with the sequence number wherever one is remembered outside the hall —
// the forwarded message id, a websocket client's resume point.
//
// A store made before epochs existed has the empty epoch "" until it is
// restored; its message ids stay as they were.
//
// Layout: meta/epoch holds the current epoch; bucket epochs maps the first
// seq of each epoch (8 bytes, big-endian) to its name (created on first
// use); meta/restored marks a backup copy whose next open starts an epoch.

var bEpochs = []byte("epochs")

type epochStart struct {
	first uint64
	name  string
}

// startEpoch begins a new random epoch at seq first, in tx.
func startEpoch(tx *bolt.Tx, first uint64) error {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	name := hex.EncodeToString(raw[:])
	b, err := tx.CreateBucketIfNotExists(bEpochs)
	if err != nil {
		return err
	}
	if err := b.Put(u64(first), []byte(name)); err != nil {
		return err
	}
	return tx.Bucket(bMeta).Put(kEpoch, []byte(name))
}

// loadEpochs reads the epochs' starts, in order.
func (s *Store) loadEpochs() error {
	return s.db.View(func(tx *bolt.Tx) error {
		s.epochs = nil
		b := tx.Bucket(bEpochs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) == 8 {
				s.epochs = append(s.epochs, epochStart{binary.BigEndian.Uint64(k), string(v)})
			}
			return nil
		})
	})
}

// Epoch is the store's current epoch ("" for a store older than epochs
// that was never restored).
func (s *Store) Epoch() string { return s.epoch }

// EpochOf is the epoch in which the event with sequence number seq was
// committed.
func (s *Store) EpochOf(seq uint64) string {
	name := ""
	for _, e := range s.epochs {
		if e.first > seq {
			break
		}
		name = e.name
	}
	return name
}

// Created reports whether this open created a new hall.
func (s *Store) Created() bool { return s.created }

// Restored reports whether this open was a restored backup's first, which
// began a new epoch.
func (s *Store) Restored() bool { return s.restored }

// MarkRestored marks the hall store file at path (not in use) as a backup
// copy: the next time a hall opens it, it begins a new epoch. `queue-server
// backup` marks every backup it writes, and `queue-server restore` marks
// the file it puts in place.
func MarkRestored(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("store: mark %s as a backup: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("store: mark %s as a backup: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		if m == nil {
			return fmt.Errorf("not a hallq store")
		}
		return m.Put(kRestored, []byte("1"))
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: mark %s as a backup: %w", path, err)
	}
	return nil
}

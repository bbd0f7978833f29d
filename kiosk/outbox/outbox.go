// Package outbox is the kiosk's own durable store (one bbolt file): the
// number leases the server granted, and the tickets issued from them while
// the server was unreachable, kept until the server has taken them over —
// or set aside, when it refused them for good. A kiosk restarted while
// offline loses nothing.
package outbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

var (
	bLeases  = []byte("leases")  // lease id → localLease JSON
	bPending = []byte("pending") // issue time (RFC3339Nano) + id → OfflineTicket JSON
	bMeta    = []byte("meta")
	bDoubt   = []byte("doubt")    // idempotency key → IssueRequest JSON of an online issue whose answer was lost
	bAside   = []byte("aside")    // pending key → SetAside JSON: offline tickets the server refused for good
	kSealKey = []byte("seal_key") // the hall server's public key (package seal)
	// kOldSecret: where kiosks before sealed IDs kept the hall's citizen-key
	// secret; Open deletes it, so an upgraded kiosk holds no such key.
	kOldSecret = []byte("secret")
)

// ErrNoNumbers means no lease for the service has a number left: the kiosk
// must say tickets are temporarily unavailable rather than invent one.
var ErrNoNumbers = errors.New("outbox: no leased numbers left for this service")

// Store is the kiosk's local outbox. It is safe for concurrent use.
type Store struct{ db *bolt.DB }

type localLease struct {
	hall.Lease
	Taken []int `json:"taken,omitempty"` // numbers issued here, handed over or not
}

// Open opens (creating) the outbox in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "kiosk.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	hadSecret := false
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bLeases, bPending, bMeta, bDoubt, bAside} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if tx.Bucket(bMeta).Get(kOldSecret) == nil {
			return nil
		}
		// Pending tickets of the old kind carry citizen keys derived with it:
		// they still hand over; only the secret itself must go.
		hadSecret = true
		return tx.Bucket(bMeta).Delete(kOldSecret)
	})
	if err == nil && hadSecret {
		db, err = rewrite(db, path)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Store{db: db}, nil
}

// rewrite copies the open file into a fresh one and puts it in its place:
// a deleted value stays in bbolt's free pages until they are reused, and
// the old citizen-key secret must not stay readable on the kiosk's disk.
func rewrite(db *bolt.DB, path string) (*bolt.DB, error) {
	tmp := path + ".rewrite"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return db, err
	}
	if err := bolt.Compact(dst, db, 1<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return db, err
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return db, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// SetSealKey keeps the hall server's public key, to which ID numbers are
// sealed while offline. It is public: it opens nothing.
func (s *Store) SetSealKey(pub string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kSealKey, []byte(pub)) })
}

// SealKey returns the stored public key ("" before the first connection).
func (s *Store) SealKey() (string, error) {
	var out string
	err := s.db.View(func(tx *bolt.Tx) error {
		out = string(tx.Bucket(bMeta).Get(kSealKey))
		return nil
	})
	return out, err
}

// PutLease records a lease granted by the server (keeping what was already
// taken from it here).
func (s *Store) PutLease(l hall.Lease) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bLeases)
		ll := localLease{Lease: l}
		if old := b.Get([]byte(l.ID)); old != nil {
			var prev localLease
			if err := json.Unmarshal(old, &prev); err == nil {
				ll.Taken = prev.Taken
			}
		}
		return putJSON(b, []byte(l.ID), ll)
	})
}

// DropLease forgets a lease (released, or from an earlier day).
func (s *Store) DropLease(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bLeases).Delete([]byte(id)) })
}

// Leases returns the leases with the count of numbers still free in each.
func (s *Store) Leases() (map[string]int, []hall.Lease, error) {
	free := map[string]int{}
	var out []hall.Lease
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bLeases).ForEach(func(k, v []byte) error {
			var ll localLease
			if err := json.Unmarshal(v, &ll); err != nil {
				return err
			}
			out = append(out, ll.Lease)
			free[ll.Service] += ll.free()
			return nil
		})
	})
	return free, out, err
}

func (ll *localLease) free() int {
	if ll.Released {
		return 0
	}
	return ll.To - ll.From + 1 - len(ll.Taken)
}

// Take issues an offline ticket: it picks the lowest free number of a live
// lease for the service (of day), records the ticket as pending and returns
// it with its printed number, all in one synced transaction — so a crash
// right after can neither lose the ticket nor give its number twice.
func (s *Store) Take(service, day string, t hall.OfflineTicket) (hall.OfflineTicket, string, error) {
	var number string
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bLeases)
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var ll localLease
			if err := json.Unmarshal(v, &ll); err != nil {
				return err
			}
			if ll.Service != service || ll.Day != day || ll.free() == 0 {
				continue
			}
			for n := ll.From; n <= ll.To; n++ {
				if !slices.Contains(ll.Taken, n) && !slices.Contains(ll.Used, n) {
					ll.Taken = append(ll.Taken, n)
					t.Lease, t.Number = ll.ID, n
					number = hall.FormatNumber(service, n, max(ll.Digits, 3))
					if err := putJSON(b, k, ll); err != nil {
						return err
					}
					return putJSON(tx.Bucket(bPending), pendingKey(t), t)
				}
			}
		}
		return ErrNoNumbers
	})
	return t, number, err
}

func pendingKey(t hall.OfflineTicket) []byte {
	return []byte(t.IssuedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "/" + t.ID)
}

// Pending returns the offline tickets not yet taken over, oldest first.
func (s *Store) Pending() ([]hall.OfflineTicket, error) {
	var out []hall.OfflineTicket
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bPending).ForEach(func(k, v []byte) error {
			var t hall.OfflineTicket
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	return out, err
}

// Done removes an offline ticket the server has taken over.
func (s *Store) Done(t hall.OfflineTicket) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bPending).Delete(pendingKey(t)) })
}

// SetAside is an offline ticket the server refused for good (its lease
// lapsed, a day passed, the service was removed): kept a while for staff,
// without the citizen's key and masked ID, no longer handed over.
type SetAside struct {
	Ticket hall.OfflineTicket `json:"ticket"`
	Reason string             `json:"reason"`
	At     time.Time          `json:"at"`
}

// PutAside moves a pending ticket aside with the server's reason, in one
// transaction. Its personal data (even the sealed number) is dropped: staff find the citizen by the
// ticket number.
func (s *Store) PutAside(t hall.OfflineTicket, reason string, at time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		k := pendingKey(t)
		t.CitizenKey, t.MaskedID, t.SealedID = "", "", ""
		if err := tx.Bucket(bPending).Delete(k); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bAside), k, SetAside{Ticket: t, Reason: reason, At: at})
	})
}

// Aside returns the tickets set aside since the time given, oldest first.
func (s *Store) Aside(since time.Time) ([]SetAside, error) {
	var out []SetAside
	err := s.eachAside(func(_ []byte, a SetAside) {
		if !a.At.Before(since) {
			out = append(out, a)
		}
	})
	return out, err
}

// ForgetAside drops the tickets set aside before the time given. It writes
// (and syncs) only when one is due.
func (s *Store) ForgetAside(before time.Time) error {
	var old [][]byte
	err := s.eachAside(func(k []byte, a SetAside) {
		if a.At.Before(before) {
			old = append(old, slices.Clone(k))
		}
	})
	if err != nil || len(old) == 0 {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range old {
			if err := tx.Bucket(bAside).Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) eachAside(fn func(k []byte, a SetAside)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bAside).ForEach(func(k, v []byte) error {
			var a SetAside
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			fn(k, a)
			return nil
		})
	})
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, raw)
}

// AddDoubt records an online issue whose answer never came: the server may
// or may not hold that ticket. On reconnect the kiosk replays the key and
// cancels the result, so no ticket nobody holds stays in the queue.
func (s *Store) AddDoubt(key string, r hall.IssueRequest) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bDoubt), []byte(key), r) })
}

// Doubts returns the recorded doubtful issues by key.
func (s *Store) Doubts() (map[string]hall.IssueRequest, error) {
	out := map[string]hall.IssueRequest{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bDoubt).ForEach(func(k, v []byte) error {
			var r hall.IssueRequest
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out[string(k)] = r
			return nil
		})
	})
	return out, err
}

// ClearDoubt forgets a doubtful issue once resolved.
func (s *Store) ClearDoubt(key string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bDoubt).Delete([]byte(key)) })
}

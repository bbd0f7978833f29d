// Package store keeps a hall in one bbolt file: the current state (tickets,
// windows, counters, leases, bookings, blacklist), the event log, the outbox
// for the central platform, idempotency keys, and the server's secrets and
// access tokens. It is the only package that imports bbolt.
//
// Every hall change is committed by Commit in ONE synced transaction that
// writes the new state, the events and their outbox entries together, so a
// crash leaves either all of a change or none of it.
//
// A commit writes each event's JSON once. Everything else it writes is a
// small key appended at the end of its bucket: a ticket's state is a
// pointer to the event holding its latest snapshot, an outbox entry is the
// event's sequence number, an idempotency record is keyed by the event
// that answered it. So a commit touches few pages, and the bytes that make
// up an event are on disk once.
//
// Layout (bucket → key → value):
//
//	meta       schema, day, seq, forwarded, secret, config (the latest config.changed configuration, JSON),
//	           closed_day (the day of the latest day.closed event);
//	           retention watermarks purged_key, purged_seq, scrub
//	tickets    ticket id → seq of the latest event carrying the ticket (its snapshot is there)
//	days       "YYYY-MM-DD/<ticket id>" → "" (index: what Load reads)
//	windows    number (4 bytes) → Window JSON
//	counters   "YYYY-MM-DD/<service>" → Counter JSON
//	leases     "YYYY-MM-DD/<lease id>" → Lease JSON
//	bookings   booking id → Booking JSON (pruned when their day is closed)
//	blacklist  citizen key → BlackEntry JSON
//	idem       "YYYY-MM-DD/<seq>" → result ref, NUL, scoped key
//	events     seq (8 bytes, big-endian) → Event JSON
//	outbox     seq (8 bytes, big-endian) → "" (an event still to forward, or forwarded and not yet compacted)
//	tokens     sha256(token) → Token JSON
//	users      name → User JSON (bcrypt password hash)
//	deadletters first seq → DeadLetter JSON (batches the central refused; created on first use)
package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"hallq/queue-server/hall"
)

// SchemaVersion is the layout this build writes and understands. Files of
// schema 1 (which kept ticket and outbox copies of each event and keyed
// idempotency records by their key) are upgraded when opened.
const SchemaVersion = 2

// FileName is the database's name inside the data directory.
const FileName = "hall.db"

var (
	bMeta      = []byte("meta")
	bTickets   = []byte("tickets")
	bDays      = []byte("days")
	bWindows   = []byte("windows")
	bCounters  = []byte("counters")
	bLeases    = []byte("leases")
	bBookings  = []byte("bookings")
	bBlacklist = []byte("blacklist")
	bIdem      = []byte("idem")
	bEvents    = []byte("events")
	bOutbox    = []byte("outbox")
	bTokens    = []byte("tokens")
	bUsers     = []byte("users")

	allBuckets = [][]byte{bMeta, bTickets, bDays, bWindows, bCounters, bLeases, bBookings, bBlacklist, bIdem, bEvents, bOutbox, bTokens, bUsers}

	kSchema    = []byte("schema")
	kDay       = []byte("day")
	kSeq       = []byte("seq")
	kForwarded = []byte("forwarded")
	kSecret    = []byte("secret")
	kConfig    = []byte("config")
	kClosedDay = []byte("closed_day")
)

// Store is an open hall database. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// ErrNewerSchema is returned when the file was written by a newer hallq.
var ErrNewerSchema = errors.New("store: the data file was written by a newer version of hallq")

// Open opens (creating if needed) the database in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("store: %s is in use by another process", path)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	// A read-only look first, so a newer file is refused without touching it.
	var version uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bMeta); m != nil {
			version = getU64(m, kSchema)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if version > SchemaVersion {
		return fmt.Errorf("%w (%s has schema %d, this build understands up to %d): upgrade hallq or restore a backup",
			ErrNewerSchema, s.path, version, SchemaVersion)
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bMeta)
		if m.Get(kSecret) == nil {
			secret := make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				return err
			}
			if err := m.Put(kSecret, secret); err != nil {
				return err
			}
		}
		if version == 1 {
			if err := upgradeFrom1(tx); err != nil {
				return fmt.Errorf("store: upgrade %s from schema 1: %w", s.path, err)
			}
		}
		return putU64(m, kSchema, SchemaVersion)
	})
}

// upgradeFrom1 rewrites a schema 1 file in place (in the opening
// transaction): ticket snapshots become pointers into the event log,
// outbox entries drop their copy of the event, and idempotency records are
// keyed in the order they were written.
func upgradeFrom1(tx *bolt.Tx) error {
	tickets := tx.Bucket(bTickets)
	c := tx.Bucket(bEvents).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var ev struct {
			Ticket *struct {
				ID string `json:"id"`
			} `json:"ticket"`
		}
		if err := json.Unmarshal(v, &ev); err != nil {
			return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if ev.Ticket != nil {
			if err := tickets.Put([]byte(ev.Ticket.ID), bytes.Clone(k)); err != nil {
				return err
			}
		}
	}
	outbox := tx.Bucket(bOutbox)
	var keys [][]byte
	outbox.ForEach(func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil })
	for _, k := range keys {
		if err := outbox.Put(k, nil); err != nil {
			return err
		}
	}
	type rec struct{ day, key, ref []byte }
	var recs []rec
	tx.Bucket(bIdem).ForEach(func(k, v []byte) error {
		day, key, _ := bytes.Cut(k, []byte("/"))
		recs = append(recs, rec{bytes.Clone(day), bytes.Clone(key), bytes.Clone(v)})
		return nil
	})
	if err := tx.DeleteBucket(bIdem); err != nil {
		return err
	}
	// the tickets' own purge watermark: they hold no personal data now
	if err := tx.Bucket(bMeta).Delete([]byte("purged_key")); err != nil {
		return err
	}
	idem, err := tx.CreateBucket(bIdem)
	if err != nil {
		return err
	}
	// numbered from 1: no more records than events, so below every future seq
	for i, r := range recs {
		if err := idem.Put(idemKey(string(r.day), uint64(i+1)), idemValue(string(r.ref), string(r.key))); err != nil {
			return err
		}
	}
	return nil
}

// idemKey keys an idempotency record by its day and the event that
// answered it, so records are appended in commit order.
func idemKey(day string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(day+"/"), seq)
}

func idemValue(ref, key string) []byte { return []byte(ref + "\x00" + key) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Secret returns the hall's random secret (used to derive citizen keys when
// the hall is not joined to a central platform).
func (s *Store) Secret() ([]byte, error) {
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		out = bytes.Clone(tx.Bucket(bMeta).Get(kSecret))
		return nil
	})
	return out, err
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

func getU64(b *bolt.Bucket, k []byte) uint64 {
	v := b.Get(k)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putU64(b *bolt.Bucket, k []byte, n uint64) error { return b.Put(k, u64(n)) }

func winKey(n int) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	return b[:]
}

// Commit writes a batch of hall events — state snapshots, log and outbox —
// in one transaction, synced to disk before it returns.
func (s *Store) Commit(events []hall.Event) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		seq := getU64(m, kSeq)
		day := string(m.Get(kDay))
		for i := range events {
			ev := &events[i]
			if ev.Seq != seq+1 {
				return fmt.Errorf("store: event seq %d does not follow %d", ev.Seq, seq)
			}
			seq = ev.Seq
			if err := s.apply(tx, ev); err != nil {
				return err
			}
			if ev.Day > day {
				day = ev.Day
			}
		}
		if err := m.Put(kDay, []byte(day)); err != nil {
			return err
		}
		return putU64(m, kSeq, seq)
	})
}

func (s *Store) apply(tx *bolt.Tx, ev *hall.Event) error {
	put := func(bucket []byte, key []byte, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return tx.Bucket(bucket).Put(key, b)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := appendOnly(tx, bEvents).Put(u64(ev.Seq), raw); err != nil {
		return err
	}
	if ev.Idem != nil {
		if err := appendOnly(tx, bIdem).Put(idemKey(ev.Day, ev.Seq), idemValue(ev.Idem.Ref, ev.Idem.Key)); err != nil {
			return err
		}
	}
	if err := appendOnly(tx, bOutbox).Put(u64(ev.Seq), nil); err != nil {
		return err
	}
	if t := ev.Ticket; t != nil {
		if err := tx.Bucket(bTickets).Put([]byte(t.ID), u64(ev.Seq)); err != nil {
			return err
		}
		if ev.Type == hall.EvTicketIssued || ev.Type == hall.EvTicketCarried { // the only events that give a ticket its day
			if err := tx.Bucket(bDays).Put([]byte(t.Day+"/"+t.ID), nil); err != nil {
				return err
			}
		}
	}
	if w := ev.Window; w != nil {
		if err := put(bWindows, winKey(w.Number), w); err != nil {
			return err
		}
	}
	if c := ev.Counter; c != nil {
		if err := put(bCounters, []byte(c.Day+"/"+c.Service), c); err != nil {
			return err
		}
	}
	if l := ev.Lease; l != nil {
		if err := put(bLeases, []byte(l.Day+"/"+l.ID), l); err != nil {
			return err
		}
	}
	if b := ev.Appointment; b != nil {
		if err := put(bBookings, []byte(b.ID), b); err != nil {
			return err
		}
	}
	if c := ev.Config; c != nil {
		if err := put(bMeta, kConfig, c); err != nil {
			return err
		}
	}
	if e := ev.Blacklist; e != nil {
		if e.Removed {
			if err := tx.Bucket(bBlacklist).Delete([]byte(e.CitizenKey)); err != nil {
				return err
			}
		} else if err := put(bBlacklist, []byte(e.CitizenKey), e); err != nil {
			return err
		}
	}
	if ev.Type == hall.EvDayClosed {
		if err := tx.Bucket(bMeta).Put(kClosedDay, []byte(ev.Day)); err != nil {
			return err
		}
		return pruneBookings(tx, ev.Day)
	}
	return nil
}

// appendOnly returns a bucket whose keys only ever grow (sequence numbers,
// day-prefixed sequence numbers), set to fill its pages when they split:
// bbolt's default leaves appended pages half empty.
func appendOnly(tx *bolt.Tx, name []byte) *bolt.Bucket {
	b := tx.Bucket(name)
	b.FillPercent = 1
	return b
}

// pruneBookings drops appointments whose slot day is before day.
func pruneBookings(tx *bolt.Tx, day string) error {
	b := tx.Bucket(bBookings)
	var drop [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var bk hall.Booking
		if json.Unmarshal(v, &bk) == nil && bk.SlotStart.Format(time.DateOnly) < day {
			drop = append(drop, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range drop {
		if err == nil {
			err = b.Delete(k)
		}
	}
	return err
}

// Load reads what the hall needs to resume: the current day's tickets and
// keys, windows, counters, leases, current bookings, the blacklist and the
// configuration last changed at runtime. It does not scan history, so a
// year of tickets does not slow startup.
func (s *Store) Load() (hall.State, error) {
	var st hall.State
	err := s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		st.Day, st.Seq = string(m.Get(kDay)), getU64(m, kSeq)
		st.DayClosed = st.Day != "" && string(m.Get(kClosedDay)) == st.Day
		st.Idem = map[string]string{}
		if raw := m.Get(kConfig); raw != nil {
			var c hall.Config
			if err := json.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("store: stored configuration: %w", err)
			}
			st.Config = &c
		}
		if st.Day == "" {
			return nil
		}
		prefix := []byte(st.Day + "/")
		c := tx.Bucket(bDays).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			t, err := ticket(tx, k[len(prefix):])
			if err != nil {
				return err
			}
			if t.Day == st.Day {
				st.Tickets = append(st.Tickets, t)
			}
		}
		if err := eachJSON(tx, bWindows, nil, func(w hall.Window) { st.Windows = append(st.Windows, w) }); err != nil {
			return err
		}
		if err := eachJSON(tx, bCounters, prefix, func(v hall.Counter) { st.Counters = append(st.Counters, v) }); err != nil {
			return err
		}
		if err := eachJSON(tx, bLeases, prefix, func(v hall.Lease) { st.Leases = append(st.Leases, v) }); err != nil {
			return err
		}
		if err := eachJSON(tx, bBookings, nil, func(v hall.Booking) { st.Bookings = append(st.Bookings, v) }); err != nil {
			return err
		}
		if err := eachJSON(tx, bBlacklist, nil, func(v hall.BlackEntry) { st.Blacklist = append(st.Blacklist, v) }); err != nil {
			return err
		}
		ic := tx.Bucket(bIdem).Cursor()
		for k, v := ic.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = ic.Next() {
			ref, key, _ := bytes.Cut(v, []byte{0})
			st.Idem[string(key)] = string(ref)
		}
		return nil
	})
	return st, err
}

// ticket returns a ticket's latest snapshot: the one in the event its
// entry points to.
func ticket(tx *bolt.Tx, id []byte) (hall.Ticket, error) {
	seq := tx.Bucket(bTickets).Get(id)
	var ev struct {
		Ticket *hall.Ticket `json:"ticket"`
	}
	if len(seq) != 8 {
		return hall.Ticket{}, fmt.Errorf("store: ticket %s has no entry", id)
	}
	if err := json.Unmarshal(tx.Bucket(bEvents).Get(seq), &ev); err != nil || ev.Ticket == nil {
		return hall.Ticket{}, fmt.Errorf("store: ticket %s: event %d holds no ticket (%v)", id, binary.BigEndian.Uint64(seq), err)
	}
	return *ev.Ticket, nil
}

func eachJSON[T any](tx *bolt.Tx, name, prefix []byte, fn func(T)) error {
	b := tx.Bucket(name)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("store: %s/%s: %w", name, k, err)
		}
		fn(x)
	}
	return nil
}

// Events returns up to limit committed events with sequence numbers after seq.
func (s *Store) Events(after uint64, limit int) ([]hall.Event, error) {
	return s.readLog(bEvents, after, limit)
}

// readLog returns up to limit events after seq whose keys are in bucket
// (the event log itself, or the outbox), read from the event log.
func (s *Store) readLog(bucket []byte, after uint64, limit int) ([]hall.Event, error) {
	var out []hall.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		events := tx.Bucket(bEvents)
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
			var ev hall.Event
			if err := json.Unmarshal(events.Get(k), &ev); err != nil {
				return fmt.Errorf("store: event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, ev)
		}
		return nil
	})
	return out, err
}

// TicketsBetween calls fn for every ticket whose day lies in [from, to]
// (dates as YYYY-MM-DD), in day order.
func (s *Store) TicketsBetween(from, to string, fn func(hall.Ticket) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDays).Cursor()
		for k, _ := c.Seek([]byte(from)); k != nil; k, _ = c.Next() {
			day, id, _ := strings.Cut(string(k), "/")
			if day > to {
				break
			}
			t, err := ticket(tx, []byte(id))
			if err != nil {
				return err
			}
			if t.Day != day {
				continue // carried over: counted on its new day
			}
			if err := fn(t); err != nil {
				return err
			}
		}
		return nil
	})
}

// Backup writes a consistent copy of the database to w while the hall keeps
// serving (one read transaction).
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Verify checks that the file at path is a sound hall store — a backup
// before it is relied on, or a file about to be restored: bbolt opens it
// read-only, its consistency check finds nothing, and its schema is one
// this build understands. It never changes the file.
func Verify(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: verify: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("store: verify %s: %w", path, err)
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		// a cut-off file (an interrupted download) must be refused before
		// the check reads pages beyond its end
		if tx.Size() > fi.Size() {
			return fmt.Errorf("store: verify %s: truncated: %d bytes, the database needs %d", path, fi.Size(), tx.Size())
		}
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("store: verify %s: bbolt check: %w", path, errors.Join(errs...))
		}
		m := tx.Bucket(bMeta)
		if m == nil || m.Get(kSecret) == nil {
			return fmt.Errorf("store: verify %s: not a hallq store (no meta bucket or secret)", path)
		}
		if v := getU64(m, kSchema); v == 0 || v > SchemaVersion {
			return fmt.Errorf("store: verify %s: schema %d, this build understands 1 to %d", path, v, SchemaVersion)
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("store: verify %s: bucket %s missing", path, name)
			}
		}
		return nil
	})
}

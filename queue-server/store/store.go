// Package store keeps a hall in one bbolt file: the current state (tickets,
// windows, counters, leases, bookings, blacklist), the event log, the outbox
// for the central platform, idempotency keys, and the server's secrets and
// access tokens. It is the only package that imports bbolt.
//
// Every hall change is committed by Commit in ONE synced transaction that
// writes the new state and the events (whose tail is the outbox for the
// central platform) together, so a crash leaves either all of a change or
// none of it.
//
// A commit writes each event once (its ticket and window as patches where
// an earlier event of the day holds their snapshots). Everything else it writes is a
// small key appended at the end of its bucket: a ticket's state is a
// pointer to the event holding its latest snapshot (for a ticket only just
// issued, its entry in the day's index), an idempotency record
// is keyed by the event that answered it (or rides in the new ticket's day
// entry, for an issue), and the outbox costs nothing: it
// is the log's tail from a mark. So a commit touches few pages, and the bytes that make
// up an event are on disk once.
//
// Layout (bucket → key → value):
//
//	meta       schema, day, seq, forwarded, secret,
//	           closed_day (the day of the latest day.closed event);
//	           outbox_from (the first event still to forward or not yet compacted; absent: 1);
//	           retention watermarks purged_key, purged_seq, purged_idem_day, scrub
//	tickets    ticket id → seq of the latest event carrying the ticket (its snapshot is there); since
//	           schema 5 not written by the issue: a ticket with no event after it has no entry
//	days       "YYYY-MM-DD/<ticket id>" → "" (index: what Load reads); since schema 5 the seq (8 bytes)
//	           of the event that gave the ticket that day (the latest snapshot when tickets has no later one),
//	           then, for a ticket issued with an idempotency key, that request's record as in idem
//	windows    number (4 bytes) → Window JSON
//	counters   "YYYY-MM-DD/<service>" → Counter JSON, the current day's only (a commit drops earlier days')
//	leases     "YYYY-MM-DD/<lease id>" → Lease JSON
//	bookings   booking id → Booking JSON (pruned when their day is closed)
//	blacklist  citizen key → BlackEntry JSON
//	idem       "YYYY-MM-DD/<seq>" → 0x01, request fingerprint, NUL, result ref, NUL, scoped key
//	           (records from before fingerprints: result ref, NUL, scoped key); since schema 5 only
//	           the records of requests that did not issue a ticket (those are in days)
//	events     seq (8 bytes, big-endian) → Event JSON, or a patch of its ticket and window
//	           against their earlier snapshots of the day (eventcodec.go); read back, the same event
//	outbox     empty since schema 4: the outbox is the log from meta's outbox_from on (outbox.go);
//	           schema ≤ 3 kept seq (8 bytes, big-endian) → "" for each event of it
//	tokens     sha256(token) → Token JSON (written only through updateTokens, which drops the lookup cache)
//	users      name → User JSON (bcrypt password hash)
//	deadletters first seq → DeadLetter JSON (batches the central refused; created on first use)
//	epochs     first seq (8 bytes) → epoch name (see epoch.go; created on first use)
//	helps      "YYYY-MM-DD/<helper call id>" → HelpCall JSON (帮办; created on first use;
//	           pruned with the personal data, retention.go)
//	dayfigures "YYYY-MM-DD" → a closed day's figures per report grouping (digest.go)
//	dayvisits  "YYYY-MM-DD" → a closed day's visits with a matter handled (digest.go)
//	settings   config (the latest config.changed configuration, JSON), catalog (the latest
//	           catalog.received province catalogue, JSON); schema ≤ 4 kept both in meta
//	backup-media media id → a board media file's bytes: only in a backup copy, taken out
//	           again when it is restored (backupmedia.go)
//
// meta also holds epoch (the current epoch), and two one-shot marks:
// created (a new hall, until its first open) and restored (a backup copy:
// its next open begins a new epoch).
//
// A new hall is created only in an empty data directory (or with
// OpenOptions.NewHall), and never over a hall.db that has content: a
// 0-byte, truncated or garbled hall.db is refused with ErrNotAHall.
package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// SchemaVersion is the layout this build writes and understands. Files of
// schema 1 (which kept ticket and outbox copies of each event and keyed
// idempotency records by their key) are upgraded when opened; files of
// schema 2 (no digests of closed days) get the digest buckets at open and
// their closed days' digests in the background (digest.go). A build of
// schema 2 refuses a schema 3 file: it would not keep the digests true.
// Schema 4 keeps the outbox as a mark in the meta bucket instead of an
// entry per event (outbox.go): opening an older file sets the mark, and a
// schema 3 build refuses a schema 4 file (it would see an empty outbox and
// forward nothing). Schema 5 has an issue write only the event, the
// ticket's entry of the days index (which points to the event, and holds
// the idempotency record of the request that issued it) and the counter:
// no tickets entry until the ticket's next event, no record in the idem
// bucket (two buckets fewer written per issue). A schema 4 file needs
// nothing at open (its entries and records stay where they are and are
// read there), and a schema 4 build refuses a schema 5 file (it would find
// no ticket for a new one, nor the records of issues, and a retried issue
// would make a second ticket). Schema 5 also keeps the configuration and
// the catalogue in a bucket of their own (moved out of meta at open), and a
// commit drops the counters of earlier days: meta and counters, which
// every issue writes, stay small enough to live in the root page.
const SchemaVersion = 5

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
	bHelps     = []byte("helps") // created on first use
	bBlacklist = []byte("blacklist")
	bIdem      = []byte("idem")
	bEvents    = []byte("events")
	bOutbox    = []byte("outbox")
	bTokens    = []byte("tokens")
	bUsers     = []byte("users")
	// bSettings holds the large, rarely written documents (schema 5; they
	// were in meta, whose seq every commit writes): created at open
	bSettings = []byte("settings")

	allBuckets = [][]byte{bMeta, bTickets, bDays, bWindows, bCounters, bLeases, bBookings, bBlacklist, bIdem, bEvents, bOutbox, bTokens, bUsers}

	kSchema    = []byte("schema")
	kDay       = []byte("day")
	kSeq       = []byte("seq")
	kForwarded = []byte("forwarded")
	kSecret    = []byte("secret")
	kConfig    = []byte("config")
	kCatalog   = []byte("catalog")
	kEpoch     = []byte("epoch")
	kRestored  = []byte("restored")
	kCreated   = []byte("created")
	kClosedDay = []byte("closed_day")
)

// Store is an open hall database. It is safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	epoch    string
	created  bool
	restored bool
	epochs   []epochStart // loaded at open; epochs only begin there
	tokens   atomic.Pointer[tokenCache]

	bases      bases         // the current day's tickets' whole snapshots in the log (eventcodec.go)
	stop       chan struct{} // closed by Close: the migration stops
	migrated   chan struct{} // closed when the migration is over
	migrateErr error         // set before migrated is closed
}

// ErrNewerSchema is returned when the file was written by a newer hallq.
var ErrNewerSchema = errors.New("store: the data file was written by a newer version of hallq")

// ErrNotAHall is returned (wrapped, with the file and what to do) when the
// data directory does not hold a usable hall and a new one may not be
// started there: a 0-byte or broken hall.db, or a directory with files but
// no hall.db.
var ErrNotAHall = errors.New("store: no usable hall store")

// OpenOptions change how Open treats a data directory without a hall.
type OpenOptions struct {
	// NewHall allows starting a new hall in a directory that is not empty,
	// or over a 0-byte hall.db (-new-hall). A hall.db with content is never
	// replaced.
	NewHall bool
}

// creatingName is the file a new hall is written to before it is renamed
// to FileName, so a crash during the first start leaves no half-made
// hall.db.
const creatingName = ".hall.db.creating"

// ignoredEntries may be in a data directory that counts as empty: a
// mounted volume's lost+found, the -demo-central's data, and a new hall
// whose creation was cut off.
var ignoredEntries = map[string]bool{"lost+found": true, "central": true, creatingName: true}

// Open opens the hall in dir. A new hall (new secret, new epoch, numbers
// from 001) is created only in an empty directory; see OpenWith.
func Open(dir string) (*Store, error) { return OpenWith(dir, OpenOptions{}) }

// OpenWith opens the hall in dir. When dir has no hall.db, a new hall is
// created only when dir is empty (or o.NewHall); a 0-byte, truncated or
// garbled hall.db is refused with an error (wrapping ErrNotAHall) that
// names the file and how to restore, never replaced by a new hall.
func OpenWith(dir string, o OpenOptions) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if !o.NewHall {
			if others, err := otherEntries(dir); err != nil {
				return nil, fmt.Errorf("store: read data directory: %w", err)
			} else if len(others) > 0 {
				return nil, fmt.Errorf("%w: %s does not exist, but %s is not empty (%s): this looks like a hall whose store was lost or moved, not a new one. "+
					"Restore the last backup with `queue-server restore -data %s BACKUP-FILE`, or start a new hall here with -new-hall",
					ErrNotAHall, path, dir, strings.Join(others, ", "), dir)
			}
		}
		if err := create(dir); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("store: %w", err)
	case fi.Size() == 0 && o.NewHall:
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("store: remove the empty %s: %w", path, err)
		}
		if err := create(dir); err != nil {
			return nil, err
		}
	case fi.Size() == 0:
		return nil, fmt.Errorf("%w: %s is empty (0 bytes) — a failed copy or a disk that was full; it holds no hall. "+
			"Restore the last backup with `queue-server restore -data %s BACKUP-FILE` (docs/operations.md), or, only if this hall never issued a ticket, start a new hall with -new-hall",
			ErrNotAHall, path, dir)
	}
	s, err := open(path)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// otherEntries lists what dir holds besides the entries an empty data
// directory may have.
func otherEntries(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !ignoredEntries[e.Name()] {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// create writes a new hall's store (buckets, secret, a new epoch) to a
// temporary file, syncs it and renames it to hall.db, so a crash leaves
// either no hall.db or a complete one.
func create(dir string) error {
	tmp := filepath.Join(dir, creatingName)
	os.Remove(tmp) // a creation cut off before: it never served
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("store: create %s: %w", tmp, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range append(append(allBuckets, digestBuckets...), bSettings) {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bMeta)
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		if err := m.Put(kSecret, secret); err != nil {
			return err
		}
		if err := startEpoch(tx, 1); err != nil {
			return err
		}
		if err := m.Put(kCreated, []byte("1")); err != nil {
			return err
		}
		return putU64(m, kSchema, SchemaVersion)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("store: create a new hall in %s: %w", dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, FileName)); err != nil {
		return fmt.Errorf("store: create a new hall in %s: %w", dir, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// open opens an existing hall.db: a file that bbolt cannot read, that is
// shorter than its own meta page says, or that is not a hallq store is
// refused with a message, and a panic inside bbolt on a garbled page is
// turned into an error.
func open(path string) (s *Store, err error) {
	broken := func(what string, cause error) error {
		return fmt.Errorf("%w: %s %s (%v). Nothing was changed. Check it with `queue-server check %s`; "+
			"restore the last backup with `queue-server restore -data %s BACKUP-FILE` (docs/operations.md)",
			ErrNotAHall, path, what, cause, path, filepath.Dir(path))
	}
	var db *bolt.DB
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				db.Close()
			}
			s, err = nil, broken("is garbled", fmt.Errorf("bbolt: %v", r))
		}
	}()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("store: %s is in use by another process", path)
		case errors.As(err, &pe):
			// the file system's answer (read-only, permissions), not the file's
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		return nil, broken("cannot be opened", err)
	}
	s = &Store{db: db, path: path}
	s.tokens.Store(&tokenCache{})
	var size int64
	err = db.View(func(tx *bolt.Tx) error {
		size = tx.Size()
		if size > fi.Size() {
			return fmt.Errorf("truncated: %d bytes, the database needs %d", fi.Size(), size)
		}
		if m := tx.Bucket(bMeta); m == nil || m.Get(kSecret) == nil {
			return errors.New("not a hallq store: no meta bucket or secret")
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, broken("is not a sound hall store", err)
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	s.stop, s.migrated = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(s.migrated)
		s.migrateErr = s.migrate(s.stop)
	}()
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
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range append(append(allBuckets, digestBuckets...), bSettings) {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		m := tx.Bucket(bMeta)
		if version == 1 {
			if err := upgradeFrom1(tx); err != nil {
				return fmt.Errorf("store: upgrade %s from schema 1: %w", s.path, err)
			}
		}
		if version < 4 {
			if err := outboxToMark(tx); err != nil {
				return fmt.Errorf("store: upgrade %s's outbox from schema %d: %w", s.path, version, err)
			}
		}
		if version < 5 {
			if err := settingsOutOfMeta(tx); err != nil {
				return fmt.Errorf("store: upgrade %s's settings from schema %d: %w", s.path, version, err)
			}
		}
		if m.Get(kCreated) != nil { // the first open of a new hall
			s.created = true
			if err := m.Delete(kCreated); err != nil {
				return err
			}
		}
		if m.Get(kRestored) != nil { // a backup's first open: a new incarnation
			s.restored = true
			if err := startEpoch(tx, getU64(m, kSeq)+1); err != nil {
				return err
			}
			if err := m.Delete(kRestored); err != nil {
				return err
			}
		}
		s.epoch = string(m.Get(kEpoch))
		return putU64(m, kSchema, SchemaVersion)
	}); err != nil {
		return err
	}
	return s.loadEpochs()
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
		if err := idem.Put(idemKey(string(r.day), uint64(i+1)), idemValue(string(r.ref), string(r.key), "")); err != nil {
			return err
		}
	}
	return nil
}

// settingsOutOfMeta moves the configuration and the catalogue (schema ≤ 4
// kept them in meta) to the settings bucket, so that meta, which every
// commit writes, is a few small values kept inside the root page instead
// of pages of its own that each commit rewrote, catalogue and all.
func settingsOutOfMeta(tx *bolt.Tx) error {
	m, to := tx.Bucket(bMeta), tx.Bucket(bSettings)
	for _, k := range [][]byte{kConfig, kCatalog} {
		if v := m.Get(k); v != nil {
			if err := to.Put(k, bytes.Clone(v)); err != nil {
				return err
			}
			if err := m.Delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// setting reads a document of the settings bucket, or of meta in a file
// opened read-only before its move (schema ≤ 4).
func setting(tx *bolt.Tx, k []byte) []byte {
	if b := tx.Bucket(bSettings); b != nil {
		if v := b.Get(k); v != nil {
			return v
		}
	}
	return tx.Bucket(bMeta).Get(k)
}

// idemKey keys an idempotency record by its day and the event that
// answered it, so records are appended in commit order.
func idemKey(day string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte(day+"/"), seq)
}

// idemValue is a record's value: "\x01" fingerprint NUL ref NUL key.
// Records written before fingerprints existed are "ref NUL key" (a ref
// starts with a letter), and are still read: such a key matches any
// request, as it did when it was written.
func idemValue(ref, key, fingerprint string) []byte {
	return appendIdemValue(nil, ref, key, fingerprint)
}

func appendIdemValue(b []byte, ref, key, fingerprint string) []byte {
	if fingerprint != "" {
		b = append(append(append(b, 1), fingerprint...), 0)
	}
	return append(append(append(b, ref...), 0), key...)
}

// appendIdemRecord is appendIdemValue of rec.
func appendIdemRecord(b []byte, rec *hall.IdemRecord) []byte {
	if rec.Fingerprint != "" {
		b = append(append(append(b, 1), rec.Fingerprint...), 0)
	}
	return append(append(rec.Ref.AppendTo(b), 0), rec.Key...)
}

// parseIdem reads a record's value, in either format; its ref is read by
// hall.ParseRef.
func parseIdem(v []byte) (hall.IdemRecord, error) {
	var fp []byte
	if rest, ok := bytes.CutPrefix(v, []byte{1}); ok {
		fp, v, _ = bytes.Cut(rest, []byte{0})
	}
	raw, key, _ := bytes.Cut(v, []byte{0})
	ref, err := hall.ParseRef(string(raw))
	if err != nil {
		return hall.IdemRecord{}, err
	}
	return hall.IdemRecord{Key: string(key), Ref: ref, Fingerprint: string(fp)}, nil
}

// Close stops the migration of old days' digests (each day written so far
// stays; the next open goes on) and closes the database.
func (s *Store) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.migrated
	return s.db.Close()
}

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
	staged := map[baseKey]*base{}
	w := &writes{arena: make([]byte, 0, 640*len(events)), counters: map[counterKey]int{}}
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		seq := getU64(m, kSeq)
		was := string(m.Get(kDay))
		day := was
		var touched []string // the days of the tickets changed
		for i := range events {
			ev := &events[i]
			if ev.Seq != seq+1 {
				return fmt.Errorf("store: event seq %d does not follow %d", ev.Seq, seq)
			}
			seq = ev.Seq
			if err := s.apply(tx, staged, w, ev); err != nil {
				return err
			}
			if ev.Day > day {
				day = ev.Day
			}
			if t := ev.Ticket; t != nil && t.Day < day && !slices.Contains(touched, t.Day) {
				touched = append(touched, t.Day)
			}
		}
		if err := w.flush(tx); err != nil {
			return err
		}
		// the day that ended, and closed days whose tickets changed: their
		// digests say what their tickets now say
		if was != "" && was < day && !slices.Contains(touched, was) {
			touched = append(touched, was)
		}
		for _, d := range touched {
			if d < day {
				if err := writeDigest(tx, d); err != nil {
					return fmt.Errorf("store: the figures of %s: %w", d, err)
				}
			}
		}
		if err := pruneCounters(tx, day); err != nil {
			return err
		}
		if err := m.Put(kDay, []byte(day)); err != nil {
			return err
		}
		return putU64(m, kSeq, seq)
	})
	if err == nil {
		s.bases.publish(staged)
	}
	return err
}

// pruneCounters drops the counters of the days before day: only the
// current day's are read (Load), and a year of them made the bucket one
// of several pages, whose last leaf and branch every issue wrote again; a
// day's few stay small enough to live inside the root page.
func pruneCounters(tx *bolt.Tx, day string) error {
	b := tx.Bucket(bCounters)
	var old [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && string(k) < day; k, _ = c.Next() {
		old = append(old, bytes.Clone(k))
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// writes is what one Commit's transaction writes besides the events'
// own puts: values in one arena (bbolt keeps a value until the commit, and
// the arena is never reused), keys built in one scratch buffer (bbolt
// copies a key), and each counter's last value of the batch, written once
// by flush (a batch of issues moves a service's counter many times).
type writes struct {
	arena    []byte
	key      []byte
	counters map[counterKey]int // index into cs
	cs       []hall.Counter
}

// seqValue is seq's 8 bytes in the arena.
func (w *writes) seqValue(seq uint64) []byte {
	start := len(w.arena)
	w.arena = binary.BigEndian.AppendUint64(w.arena, seq)
	return w.arena[start:len(w.arena):len(w.arena)]
}

// keyOf returns the key made of parts, in the scratch buffer (valid until
// the next keyOf).
func (w *writes) keyOf(parts ...string) []byte {
	w.key = w.key[:0]
	for _, p := range parts {
		w.key = append(w.key, p...)
	}
	return w.key
}

func (w *writes) seqKey(seq uint64) []byte {
	w.key = binary.BigEndian.AppendUint64(w.key[:0], seq)
	return w.key
}

// counterKey is a counter's day and service (a map key made without
// joining them into a new string per event).
type counterKey struct{ day, service string }

func (w *writes) counter(c hall.Counter) {
	k := counterKey{c.Day, c.Service}
	if i, ok := w.counters[k]; ok {
		w.cs[i] = c
		return
	}
	w.counters[k] = len(w.cs)
	w.cs = append(w.cs, c)
}

// flush writes each counter's last value (its JSON, as json.Marshal
// writes a hall.Counter).
func (w *writes) flush(tx *bolt.Tx) error {
	b := tx.Bucket(bCounters)
	for _, c := range w.cs {
		start := len(w.arena)
		w.arena = append(w.arena, `{"day":`...)
		w.arena = appendString(w.arena, c.Day)
		w.arena = append(w.arena, `,"service":`...)
		w.arena = appendString(w.arena, c.Service)
		w.arena = append(w.arena, `,"last":`...)
		w.arena = strconv.AppendInt(w.arena, int64(c.Last), 10)
		w.arena = append(w.arena, '}')
		if err := b.Put(w.keyOf(c.Day, "/", c.Service), w.arena[start:len(w.arena):len(w.arena)]); err != nil {
			return err
		}
	}
	w.cs = w.cs[:0]
	clear(w.counters)
	return nil
}

func (s *Store) apply(tx *bolt.Tx, staged map[baseKey]*base, w *writes, ev *hall.Event) error {
	put := func(bucket []byte, key []byte, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		return tx.Bucket(bucket).Put(key, b)
	}
	raw, err := s.encodeEvent(tx, staged, &w.arena, ev)
	if err != nil {
		return err
	}
	if err := appendOnly(tx, bEvents).Put(w.seqKey(ev.Seq), raw); err != nil {
		return err
	}
	idem := ev.Idem
	if t := ev.Ticket; t != nil {
		// a new ticket's pointer is its day entry's seq: an issue writes
		// no tickets entry (one put and its pages fewer); a carried ticket
		// has one from its earlier day, which must point here
		if ev.Type != hall.EvTicketIssued {
			if err := tx.Bucket(bTickets).Put(w.keyOf(t.ID), w.seqValue(ev.Seq)); err != nil {
				return err
			}
		}
		if ev.Type == hall.EvTicketIssued || ev.Type == hall.EvTicketCarried { // the only events that give a ticket its day
			start := len(w.arena)
			w.arena = binary.BigEndian.AppendUint64(w.arena, ev.Seq)
			if idem != nil && t.Day == ev.Day {
				// the request that issued it: its record goes with the
				// ticket's entry of the day, one put (and page) fewer
				w.arena, idem = appendIdemRecord(w.arena, idem), nil
			}
			if err := appendOnly(tx, bDays).Put(w.keyOf(t.Day, "/", t.ID), w.arena[start:len(w.arena):len(w.arena)]); err != nil {
				return err
			}
		}
	}
	if idem != nil {
		w.key = binary.BigEndian.AppendUint64(append(append(w.key[:0], ev.Day...), '/'), ev.Seq) // idemKey
		start := len(w.arena)
		w.arena = appendIdemRecord(w.arena, idem)
		if err := appendOnly(tx, bIdem).Put(w.key, w.arena[start:len(w.arena):len(w.arena)]); err != nil {
			return err
		}
	}
	if win := ev.Window; win != nil {
		start := len(w.arena)
		if b, err := appendWindow(w.arena, win); err == nil {
			w.arena = b
			err = tx.Bucket(bWindows).Put(winKey(win.Number), b[start:len(b):len(b)])
			if err != nil {
				return err
			}
		} else if err := put(bWindows, winKey(win.Number), win); err != nil {
			return err
		}
	}
	if c := ev.Counter; c != nil {
		w.counter(*c)
	}
	if l := ev.Lease; l != nil {
		if err := put(bLeases, []byte(l.Day+"/"+l.ID), l); err != nil {
			return err
		}
	}
	if b := ev.Booking; b != nil {
		if err := put(bBookings, []byte(b.ID), b); err != nil {
			return err
		}
	}
	if h := ev.Help; h != nil {
		if _, err := tx.CreateBucketIfNotExists(bHelps); err != nil {
			return err
		}
		if err := put(bHelps, []byte(h.Day+"/"+h.ID), h); err != nil {
			return err
		}
	}
	if c := ev.Config; c != nil {
		if err := put(bSettings, kConfig, c); err != nil {
			return err
		}
	}
	if c := ev.Catalog; c != nil {
		if err := put(bSettings, kCatalog, c); err != nil {
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
// day-prefixed sequence numbers, day-prefixed ticket ids, which sort by
// time), set to fill its pages when they split: bbolt's default leaves
// appended pages half empty.
func appendOnly(tx *bolt.Tx, name []byte) *bolt.Bucket {
	b := tx.Bucket(name)
	b.FillPercent = 1
	return b
}

// pruneBookings drops bookings whose slot day is before day.
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
func (s *Store) Load() (st hall.Snapshot, err error) {
	defer func() { // a garbled page that the checks at open did not reach
		if r := recover(); r != nil {
			st, err = hall.Snapshot{}, fmt.Errorf("%w: %s is garbled (bbolt: %v). Check it with `queue-server check %s`; restore the last backup with `queue-server restore -data %s BACKUP-FILE` (docs/operations.md)",
				ErrNotAHall, s.path, r, s.path, filepath.Dir(s.path))
		}
	}()
	err = s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bMeta)
		st.Day, st.Seq = string(m.Get(kDay)), getU64(m, kSeq)
		st.Idem = map[string]hall.IdemRecord{}
		st.DayClosed = st.Day != "" && string(m.Get(kClosedDay)) == st.Day
		if raw := setting(tx, kConfig); raw != nil {
			var c hall.Config
			if err := json.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("store: stored configuration: %w", err)
			}
			st.Config = &c
		}
		if raw := setting(tx, kCatalog); raw != nil {
			var c catalog.Catalog
			if err := json.Unmarshal(raw, &c); err != nil {
				return fmt.Errorf("store: stored catalogue: %w", err)
			}
			st.Catalog = &c
		}
		if st.Day == "" {
			return nil
		}
		prefix := []byte(st.Day + "/")
		// idempotency records from the day's entries and the idem bucket;
		// a key answered twice (a remote ticket taken again once the first
		// was closed) stands for its later answer
		idemSeq := map[string]uint64{}
		addIdem := func(seq uint64, v []byte, place string) error {
			rec, err := parseIdem(v)
			if err != nil { // named by its place, not its key: a caller's key may say who the caller is
				return fmt.Errorf("store: the idempotency record %s: %w", place, err)
			}
			if seq >= idemSeq[rec.Key] {
				idemSeq[rec.Key], st.Idem[rec.Key] = seq, rec
			}
			return nil
		}
		c := tx.Bucket(bDays).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			t, err := ticket(tx, k[len(prefix):], v)
			if err != nil {
				return err
			}
			if t.Day == st.Day {
				st.Tickets = append(st.Tickets, t)
			}
			if len(v) > 8 {
				if err := addIdem(binary.BigEndian.Uint64(v), v[8:], "in days/"+string(k)); err != nil {
					return err
				}
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
		if tx.Bucket(bHelps) != nil {
			if err := eachJSON(tx, bHelps, prefix, func(v hall.HelpCall) { st.Helps = append(st.Helps, v) }); err != nil {
				return err
			}
		}
		ic := tx.Bucket(bIdem).Cursor()
		for k, v := ic.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = ic.Next() {
			var seq uint64
			if len(k) == len(prefix)+8 {
				seq = binary.BigEndian.Uint64(k[len(prefix):])
			}
			if err := addIdem(seq, v, fmt.Sprintf("%s/%x", st.Day, k[len(prefix):])); err != nil {
				return err
			}
		}
		return nil
	})
	return st, err
}

// ticket returns a ticket's latest snapshot, given its entry of a day
// (days value): the event its entry in tickets points to, or the one that
// gave it that day (since schema 5 the day entry's first 8 bytes; an issue
// writes no tickets entry), whichever is later.
func ticket(tx *bolt.Tx, id, day []byte) (hall.Ticket, error) {
	seq := tx.Bucket(bTickets).Get(id)
	if len(day) >= 8 && (len(seq) != 8 || bytes.Compare(day[:8], seq) > 0) {
		seq = day[:8]
	}
	if len(seq) != 8 {
		return hall.Ticket{}, fmt.Errorf("store: ticket %s has no entry", id)
	}
	// the whole event: it reads the v1 spelling of a booking ticket (hall.Event.UnmarshalJSON)
	ev, err := readEvent(tx.Bucket(bEvents), seq)
	if err != nil || ev.Ticket == nil {
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
// (the event log itself), read from the event log.
func (s *Store) readLog(bucket []byte, after uint64, limit int) ([]hall.Event, error) {
	var out []hall.Event
	err := s.db.View(func(tx *bolt.Tx) error {
		events := tx.Bucket(bEvents)
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, _ = c.Next() {
			ev, err := readEvent(events, k)
			if err != nil {
				return err
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
		for k, v := c.Seek([]byte(from)); k != nil; k, v = c.Next() {
			day, id, _ := strings.Cut(string(k), "/")
			if day > to {
				break
			}
			t, err := ticket(tx, []byte(id), v)
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

// Info describes a verified store file.
type Info struct {
	Schema    uint64 `json:"schema"`
	Seq       uint64 `json:"seq"`       // last event
	Forwarded uint64 `json:"forwarded"` // last event the central acknowledged
	Day       string `json:"day"`
	Epoch     string `json:"epoch"`
	Size      int64  `json:"size"`
	Used      int64  `json:"used"`   // bytes its pages occupy (bbolt grows the file ahead: Size may be more)
	Backup    bool   `json:"backup"` // marked as a backup copy: its next open begins a new epoch
}

// Verify checks that the file at path is a sound hall store — a backup
// before it is relied on, or a file about to be restored: bbolt opens it
// read-only, its consistency check finds nothing, and its schema is one
// this build understands. It never changes the file.
func Verify(path string) error {
	_, err := Inspect(path)
	return err
}

// Inspect verifies the file at path like Verify and describes it. A
// garbled file that makes bbolt panic is reported as an error.
func Inspect(path string) (info Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: verify %s: garbled (bbolt: %v)", path, r)
		}
	}()
	fi, err := os.Stat(path)
	if err != nil {
		return info, fmt.Errorf("store: verify: %w", err)
	}
	if fi.Size() == 0 {
		return info, fmt.Errorf("store: verify %s: the file is empty (0 bytes)", path)
	}
	info.Size = fi.Size()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return info, fmt.Errorf("store: verify %s: in use by a running hall (check its backup instead)", path)
		}
		return info, fmt.Errorf("store: verify %s: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
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
		info.Schema, info.Seq, info.Forwarded, info.Used = getU64(m, kSchema), getU64(m, kSeq), getU64(m, kForwarded), tx.Size()
		info.Day, info.Epoch, info.Backup = string(m.Get(kDay)), string(m.Get(kEpoch)), m.Get(kRestored) != nil
		// every event the meta counts is in the log and readable
		if info.Seq > 0 {
			if v, err := storedEvent(tx.Bucket(bEvents), u64(info.Seq)); err != nil || !json.Valid(v) {
				return fmt.Errorf("store: verify %s: the last event %d is missing or unreadable", path, info.Seq)
			}
		}
		return nil
	})
	return info, err
}

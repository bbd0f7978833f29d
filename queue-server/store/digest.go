package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// A closed day's figures (hall.DayDigest), kept so that a history report
// reads a few kilobytes per day instead of every ticket of it:
//
//	dayfigures  "YYYY-MM-DD" → the day's tallies per report grouping (encodeFigures)
//	dayvisits   "YYYY-MM-DD" → the day's visits with a matter handled (encodeVisits)
//
// A day's digest is written in the transaction that ends the day (the
// first commit of a later day), and again in any later commit that changes
// one of its tickets, so it always says what the day's tickets say. Days
// stored before digests existed (schema 2) get theirs from migrate, in the
// background after open; until then, and for the current day, reports
// read the tickets. PurgePersonal clears the citizen keys from the visits
// of the days it purges, as it does from their events.
var (
	bDayFigures = []byte("dayfigures")
	bDayVisits  = []byte("dayvisits")

	// kVisitsPurged: the visits of days before this one hold no citizen keys.
	kVisitsPurged = []byte("visits_purged")
)

// digestBuckets are created at open (schema 3); a schema 2 file has none.
var digestBuckets = [][]byte{bDayFigures, bDayVisits}

const digestFormat = 1

// dayTickets reads the tickets of day as the reports do (TicketsBetween).
func dayTickets(tx *bolt.Tx, day string) ([]hall.Ticket, error) {
	var out []hall.Ticket
	prefix := []byte(day + "/")
	c := tx.Bucket(bDays).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		t, err := ticket(tx, k[len(prefix):], v)
		if err != nil {
			return nil, err
		}
		if t.Day == day {
			out = append(out, t)
		}
	}
	return out, nil
}

// writeDigest (re)writes day's digest from its tickets, in tx.
func writeDigest(tx *bolt.Tx, day string) error {
	ts, err := dayTickets(tx, day)
	if err != nil {
		return err
	}
	return putDigest(tx, hall.DigestDay(day, ts))
}

func putDigest(tx *bolt.Tx, d hall.DayDigest) error {
	if err := tx.Bucket(bDayFigures).Put([]byte(d.Day), encodeFigures(d)); err != nil {
		return err
	}
	vb := tx.Bucket(bDayVisits)
	if len(d.Visits) == 0 {
		return vb.Delete([]byte(d.Day))
	}
	return vb.Put([]byte(d.Day), encodeVisits(d.Visits))
}

// DayFigures returns the stored digest of a closed day, and false when it
// has none (the current day, a day without tickets, or one not yet
// migrated).
func (s *Store) DayFigures(day string) (d hall.DayDigest, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		d, ok, err = readDigest(tx, []byte(day), "", true)
		return err
	})
	return d, ok, err
}

// readDigest reads day's digest: the figures part asks for (a report
// grouping, "" all, "visits" none) and the visits when visits is set.
func readDigest(tx *bolt.Tx, day []byte, part string, visits bool) (hall.DayDigest, bool, error) {
	fb, vb := tx.Bucket(bDayFigures), tx.Bucket(bDayVisits)
	if fb == nil {
		return hall.DayDigest{}, false, nil
	}
	raw := fb.Get(day)
	if raw == nil {
		return hall.DayDigest{}, false, nil
	}
	d := hall.DayDigest{Day: string(day)}
	if part != "visits" {
		var err error
		if d, err = decodeFigures(raw, sectionsFor(part)); err != nil {
			return d, false, fmt.Errorf("store: the figures of %s: %w", day, err)
		}
		d.Day = string(day)
	}
	if visits {
		if v := vb.Get(day); v != nil {
			var err error
			if d.Visits, err = decodeVisits(v, string(day)); err != nil {
				return d, false, fmt.Errorf("store: the visits of %s: %w", day, err)
			}
		}
	}
	return d, true, nil
}

// History walks the days from..to (YYYY-MM-DD, inclusive) that have
// tickets, in order. For a closed day whose digest is stored it calls day
// with it — only the tallies of grouping part (service, window, clerk,
// matter, hour, day; "" all), or only its Visits when part is "visits";
// for the other days, and for a day whose digest day declines (returns
// false), it calls ticket for each of the day's tickets, as TicketsBetween
// does.
func (s *Store) History(from, to, part string, day func(*hall.DayDigest) bool, ticket func(hall.Ticket) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bDays).Cursor()
		for k, _ := c.Seek([]byte(from)); k != nil; {
			d, _, _ := bytes.Cut(k, []byte("/"))
			if string(d) > to {
				break
			}
			dg, ok, err := readDigest(tx, d, part, part == "visits")
			if err != nil {
				return err
			}
			if ok && day(&dg) {
				k, _ = c.Seek(append(bytes.Clone(d), '/'+1)) // the next day
				continue
			}
			ts, err := dayTickets(tx, string(d))
			if err != nil {
				return err
			}
			for _, t := range ts {
				if err := ticket(t); err != nil {
					return err
				}
			}
			k, _ = c.Seek(append(bytes.Clone(d), '/'+1))
		}
		return nil
	})
}

// migrate writes the digests of the closed days that have none (a store
// written before digests existed), one day per write transaction, oldest
// first, until it is done or stop is closed. Each day is read in a read
// transaction and written only if nothing purged in between.
func (s *Store) migrate(stop <-chan struct{}) error {
	var next []byte // the day to look from
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		var day string
		var purged uint64
		var dg hall.DayDigest
		err := s.db.View(func(tx *bolt.Tx) error {
			current := tx.Bucket(bMeta).Get(kDay)
			purged = getU64(tx.Bucket(bMeta), kPurgedSeq)
			fb := tx.Bucket(bDayFigures)
			c := tx.Bucket(bDays).Cursor()
			for k, _ := c.Seek(next); k != nil; {
				d, _, _ := bytes.Cut(k, []byte("/"))
				if bytes.Compare(d, current) >= 0 {
					break
				}
				next = append(bytes.Clone(d), '/'+1)
				if fb.Get(d) == nil {
					day = string(d)
					ts, err := dayTickets(tx, day)
					if err != nil {
						return err
					}
					dg = hall.DigestDay(day, ts)
					return nil
				}
				k, _ = c.Seek(next)
			}
			return nil
		})
		if err != nil || day == "" {
			return err
		}
		err = s.db.Update(func(tx *bolt.Tx) error {
			if tx.Bucket(bDayFigures).Get([]byte(day)) != nil {
				return nil // a commit wrote it meanwhile
			}
			if getU64(tx.Bucket(bMeta), kPurgedSeq) != purged {
				next = []byte(day) // a purge changed the day's tickets: read it again
				return nil
			}
			return putDigest(tx, dg)
		})
		if err != nil {
			return err
		}
	}
}

// MigrationDone is closed when the digests of the days stored before
// digests existed have all been written (at once for a store that needed
// none), or when migrating them failed (MigrationErr says why).
func (s *Store) MigrationDone() <-chan struct{} { return s.migrated }

// MigrationErr is why writing the digests of old days failed, if it did;
// reports then keep reading those days' tickets.
func (s *Store) MigrationErr() error {
	select {
	case <-s.migrated:
		return s.migrateErr
	default:
		return nil
	}
}

// purgeVisits clears the citizen keys from the visits of the days before
// through, from the watermark on.
func purgeVisits(tx *bolt.Tx, through string) error {
	m := tx.Bucket(bMeta)
	from := m.Get(kVisitsPurged)
	if bytes.Compare(from, []byte(through)) >= 0 {
		return nil
	}
	vb := tx.Bucket(bDayVisits)
	if vb == nil {
		return nil
	}
	type put struct{ k, v []byte }
	var puts []put
	c := vb.Cursor()
	for k, v := c.Seek(from); k != nil && string(k) < through; k, v = c.Next() {
		vs, err := decodeVisits(v, string(k))
		if err != nil {
			return fmt.Errorf("store: the visits of %s: %w", k, err)
		}
		changed := false
		for i := range vs {
			if vs[i].CitizenKey != "" {
				vs[i].CitizenKey, changed = "", true
			}
		}
		if changed {
			puts = append(puts, put{bytes.Clone(k), encodeVisits(vs)})
		}
	}
	for _, p := range puts {
		if err := vb.Put(p.k, p.v); err != nil {
			return err
		}
	}
	if len(puts) > 0 {
		if err := m.Put(kScrub, []byte{1}); err != nil {
			return err
		}
	}
	return m.Put(kVisitsPurged, []byte(through))
}

// ---- encoding ----
//
// Both values are a format byte and varints. A tally is its ten counts,
// its waits (how many, the first, then the differences: they are sorted),
// three duration sums (count, seconds, nanoseconds) and the idle time.
// Maps are written in key order, so a digest always encodes the same.

type enc struct{ b []byte }

func (e *enc) u(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) n(v int)    { e.i(int64(v)) }
func (e *enc) s(v string) { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *enc) sum(s hall.DurationSum) {
	e.n(s.N)
	e.i(s.Sec)
	e.i(s.NS)
}

func (e *enc) tally(t hall.Tally) {
	for _, v := range []int{t.Issued, t.Served, t.NoShow, t.Cancelled, t.Expired, t.Open, t.Transferred, t.Ratings, t.RatingSum, t.Dissatisfied} {
		e.n(v)
	}
	e.u(uint64(len(t.Waits)))
	for i, w := range t.Waits {
		if i == 0 {
			e.i(int64(w))
		} else {
			e.u(uint64(w - t.Waits[i-1]))
		}
	}
	e.sum(t.Service)
	e.sum(t.Handling)
	e.sum(t.Walk)
	e.i(int64(t.Idle))
}

// The figures' sections, each written with its length so that a report
// decodes only its grouping's.
const (
	secTotal = iota
	secServices
	secWindows
	secClerks
	secMatters
	secHours
	secMatterNames
	sections
)

// sectionsFor are the sections a report grouping reads ("" all of them).
func sectionsFor(part string) func(int) bool {
	switch part {
	case "day":
		return func(i int) bool { return i == secTotal }
	case "service":
		return func(i int) bool { return i == secServices }
	case "window":
		return func(i int) bool { return i == secWindows }
	case "clerk":
		return func(i int) bool { return i == secClerks }
	case "matter":
		return func(i int) bool { return i == secMatters || i == secMatterNames }
	case "hour":
		return func(i int) bool { return i == secHours }
	}
	return func(int) bool { return true }
}

func encodeFigures(d hall.DayDigest) []byte {
	out := []byte{digestFormat}
	for i := range sections {
		e := &enc{}
		switch i {
		case secTotal:
			e.tally(d.Total)
		case secServices, secWindows, secClerks, secMatters:
			m := [...]map[string]hall.Tally{d.Services, d.Windows, d.Clerks, d.Matters}[i-secServices]
			e.u(uint64(len(m)))
			for _, k := range slices.Sorted(maps.Keys(m)) {
				e.s(k)
				e.tally(m[k])
			}
		case secHours:
			e.u(uint64(len(d.Hours)))
			for _, h := range slices.Sorted(maps.Keys(d.Hours)) {
				e.i(h)
				e.tally(d.Hours[h])
			}
		case secMatterNames:
			e.u(uint64(len(d.MatterNames)))
			for _, k := range slices.Sorted(maps.Keys(d.MatterNames)) {
				e.s(k)
				e.s(d.MatterNames[k])
			}
		}
		out = binary.AppendUvarint(out, uint64(len(e.b)))
		out = append(out, e.b...)
	}
	return out
}

// encodeVisits writes the visits with their strings (ids, keys, matter
// codes and names, outcomes) once each, in a table they point into.
func encodeVisits(vs []hall.Ticket) []byte {
	table, index := []string{}, map[string]int{}
	ref := func(s string) int {
		i, ok := index[s]
		if !ok {
			i = len(table)
			index[s] = i
			table = append(table, s)
		}
		return i
	}
	body := &enc{}
	body.u(uint64(len(vs)))
	for _, t := range vs {
		body.n(ref(t.ID))
		body.n(ref(t.CitizenKey))
		body.u(uint64(len(t.Matters)))
		for _, m := range t.Matters {
			body.n(ref(m.Code))
			body.n(ref(m.Name.ZH))
			body.n(ref(m.Name.EN))
			body.n(ref(string(m.Outcome)))
			body.n(m.Window)
			var at int64
			if !m.At.IsZero() {
				at = m.At.UnixNano()
			}
			body.i(at)
		}
	}
	e := &enc{b: []byte{digestFormat}}
	e.u(uint64(len(table)))
	for _, s := range table {
		e.s(s)
	}
	return append(e.b, body.b...)
}

var errGarbled = errors.New("garbled value")

// dec reads what enc wrote; any error sticks, and counts are checked
// against the bytes left, so a garbled value is an error, never a panic
// or a huge allocation.
type dec struct {
	b   []byte
	err error
}

func (d *dec) fail() {
	if d.err == nil {
		d.err = errGarbled
	}
	d.b = nil
}

func (d *dec) u() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) i() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length: at most the bytes left, each element taking one at least.
func (d *dec) count() int {
	v := d.u()
	if v > uint64(len(d.b)) {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *dec) n() int {
	v := d.i()
	if v < 0 || v > 1<<40 {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *dec) s() string {
	l := d.count()
	if d.err != nil {
		return ""
	}
	v := string(d.b[:l])
	d.b = d.b[l:]
	return v
}

func (d *dec) sum() hall.DurationSum {
	return hall.DurationSum{N: d.n(), Sec: d.i(), NS: d.i()}
}

func (d *dec) tally() hall.Tally {
	var t hall.Tally
	for _, p := range []*int{&t.Issued, &t.Served, &t.NoShow, &t.Cancelled, &t.Expired, &t.Open, &t.Transferred, &t.Ratings, &t.RatingSum, &t.Dissatisfied} {
		*p = d.n()
	}
	if n := d.count(); n > 0 {
		t.Waits = make([]time.Duration, n)
		t.Waits[0] = time.Duration(d.i())
		for i := 1; i < n; i++ {
			t.Waits[i] = t.Waits[i-1] + time.Duration(d.u())
		}
	}
	t.Service, t.Handling, t.Walk = d.sum(), d.sum(), d.sum()
	t.Idle = time.Duration(d.i())
	return t
}

func (d *dec) format() {
	if len(d.b) == 0 || d.b[0] != digestFormat {
		d.fail()
		return
	}
	d.b = d.b[1:]
}

// decodeFigures reads the sections want asks for and skips the others.
func decodeFigures(raw []byte, want func(int) bool) (hall.DayDigest, error) {
	all := &dec{b: raw}
	all.format()
	var out hall.DayDigest
	for i := range sections {
		l := all.count()
		if all.err != nil {
			return out, all.err
		}
		d := &dec{b: all.b[:l]}
		all.b = all.b[l:]
		if !want(i) {
			continue
		}
		switch i {
		case secTotal:
			out.Total = d.tally()
		case secServices, secWindows, secClerks, secMatters:
			m := [...]*map[string]hall.Tally{&out.Services, &out.Windows, &out.Clerks, &out.Matters}[i-secServices]
			n := d.count()
			*m = make(map[string]hall.Tally, n)
			for range n {
				k := d.s()
				(*m)[k] = d.tally()
			}
		case secHours:
			n := d.count()
			out.Hours = make(map[int64]hall.Tally, n)
			for range n {
				h := d.i()
				out.Hours[h] = d.tally()
			}
		case secMatterNames:
			n := d.count()
			out.MatterNames = make(map[string]string, n)
			for range n {
				k := d.s()
				out.MatterNames[k] = d.s()
			}
		}
		if d.err == nil && len(d.b) != 0 {
			d.fail()
		}
		if d.err != nil {
			return out, d.err
		}
	}
	if len(all.b) != 0 {
		all.fail()
	}
	return out, all.err
}

func decodeVisits(raw []byte, day string) ([]hall.Ticket, error) {
	d := &dec{b: raw}
	d.format()
	table := make([]string, d.count())
	for i := range table {
		table[i] = d.s()
	}
	str := func() string {
		i := d.n()
		if i >= len(table) {
			d.fail()
			return ""
		}
		return table[i]
	}
	out := make([]hall.Ticket, d.count())
	for i := range out {
		t := &out[i]
		t.ID, t.Day, t.CitizenKey = str(), day, str()
		t.Matters = make([]hall.VisitMatter, d.count())
		for j := range t.Matters {
			m := &t.Matters[j]
			m.Code, m.Name.ZH, m.Name.EN, m.Outcome = str(), str(), str(), hall.Outcome(str())
			m.Window = d.n()
			if at := d.i(); at != 0 {
				m.At = time.Unix(0, at)
			}
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/catalog"
	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// visitDays runs days of a hall on s through the engine: on each, citizens
// i (the same ones every day, so they come back) take an A ticket, are
// served with a matter handled, and some are left waiting to expire; then
// the clock moves to the morning after, whose first ticket ends the last
// day. It returns the days.
func visitDays(t *testing.T, s *Store, first time.Time, days, perDay int) []string {
	t.Helper()
	ctx := context.Background()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	cfg.Matters = []catalog.Matter{{Code: "hukou-move", Name: catalog.Text{ZH: "户口迁移", EN: "Hukou move"}, Services: []string{"A"},
		Booking: catalog.BookingAllowed, Materials: []catalog.Material{{Name: catalog.Text{ZH: "居民身份证", EN: "ID card"}}}}}
	clock := testclock.New(first)
	svc, err := hall.NewService(cfg, s, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for d := range days {
		clock.Set(first.AddDate(0, 0, d))
		out = append(out, clock.Now().Format(time.DateOnly))
		_, err := svc.SetWindow(ctx, hall.Op{}, 1, hall.WindowOpen, "wang", "")
		must(err)
		for i := range perDay {
			key, _ := citizen(i)
			_, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "A", CitizenKey: key})
			must(err)
			clock.Advance(time.Duration(1+i%7) * time.Minute)
			if i%4 == 3 {
				continue // waits until the day ends
			}
			tk, ok, err := svc.Call(ctx, hall.Op{}, 1, "")
			if err != nil || !ok {
				t.Fatalf("call: %v %v", ok, err)
			}
			for _, a := range []hall.Action{{Name: hall.ActStart}, {Name: hall.ActAddMatter, Matter: "hukou-move"},
				{Name: hall.ActOutcome, Matter: "hukou-move", Outcome: hall.OutcomeDone}, {Name: hall.ActComplete}} {
				a.Ticket = tk.ID
				_, err := svc.Act(ctx, hall.Op{}, a)
				must(err)
				clock.Advance(time.Duration(10+i) * time.Second)
			}
		}
	}
	clock.Set(first.AddDate(0, 0, days))
	_, err = svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"})
	must(err)
	return out
}

// digestFromTickets is the digest of day as its tickets say it.
func digestFromTickets(t *testing.T, s *Store, day string) hall.DayDigest {
	t.Helper()
	var ts []hall.Ticket
	if err := s.TicketsBetween(day, day, func(tk hall.Ticket) error { ts = append(ts, tk); return nil }); err != nil {
		t.Fatal(err)
	}
	return hall.DigestDay(day, ts)
}

// same reports whether two digests say the same (times compared as instants).
func same(a, b hall.DayDigest) bool {
	for _, d := range []*hall.DayDigest{&a, &b} {
		for i := range d.Visits {
			for j := range d.Visits[i].Matters {
				m := &d.Visits[i].Matters[j]
				m.At = m.At.UTC()
			}
		}
	}
	return reflect.DeepEqual(a, b)
}

// A day's digest is written when the day ends (the first ticket of the
// next), says what its tickets say, and the current day has none.
func TestADayEndsWithItsDigest(t *testing.T) {
	s := MustStore(t, "")
	days := visitDays(t, s, time.Date(2026, 11, 24, 8, 0, 0, 0, cst), 3, 12)
	for _, day := range days {
		got, ok, err := s.DayFigures(day)
		if err != nil || !ok {
			t.Fatalf("%s: no digest (%v)", day, err)
		}
		if want := digestFromTickets(t, s, day); !same(got, want) {
			t.Fatalf("%s: the stored digest\n%+v\nthe tickets'\n%+v", day, got, want)
		}
		if got.Total.Issued != 12 || got.Total.Expired != 3 || len(got.Visits) != 9 || got.Visits[0].CitizenKey == "" {
			t.Fatalf("%s: %+v", day, got.Total)
		}
	}
	if _, ok, _ := s.DayFigures("2026-11-27"); ok {
		t.Fatal("the current day has a digest")
	}
}

// A store written before digests existed (schema 2: what the current
// writer leaves once its digests are taken away and its events written
// whole, as the schema 2 writer did) opens at once, reads its events as
// they were, and gets
// its closed days' digests in the background, the same as those written
// when the days ended; reports read the tickets until then.
func TestOldDaysGetTheirDigestsAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := MustStore(t, dir)
	days := visitDays(t, s, time.Date(2026, 11, 20, 8, 0, 0, 0, cst), 4, 10)
	written := map[string]hall.DayDigest{}
	for _, day := range days {
		d, ok, err := s.DayFigures(day)
		if err != nil || !ok {
			t.Fatalf("%s: %v", day, err)
		}
		written[day] = d
	}
	before, err := s.Events(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		// every event whole, as schema 2 wrote them
		events := tx.Bucket(bEvents)
		whole := map[string][]byte{}
		events.ForEach(func(k, _ []byte) error {
			raw, err := storedEvent(events, k)
			whole[string(k)] = raw
			return err
		})
		for k, raw := range whole {
			if err := events.Put([]byte(k), raw); err != nil {
				return err
			}
		}
		for _, b := range digestBuckets {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		// and an outbox entry for every event (none forwarded)
		for _, ev := range before {
			if err := tx.Bucket(bOutbox).Put(u64(ev.Seq), nil); err != nil {
				return err
			}
		}
		return putU64(tx.Bucket(bMeta), kSchema, 2)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = MustStore(t, dir)
	<-s.MigrationDone()
	if err := s.MigrationErr(); err != nil {
		t.Fatal(err)
	}
	for _, day := range days {
		got, ok, err := s.DayFigures(day)
		if err != nil || !ok || !same(got, written[day]) {
			t.Fatalf("%s after the migration (%v, %v):\n%+v\nwritten at the day's end:\n%+v", day, ok, err, got, written[day])
		}
	}
	if _, ok, _ := s.DayFigures("2026-11-24"); ok {
		t.Fatal("the current day got a digest")
	}
	if after, err := s.Events(0, 1<<20); err != nil || !reflect.DeepEqual(after, before) {
		t.Fatalf("the events of the schema 2 log read back otherwise (%v)", err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := getU64(tx.Bucket(bMeta), kSchema); v != SchemaVersion {
			t.Errorf("schema after open: %d", v)
		}
		return nil
	})
	// History gives the digests of closed days and the tickets of the others
	var fromDigest []string
	tickets := 0
	err = s.History(days[0], "2026-11-24", "", func(d *hall.DayDigest) bool { fromDigest = append(fromDigest, d.Day); return true },
		func(hall.Ticket) error { tickets++; return nil })
	if err != nil || strings.Join(fromDigest, " ") != strings.Join(days, " ") || tickets != 1 {
		t.Fatalf("history: %v, digests of %v, %d tickets", err, fromDigest, tickets)
	}
}

// A commit that changes a ticket of a closed day writes that day's digest
// again, so it never says less than the tickets.
func TestALateChangeToAClosedDayRewritesItsDigest(t *testing.T) {
	s := MustStore(t, "")
	days := visitDays(t, s, time.Date(2026, 11, 24, 8, 0, 0, 0, cst), 2, 4)
	var tk hall.Ticket
	s.TicketsBetween(days[0], days[0], func(t hall.Ticket) error {
		if t.Status == hall.Done {
			tk = t
		}
		return nil
	})
	seq := s.seq(t)
	tk.Rating = &hall.Rating{Score: 2, Reason: "慢", At: tk.FinishedAt.Add(time.Hour)}
	if err := s.Commit([]hall.Event{{Seq: seq + 1, Type: hall.EvTicketRated, At: tk.Rating.At, Day: "2026-11-26", Ticket: &tk}}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.DayFigures(days[0])
	if got.Total.Ratings != 1 || got.Total.Dissatisfied != 1 || !same(got, digestFromTickets(t, s, days[0])) {
		t.Fatalf("the digest after a late rating: %+v", got.Total)
	}
}

func (s *Store) seq(t *testing.T) uint64 {
	t.Helper()
	var n uint64
	s.db.View(func(tx *bolt.Tx) error { n = getU64(tx.Bucket(bMeta), kSeq); return nil })
	return n
}

// The purge clears the citizen keys from the purged days' digests too: no
// byte of the file holds them after it, and the visits stay, unkeyed.
func TestPurgeClearsTheDigestsKeys(t *testing.T) {
	s := MustStore(t, "")
	days := visitDays(t, s, time.Date(2026, 11, 24, 8, 0, 0, 0, cst), 3, 6)
	// citizens 0..5 came every day; the purge takes the first two days
	for {
		n, err := s.PurgePersonal(time.Date(2026, 11, 26, 12, 0, 0, 0, cst), 7)
		if err != nil {
			t.Fatal(err)
		}
		if n < 7 {
			break
		}
	}
	for i, day := range days {
		d, _, err := s.DayFigures(day)
		if err != nil || len(d.Visits) == 0 {
			t.Fatalf("%s: %v, %d visits", day, err, len(d.Visits))
		}
		if keyed := d.Visits[0].CitizenKey != ""; keyed != (i == 2) {
			t.Fatalf("%s: visits keyed %v after the purge", day, keyed)
		}
		if !same(d, digestFromTickets(t, s, day)) {
			t.Fatalf("%s: the digest and the purged tickets differ", day)
		}
	}
	// the keys are still in the file through the kept day; take that too
	for {
		n, err := s.PurgePersonal(time.Date(2026, 11, 28, 12, 0, 0, 0, cst), 100)
		if err != nil {
			t.Fatal(err)
		}
		if n < 100 {
			break
		}
	}
	raw, _ := os.ReadFile(s.Path())
	for i := range 6 {
		if key, _ := citizen(i); bytes.Contains(raw, []byte(key)) {
			t.Fatalf("citizen %d's key is still in the file", i)
		}
	}
}

// A garbled digest is an error that names the day, never a panic, and no
// prefix of a digest reads as one.
func TestAGarbledDigestIsAnError(t *testing.T) {
	s := MustStore(t, "")
	days := visitDays(t, s, time.Date(2026, 11, 24, 8, 0, 0, 0, cst), 1, 5)
	var figures, visits []byte
	s.db.View(func(tx *bolt.Tx) error {
		figures = bytes.Clone(tx.Bucket(bDayFigures).Get([]byte(days[0])))
		visits = bytes.Clone(tx.Bucket(bDayVisits).Get([]byte(days[0])))
		return nil
	})
	for n := range len(figures) {
		if _, err := decodeFigures(figures[:n], sectionsFor("")); !errors.Is(err, errGarbled) {
			t.Fatalf("the figures cut at %d of %d: %v", n, len(figures), err)
		}
	}
	for n := range len(visits) {
		if _, err := decodeVisits(visits[:n], days[0]); !errors.Is(err, errGarbled) {
			t.Fatalf("the visits cut at %d of %d: %v", n, len(visits), err)
		}
	}
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bDayFigures).Put([]byte(days[0]), []byte{1, 0xff}) })
	err := s.History(days[0], days[0], "", func(*hall.DayDigest) bool { return true }, func(hall.Ticket) error { return nil })
	if err == nil || !strings.Contains(err.Error(), days[0]) {
		t.Fatalf("a garbled digest: %v", err)
	}
}

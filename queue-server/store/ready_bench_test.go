package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// seedHistory writes n finished tickets spread over the days before today
// straight into the buckets, as a year of commits would have left them: the
// event with each ticket's last snapshot, the ticket's pointer to it, the
// day index and, as each day ended, the day's digest.
func seedHistory(tb testing.TB, s *Store, n int, today time.Time) {
	rng := rand.New(rand.NewPCG(1, 2))
	const days = 365
	seq := uint64(0)
	for d := days; d >= 1 && n > 0; d-- {
		day := today.AddDate(0, 0, -d)
		per := n / d
		n -= per
		ts := make([]hall.Ticket, per)
		for i := range ts {
			issued := day.Add(time.Duration(rng.IntN(8*3600)) * time.Second)
			called := issued.Add(time.Duration(rng.IntN(3600)) * time.Second)
			svc, w := string(rune('A'+rng.IntN(5))), 1+rng.IntN(8)
			ts[i] = hall.Ticket{ID: fmt.Sprintf("%016x", rng.Uint64()), Number: fmt.Sprintf("%s%03d", svc, i%999+1), Service: svc,
				Day: day.Format(time.DateOnly), Channel: hall.WalkIn, Status: hall.Done, IssuedAt: issued, QueuedAt: issued,
				CalledAt: called, FinishedAt: called.Add(time.Duration(60+rng.IntN(900)) * time.Second), Window: w, Clerk: fmt.Sprint("clerk-", w)}
		}
		err := s.db.Update(func(tx *bolt.Tx) error {
			tickets, index, events := tx.Bucket(bTickets), tx.Bucket(bDays), tx.Bucket(bEvents)
			for i := range ts {
				t := &ts[i]
				seq++
				b, _ := json.Marshal(hall.Event{Seq: seq, Type: hall.EvTicketCompleted, At: t.FinishedAt, Day: t.Day, Ticket: t})
				if err := events.Put(u64(seq), b); err != nil {
					return err
				}
				if err := tickets.Put([]byte(t.ID), u64(seq)); err != nil {
					return err
				}
				if err := index.Put([]byte(t.Day+"/"+t.ID), nil); err != nil {
					return err
				}
			}
			slices.SortFunc(ts, func(a, b hall.Ticket) int { return strings.Compare(a.ID, b.ID) }) // the index's order
			if err := putDigest(tx, hall.DigestDay(day.Format(time.DateOnly), ts)); err != nil {
				return err
			}
			return putU64(tx.Bucket(bMeta), kSeq, seq)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// report does a history report's work (api.Report by service): the
// closed days' digests, and every ticket of the other days, summed with
// the hall's figure definitions.
func report(tb testing.TB, s *Store, from, to string) (time.Duration, int) {
	start := time.Now()
	rows := map[string]*hall.Figures{}
	row := func(k string) *hall.Figures {
		f := rows[k]
		if f == nil {
			f = &hall.Figures{}
			rows[k] = f
		}
		return f
	}
	err := s.History(from, to, "service", func(d *hall.DayDigest) bool {
		for k, t := range d.Services {
			row(k).AddTally(t, 15*time.Minute)
		}
		return true
	}, func(t hall.Ticket) error {
		row(t.IssuedFor()).Add(&t, 15*time.Minute)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for _, f := range rows {
		f.Finish()
		n += f.Issued
	}
	return time.Since(start), n
}

// BenchmarkYearOfHistory opens a data directory holding a year of history
// (365 days × 5,000 tickets) and measures the time to the hall answering
// its first request, a month's report and a year's report (goal ≤ 1 s
// each).
func BenchmarkYearOfHistory(b *testing.B) {
	const days, perDay = 365, 5000
	dir := b.TempDir()
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	today := time.Date(2026, 11, 27, 9, 0, 0, 0, cst)
	seedHistory(b, s, days*perDay, today)
	clock := testclock.New(today)
	svc, err := hall.NewService(hall.SampleConfig(), s, clock, nil)
	if err != nil {
		b.Fatal(err)
	}
	for range 300 { // today's tickets so far
		if _, err := svc.Issue(context.Background(), hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
			b.Fatal(err)
		}
	}
	svc.Close()
	s.Close()
	b.ResetTimer()
	var ready, month, year time.Duration
	var nMonth, nYear int
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		svc, err := hall.NewService(hall.SampleConfig(), s, clock, nil)
		if err != nil {
			b.Fatal(err)
		}
		v, err := svc.Services(context.Background())
		if err != nil || v[4].Issued != 300 {
			b.Fatalf("after restart: %v, E issued %d", err, v[4].Issued)
		}
		ready += time.Since(start)
		last := today.AddDate(0, 0, -1)
		d, n := report(b, s, last.AddDate(0, -1, 1).Format(time.DateOnly), last.Format(time.DateOnly))
		month, nMonth = month+d, n
		d, n = report(b, s, last.AddDate(-1, 0, 1).Format(time.DateOnly), last.Format(time.DateOnly))
		year, nYear = year+d, n
		svc.Close()
		s.Close()
	}
	b.StopTimer()
	// a store written before digests: a month of days loses its digests and
	// is migrated at the next open
	s, err = Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	<-s.MigrationDone()
	last := today.AddDate(0, 0, -1)
	err = s.db.Update(func(tx *bolt.Tx) error {
		for d := range 31 {
			if err := tx.Bucket(bDayFigures).Delete([]byte(last.AddDate(0, 0, -d).Format(time.DateOnly))); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if s, err = Open(dir); err != nil {
		b.Fatal(err)
	}
	<-s.MigrationDone()
	migrate := time.Since(start)
	if err := s.MigrationErr(); err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ReportMetric(float64(migrate.Milliseconds())/31, "migrate-ms/day")
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(ready), "ready-ms")
	b.ReportMetric(per(month), "month-report-ms")
	b.ReportMetric(per(year), "year-report-ms")
	fmt.Printf("\n  a year of history (%d days × %d tickets): ready %.0f ms, a month's report (%d tickets) %.0f ms, a year's report (%d tickets) %.0f ms (goal ≤ 1000 ms each); migrating a store without digests %.0f ms per day, in the background\n",
		days, perDay, per(ready), nMonth, per(month), nYear, per(year), float64(migrate.Milliseconds())/31)
}

package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/testclock"
	"hallq/queue-server/hall"
)

// inUse is the bytes of the store's file that hold data: the file's
// high-water mark less the pages bbolt has freed for reuse.
func inUse(tb testing.TB, s *Store) int64 {
	var n int64
	if err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return n - int64(s.db.Stats().FreeAlloc)
}

// BenchmarkDiskPerTicket runs a hall day through the real engine and store
// — tickets issued from 50 kiosks at once, called, started and completed
// at 8 windows, the day closed — and prints what each ticket costs on disk
// (state, events, outbox, indexes), then again once the events are
// forwarded and the retention has run (outbox compacted, personal data
// purged), and the growth of a year of such days (goal ≤ 2 KB per ticket).
func BenchmarkDiskPerTicket(b *testing.B) {
	const n, kiosks, windows = 2000, 50, 8
	s, err := Open(b.TempDir()) // not MustStore: its check wants the outbox whole, and this one is compacted
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	cfg.Rules.NumberDigits = 6
	for i := range cfg.Services {
		cfg.Services[i].DailyQuota, cfg.Services[i].PerCitizenLimit = 0, 0
	}
	day := time.Date(2026, 11, 27, 9, 0, 0, 0, cst)
	clock := testclock.New(day)
	svc, err := hall.NewService(cfg, s, clock, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	empty := inUse(b, s)
	var wg sync.WaitGroup
	for k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < n; i += kiosks {
				r := hall.IssueRequest{Service: string(rune('A' + i%5)), CitizenKey: fmt.Sprintf("%064x", i), MaskedID: "4201**********1234", Kiosk: fmt.Sprint("kiosk-", k)}
				if _, err := svc.Issue(ctx, hall.Op{Actor: "kiosk", IdemKey: fmt.Sprint("k", k, ":", i)}, r); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	served := 0
	var mu sync.Mutex
	for w := 1; w <= windows; w++ {
		if _, err := svc.SetWindow(ctx, hall.Op{Actor: "clerk"}, w, hall.WindowOpen, fmt.Sprint("clerk-", w), ""); err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t, found, err := svc.Call(ctx, hall.Op{Actor: "clerk"}, w, "")
				if err != nil || !found {
					return
				}
				for _, a := range []string{hall.ActStart, hall.ActComplete} {
					if _, err := svc.Act(ctx, hall.Op{Actor: "clerk"}, hall.Action{Name: a, Ticket: t.ID}); err != nil {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				served++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	clock.Set(day.AddDate(0, 0, 1)) // the next morning: the first request closes the day
	if _, err := svc.Services(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Issue(ctx, hall.Op{}, hall.IssueRequest{Service: "E"}); err != nil {
		b.Fatal(err)
	}
	day1 := inUse(b, s) - empty
	seq, err := svc.Seq(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.MarkForwarded(seq); err != nil {
		b.Fatal(err)
	}
	for {
		m, err := s.CompactOutbox(clock.Now(), 10_000)
		if err != nil {
			b.Fatal(err)
		}
		if m == 0 {
			break
		}
	}
	for {
		m, err := s.PurgePersonal(clock.Now(), 10_000)
		if err != nil {
			b.Fatal(err)
		}
		if m < 10_000 {
			break
		}
	}
	kept := inUse(b, s) - empty
	fi, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	var evBytes, evN int
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bEvents).ForEach(func(k, v []byte) error { evBytes += len(k) + len(v); evN++; return nil })
	}); err != nil {
		b.Fatal(err)
	}
	// where the bytes are: each bucket's pages in use, per ticket
	var where []string
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bk *bolt.Bucket) error {
			st := bk.Stats()
			if used := st.LeafInuse + st.BranchInuse; used > 0 {
				where = append(where, fmt.Sprintf("%s %.0f B (%d keys, pages %.0f%% full)", name, float64(used)/n, st.KeyN,
					100*float64(used)/float64(max(st.LeafAlloc+st.BranchAlloc, 1))))
			}
			return nil
		})
	}); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\n  per ticket, by bucket (bytes in use on their pages): %s\n", strings.Join(where, "; "))
	per, perKept := float64(day1)/n, float64(kept)/n
	year := perKept * 5000 * 365
	b.ReportMetric(per, "bytes/ticket")
	b.ReportMetric(perKept, "bytes/ticket-retained")
	b.ReportMetric(year/(1<<30), "GiB/year")
	fmt.Printf("\n  disk per ticket (a day of %d tickets, %d served at %d windows, day closed): %.0f B; forwarded, outbox compacted and personal data purged: %.0f B (goal ≤ 2048 B), of which the event log's own keys and values %.0f B (%d events, %.0f B each); a year of 5,000-ticket days: %.2f GiB (file now %.1f MiB)\n",
		n, served, windows, per, perKept, float64(evBytes)/n, evN, float64(evBytes)/float64(evN), year/(1<<30), float64(fi.Size())/(1<<20))
}

package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// bareGroupCommit is the reference for the engine: producers hand small
// records to one loop that commits everything queued in one synced bbolt
// transaction — no engine, no JSON, no network. It returns records/s.
func bareGroupCommit(b *testing.B, dir string, producers, perProducer int) (perSec, perCommit float64) {
	db, err := bolt.Open(filepath.Join(dir, "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("t")); return err }); err != nil {
		b.Fatal(err)
	}
	in := make(chan chan struct{}, producers)
	commits := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		var seq uint64
		for r := range in {
			batch := []chan struct{}{r}
		drain:
			for {
				select {
				case r2, ok := <-in:
					if !ok {
						break drain
					}
					batch = append(batch, r2)
				default:
					break drain
				}
			}
			commits++
			db.Update(func(tx *bolt.Tx) error {
				bk := tx.Bucket([]byte("t"))
				for range batch {
					seq++
					bk.Put(u64(seq), make([]byte, 300))
				}
				return nil
			})
			for _, r := range batch {
				close(r)
			}
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perProducer {
				r := make(chan struct{})
				in <- r
				<-r
			}
		}()
	}
	wg.Wait()
	perSec = float64(producers*perProducer) / time.Since(start).Seconds()
	close(in)
	<-done
	return perSec, float64(producers*perProducer) / float64(commits)
}

// countingJournal counts the engine's commits (each one synced transaction).
type countingJournal struct {
	*Store
	commits atomic.Int64
}

func (j *countingJournal) Commit(evs []hall.Event) error {
	j.commits.Add(1)
	return j.Store.Commit(evs)
}

// BenchmarkEngineIssue issues tickets through the real engine and bbolt
// store from 200 goroutines, with no network or JSON in front, next to the
// bare group-commit loop measured in the same run (goal ≥ 0.5 × the loop).
func BenchmarkEngineIssue(b *testing.B) {
	const clients, per = 200, 100
	bare, barePer := bareGroupCommit(b, b.TempDir(), clients, per)
	s := &countingJournal{Store: MustStore(b, "")}
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	cfg.Rules.NumberDigits = 6
	for i := range cfg.Services {
		cfg.Services[i].DailyQuota, cfg.Services[i].PerCitizenLimit = 0, 0
	}
	svc, err := hall.NewService(cfg, s, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				if _, err := svc.Issue(context.Background(), hall.Op{IdemKey: fmt.Sprint(c, "-", i)}, hall.IssueRequest{Service: string(rune('A' + (c+i)%5)), CitizenKey: fmt.Sprintf("%064x", c)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(clients*per) / time.Since(start).Seconds()
	perCommit := float64(clients*per) / float64(s.commits.Load())
	b.ReportMetric(rate, "engine-tickets/s")
	b.ReportMetric(bare, "bare-commit-tickets/s")
	b.ReportMetric(rate/bare, "engine/bare")
	b.ReportMetric(perCommit, "engine-tickets/commit")
	fmt.Printf("\n  engine + bbolt, 200 goroutines, no network: %.0f tickets/s = %.2f × the bare group-commit loop in this run (%.0f/s) (goal ≥ 0.50); %.1f tickets per synced commit (bare loop %.1f)\n",
		rate, rate/bare, bare, perCommit, barePer)
}

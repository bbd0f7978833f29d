package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// bareGroupCommit is the reference for the engine: producers hand small
// records to one loop that commits everything queued in one synced bbolt
// transaction — no engine, no JSON, no network. It returns records/s.
func bareGroupCommit(b *testing.B, dir string, producers, perProducer int) (perSec, perCommit float64, cpu time.Duration) {
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
	cpu0 := cpuTime()
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
	cpu = (cpuTime() - cpu0) / time.Duration(producers*perProducer)
	close(in)
	<-done
	return perSec, float64(producers*perProducer) / float64(commits), cpu
}

// cpuTime is the CPU time the process has used (user and system, every
// thread): CPU per operation, which a shared machine's load moves far less
// than a rate.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// oneRecordCommits commits n records of 300 bytes one per synced bbolt
// transaction into db (the reference for a lone request: bbolt's own
// cost of one commit, two syncs) and returns their latencies.
func oneRecordCommits(b *testing.B, db *bolt.DB, from, n int) []time.Duration {
	lat := make([]time.Duration, n)
	for i := range n {
		t := time.Now()
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists([]byte("t"))
			if err != nil {
				return err
			}
			return bk.Put(u64(uint64(from+i)), make([]byte, 300))
		})
		if err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(t)
	}
	return lat
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(int(p*float64(len(s))), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// countingJournal counts the engine's commits (each one synced
// transaction) and, when timed, records how long each took (on the
// committer goroutine; read once the replies are in).
type countingJournal struct {
	*Store
	commits atomic.Int64
	timed   bool
	took    []time.Duration
}

func (j *countingJournal) Commit(evs []hall.Event) error {
	j.commits.Add(1)
	t := time.Now()
	err := j.Store.Commit(evs)
	if j.timed {
		j.took = append(j.took, time.Since(t))
	}
	return err
}

// benchService is the engine on a fresh store with the sample hall open
// around the clock and no quotas (a benchmark issues thousands).
func benchService(b *testing.B) (*hall.Service, *countingJournal) {
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
	b.Cleanup(svc.Close)
	return svc, s
}

// issueFrom is client c's i-th issue (its own idempotency key, its own
// citizen key, the five services in turn).
func issueFrom(svc *hall.Service, c, i int, citizen string) error {
	_, err := svc.Issue(context.Background(), hall.Op{IdemKey: strconv.Itoa(c) + "-" + strconv.Itoa(i)},
		hall.IssueRequest{Service: string(rune('A' + (c+i)%5)), CitizenKey: citizen})
	return err
}

// BenchmarkEngineIssue issues tickets through the real engine and bbolt
// store from 200 goroutines, with no network or JSON in front, next to the
// bare group-commit loop measured in the same run (goal ≥ 0.5 × the loop).
// Then one goroutine issues alone, in rounds alternating with bbolt's
// one-record commits on the same disk: the engine's and store's share of
// the one-client latency (the websocket figure adds the API's).
func BenchmarkEngineIssue(b *testing.B) {
	const clients, per = 200, 100
	bare, barePer, bareCPU := bareGroupCommit(b, b.TempDir(), clients, per)
	svc, s := benchService(b)
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			citizen := fmt.Sprintf("%064x", c)
			for i := range per {
				if err := issueFrom(svc, c, i, citizen); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rate := float64(clients*per) / time.Since(start).Seconds()
	engCPU := (cpuTime() - cpu0) / time.Duration(clients*per)
	perCommit := float64(clients*per) / float64(s.commits.Load())
	b.ReportMetric(rate, "engine-tickets/s")
	b.ReportMetric(bare, "bare-commit-tickets/s")
	b.ReportMetric(rate/bare, "engine/bare")
	b.ReportMetric(perCommit, "engine-tickets/commit")
	b.ReportMetric(float64(engCPU)/1e3, "engine-cpu-µs/ticket")
	b.ReportMetric(float64(bareCPU)/1e3, "bare-cpu-µs/record")
	fmt.Printf("\n  engine + bbolt, 200 goroutines, no network: %.0f tickets/s = %.2f × the bare group-commit loop in this run (%.0f/s) (goal ≥ 0.50); %.1f tickets per synced commit (bare loop %.1f); CPU %.1f µs per ticket (bare loop %.1f µs per record; the process, stand-in clients included)\n",
		rate, rate/bare, bare, perCommit, barePer, float64(engCPU)/1e3, float64(bareCPU)/1e3)

	// one goroutine, on a fresh store: a lone issue is one commit
	one, s1 := benchService(b)
	s1.timed = true
	db, err := bolt.Open(filepath.Join(b.TempDir(), "one.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const rounds, n = 3, 100
	var engLat, putLat []time.Duration
	var engPages, putPages int
	citizen := fmt.Sprintf("%064x", clients)
	for r := range rounds {
		st := db.Stats()
		putLat = append(putLat, oneRecordCommits(b, db, r*n, n)...)
		now := db.Stats()
		d := now.TxStats.Sub(&st.TxStats)
		putPages += int(d.GetWrite())
		st = s1.db.Stats()
		for i := range n {
			t := time.Now()
			if err := issueFrom(one, clients, r*n+i, citizen); err != nil {
				b.Fatal(err)
			}
			engLat = append(engLat, time.Since(t))
		}
		now = s1.db.Stats()
		d = now.TxStats.Sub(&st.TxStats)
		engPages += int(d.GetWrite())
	}
	eng1, put1 := pct(engLat, 0.5), pct(putLat, 0.5)
	b.ReportMetric(ms(eng1), "engine-issue-1-p50-ms")
	b.ReportMetric(ms(put1), "bbolt-one-record-p50-ms")
	b.ReportMetric(float64(eng1)/float64(put1), "engine1/one-record")
	commit1 := pct(s1.took, 0.5)
	b.ReportMetric(ms(commit1), "engine-commit-1-p50-ms")
	fmt.Printf("  engine + bbolt, 1 goroutine: issue p50 %.3f ms (p99 %.3f) = %.2f × bbolt's one-record commit p50 %.3f ms in the same rounds; of it the store's commit p50 %.3f ms, the engine's apply and hand-offs the rest; %.1f pages written per issue (one record: %.1f)\n",
		ms(eng1), ms(pct(engLat, 0.99)), float64(eng1)/float64(put1), ms(put1), ms(commit1),
		float64(engPages)/float64(rounds*n), float64(putPages)/float64(rounds*n))

	// the pages of the same lone issue on a hall as it is after a year: a
	// province catalogue received, a year of counters before today's
	aged := agedHall(b)
	var agedPages int
	st := aged.Store.db.Stats()
	for i := range n {
		if err := issueFrom(aged.svc, clients+1, i, citizen); err != nil {
			b.Fatal(err)
		}
	}
	now := aged.Store.db.Stats()
	d := now.TxStats.Sub(&st.TxStats)
	agedPages = int(d.GetWrite())
	b.ReportMetric(float64(agedPages)/n, "aged-hall-pages/issue")
	fmt.Printf("  the same on a hall after a year (a province catalogue, a year of counters): %.1f pages written per issue\n", float64(agedPages)/n)
}

type aged struct {
	*countingJournal
	svc *hall.Service
}

// agedHall is benchService's hall with what a year leaves in the store
// besides tickets: a province catalogue of 60 matters and a year of
// counters before today's, and 20 issues of today behind it.
func agedHall(b *testing.B) aged {
	svc, s := benchService(b)
	cat := catalog.Catalog{Version: 1, PublishedAt: "2026-01-05T08:00:00+08:00"}
	for i := range 60 {
		cat.Matters = append(cat.Matters, catalog.Matter{Code: fmt.Sprintf("m%02d", i),
			Name: catalog.Text{ZH: "户籍业务：户口迁移登记办理", EN: "Household registration: moving a registration"}, Services: []string{"A"}, Booking: catalog.BookingAllowed,
			Materials: []catalog.Material{
				{Name: catalog.Text{ZH: "居民身份证原件及复印件", EN: "Resident ID card, original and a copy"}, Original: true, Copies: 1},
				{Name: catalog.Text{ZH: "居民户口簿原件", EN: "Household register, original"}, Original: true},
				{Name: catalog.Text{ZH: "准予迁入证明", EN: "Certificate of admission"}, Note: &catalog.Text{ZH: "迁入地公安机关出具", EN: "issued by the destination's public security bureau"}},
			}})
	}
	if _, err := svc.ReceiveCatalog(context.Background(), hall.Op{Actor: "central"}, cat); err != nil {
		b.Fatal(err)
	}
	loc := svc.Config().Location()
	err := s.db.Update(func(tx *bolt.Tx) error {
		for d := 1; d <= 365; d++ {
			day := time.Now().In(loc).AddDate(0, 0, -d).Format(time.DateOnly)
			for _, code := range []string{"A", "B", "C", "D", "E"} {
				if err := tx.Bucket([]byte("counters")).Put([]byte(day+"/"+code), []byte(`{"day":"`+day+`","service":"`+code+`","last":480}`)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 20 {
		if err := issueFrom(svc, 999, i, fmt.Sprintf("%064x", 999)); err != nil {
			b.Fatal(err)
		}
	}
	return aged{s, svc}
}

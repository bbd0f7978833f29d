package platform_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
)

// BenchmarkViewsThousandHalls measures, against one embedded NATS server
// that syncs every write (the default), with 1,000 simulated halls:
//   - the engine's own rate: the same events published and acknowledged
//     into a stream like HALLS by one publisher keeping 1,000 in flight
//     (the engine's best), and into HALLS by the halls as forwarders do
//     (a batch in flight, then the acks; 200 halls at a time);
//   - the views' rate: a central process applying those events into the
//     KV views (hall entries, ticket entries), and its ratio to the
//     better of the two engine rates (goal ≥ 0.5: the engine, not our
//     code, is the limit);
//   - the central process's heap with 1,000 halls in its views;
//   - p50/p99 of GET /api/v1/halls with 1,000 halls (goal p99 ≤ 50 ms).
func BenchmarkViewsThousandHalls(b *testing.B) {
	for range b.N {
		benchViews(b)
	}
}

func benchViews(b *testing.B) {
	srv, js := mustEmbedded(b)
	if err := platform.EnsureStreams(b.Context(), js, platform.StreamOptions{}); err != nil {
		b.Fatal(err)
	}
	const halls = 1000
	var sims []*simHall
	total := 0
	for i := range halls {
		h := newSimHall(fmt.Sprintf("B-%04d", i), 5)
		sims = append(sims, h)
		total += len(h.Events)
	}
	// The engine at its best: one publisher, 1,000 in flight, into a stream
	// configured as HALLS is.
	if _, err := js.CreateStream(b.Context(), jetstream.StreamConfig{Name: "ENGINE", Subjects: []string{"engine.>"}, Storage: jetstream.FileStorage,
		Duplicates: 24 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	var futs []jetstream.PubAckFuture
	for _, h := range sims {
		for i := range h.Events {
			m := h.msg(i)
			m.Subject = "engine." + m.Subject
			f, err := js.PublishMsgAsync(m, jetstream.WithMsgID(m.Header.Get(jetstream.MsgIDHeader)))
			if err != nil {
				b.Fatal(err)
			}
			futs = append(futs, f)
			if len(futs) == 1000 {
				for _, f := range futs {
					select {
					case <-f.Ok():
					case err := <-f.Err():
						b.Fatal(err)
					}
				}
				futs = futs[:0]
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("publishes not acknowledged")
	}
	bestRate := float64(total) / time.Since(t0).Seconds()
	// The halls: every hall forwards its day, 200 halls at a time.
	t0 = time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 200)
	for _, h := range sims {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			h.publish(b.Context(), b, js, 0, len(h.Events), 200)
		}()
	}
	wg.Wait()
	hallsRate := float64(total) / time.Since(t0).Seconds()
	pubRate := max(bestRate, hallsRate)

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The views: one central process applies the whole backlog.
	t1 := time.Now()
	p := mustProcess(b, srv.URL(), platform.Config{Views: platform.ViewOptions{Partitions: 16}})
	for p.Applier.Stats().Applied < uint64(total) {
		if time.Since(t1) > 10*time.Minute {
			b.Fatalf("applied %d of %d in 10 minutes", p.Applier.Stats().Applied, total)
		}
		time.Sleep(5 * time.Millisecond)
	}
	applyRate := float64(total) / time.Since(t1).Seconds()
	for len(p.Views.All()) < halls {
		time.Sleep(5 * time.Millisecond)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapMB := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)

	// The hall list, 300 times.
	var lat []time.Duration
	for range 300 {
		s := time.Now()
		res, err := http.Get(p.URL() + "/api/v1/halls")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || n < halls*100 {
			b.Fatalf("GET /api/v1/halls: %d, %d bytes", res.StatusCode, n)
		}
		lat = append(lat, time.Since(s))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]

	// One hall's entry, to show it is all there.
	if e, err := p.Buckets.Halls.Get(context.Background(), "B-0999"); err != nil || len(e.Value()) == 0 {
		b.Fatal(err)
	}
	b.ReportMetric(bestRate, "engine_events/s")
	b.ReportMetric(hallsRate, "forwarded_events/s")
	b.ReportMetric(applyRate, "applied_events/s")
	b.ReportMetric(applyRate/pubRate, "ratio")
	b.ReportMetric(heapMB, "central_heap_MB")
	b.ReportMetric(float64(p50.Microseconds())/1000, "halls_p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "halls_p99_ms")
	fmt.Printf("central views, %d halls, %d events, sync always: JetStream publish+ack %.0f events/s (one publisher, 1,000 in flight), %.0f events/s (the halls forwarding); applied into the views %.0f events/s; ratio %.2f (goal ≥ 0.5); central heap %.1f MB; GET /api/v1/halls p50 %v p99 %v (goal ≤ 50 ms)\n",
		halls, total, bestRate, hallsRate, applyRate, applyRate/pubRate, heapMB, p50.Round(time.Microsecond), p99.Round(time.Microsecond))
}

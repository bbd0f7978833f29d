package rating_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkLiveWaitsThousandHalls measures what the /waits page loads —
// GET /api/v1/halls and GET /api/v1/catalog — with 1,000 halls forwarding
// to one embedded central (p50/p99 per request, sequential), next to
// in-run references on the same server: a bare KV read (GET
// /api/v1/tickets/{id}) and the hall list of the same 1,000 halls before
// the booking side knows them (no names, no next free slots). It also
// prints how long one pass of the booking side over 1,000 named halls
// takes (names and each hall's next free slot, done in the background
// every 15 s; the list is served from the last pass meanwhile).
func BenchmarkLiveWaitsThousandHalls(b *testing.B) {
	for range b.N {
		benchWaits(b)
	}
}

func benchWaits(b *testing.B) {
	w := mustCentral(b)
	const halls = 1000
	ids := make([]string, halls)
	for i := range ids {
		ids[i] = fmt.Sprintf("42%04d-01", i)
		publishHall(b, w.P.JS, ids[i], time.Now().Add(-time.Duration(i%7)*time.Minute), 3)
	}
	t0 := time.Now()
	defer func() { fmt.Fprintf(os.Stderr, "whole run %v\n", time.Since(t0).Round(time.Millisecond)) }()
	eventually(b, "the central's views hold 1,000 halls", func() bool {
		all := w.P.Views.All()
		return len(all) == halls && all[halls-1].LastSeq == 4
	})
	ticket := "/api/v1/tickets/" + ids[0] + "-t0000"
	lat := func(path string, n int) (p50, p99 time.Duration) {
		d := make([]time.Duration, 0, n)
		for range n {
			t0 := time.Now()
			res, err := http.Get(w.P.URL() + path)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d", path, res.StatusCode)
			}
			d = append(d, time.Since(t0))
		}
		slices.Sort(d)
		return d[n/2], d[n*99/100]
	}
	report := func(name, path string, n int) {
		p50, p99 := lat(path, n)
		fmt.Fprintf(os.Stderr, "%-28s p50 %9.2f ms  p99 %9.2f ms (%d requests)\n", name, ms(p50), ms(p99), n)
		b.ReportMetric(ms(p50), name+"-p50-ms")
		b.ReportMetric(ms(p99), name+"-p99-ms")
	}
	report("ticket", ticket, 400)
	report("halls-not-yet-named", "/api/v1/halls", 100)
	// The booking side learns every hall's set-up (name, district, calendar, seats).
	var wg sync.WaitGroup
	next := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				w.MustSetUp(id, "大厅 "+id, "Hall "+id, "区 "+id[2:6])
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	fmt.Fprintf(os.Stderr, "1,000 set-ups written at %v\n", time.Since(t0).Round(time.Millisecond))
	// The list is served from the booking side's last pass over the halls
	// (names, next free slot); a pass older than 15 s is redone in the
	// background. How long one pass over 1,000 named halls takes:
	time.Sleep(16 * time.Second)
	tp := time.Now()
	for {
		res, err := http.Get(w.P.URL() + "/api/v1/halls")
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if strings.Count(string(body), `"name":{"name":`) == halls {
			break
		}
		if time.Since(tp) > 10*time.Minute {
			b.Fatal("the halls were not named within 10 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
	pass := time.Since(tp)
	fmt.Fprintf(os.Stderr, "%-28s %9.2f s (in the background; the list is served meanwhile)\n", "pass-over-1000-named-halls", pass.Seconds())
	b.ReportMetric(pass.Seconds(), "named-pass-s")
	report("halls-named-with-slots", "/api/v1/halls", 100)
	report("catalog", "/api/v1/catalog", 200)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package booking_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/natsembed"
)

// BenchmarkBookingRush: 2,000 concurrent booking requests for 1,000 seats
// (ten slots of 100) through the HTTP API, spread over 1 or 3 central
// processes on one embedded NATS server syncing every write. Reports the
// latency of a request (p50, p99, confirmed or refused as full) and the
// bookings confirmed per second.
func BenchmarkBookingRush(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			ns, err := natsembed.Start(natsembed.Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(ns.Stop)
			w := mustWorldAt(b, ns.URL(), 1, n)
			slots := rushHall(w, 100)
			const requests = 2000
			tokens := mintCitizens(w, 5000, requests)
			lat := make([]time.Duration, requests)
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				confirmed int
			)
			b.ResetTimer()
			start := time.Now()
			for i, tok := range tokens {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body, _ := json.Marshal(booking.Request{Hall: "rush", Service: "B", SlotStart: slots[i%len(slots)]})
					req, _ := http.NewRequest("POST", w.Insts[i%n].URL+"/api/v1/bookings", bytesReader(body))
					req.Header.Set("Authorization", "Bearer "+tok)
					t0 := time.Now()
					resp, err := rushClient.Do(req)
					lat[i] = time.Since(t0)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusCreated {
						mu.Lock()
						confirmed++
						mu.Unlock()
					} else if resp.StatusCode != http.StatusConflict {
						b.Errorf("status %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			if confirmed != 1000 {
				b.Fatalf("%d confirmed of 1000 seats", confirmed)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(confirmed)/el.Seconds(), "bookings/s")
		})
	}
}

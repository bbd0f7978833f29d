package platform_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"hallq/central/platform"
)

// BenchmarkDashboardThousandHalls measures the province dashboard's reads
// with 1,000 halls, each with a busy day in its entry (five services,
// twenty waiting, windows, hourly figures, matters) and seven closed days
// in central_days, on one embedded NATS server: p50/p99 of GET
// /api/v1/overview (every hall, as the page polls it every 5 s; goal p99
// ≤ 100 ms) and of a month's GET /api/v1/reports/summary over every hall
// (goal p99 ≤ 2 s).
func BenchmarkDashboardThousandHalls(b *testing.B) {
	srv, _ := mustEmbedded(b)
	staff, admin, _ := staffFile(b, "D-0000")
	now := time.Date(2026, 11, 27, 10, 30, 0, 0, shanghai)
	p := mustProcess(b, srv.URL(), platform.Config{StaffTokens: staff, Now: func() time.Time { return now }})
	const halls = 1000
	agg := func() map[string]*platform.ServiceAgg {
		out := map[string]*platform.ServiceAgg{}
		for _, s := range []string{"A", "B", "C", "D", "E"} {
			out[s] = &platform.ServiceAgg{Issued: 120, Served: 100, WaitSumS: 60000, WaitN: 100, ServiceSumS: 30000, ServiceN: 100, Ratings: [6]int{0, 1, 2, 5, 20, 40},
				Arrivals: []int{0, 0, 0, 0, 0, 0, 0, 0, 10, 20, 30, 20, 10, 5, 10, 10, 5}, HourWaitS: make([]float64, 17), HourWaitN: make([]int, 17),
				Matters: map[string]*platform.MatterAgg{s + "-1": {Handled: 60, Done: 50, Incomplete: 10, Ratings: [6]int{0, 0, 1, 2, 10, 20}}, s + "-2": {Handled: 40, Done: 40}}}
		}
		return out
	}
	for i := range halls {
		id := fmt.Sprintf("D-%04d", i)
		st := platform.HallState{Hall: id, Epoch: "e", LastSeq: 1000, Events: 1000, Day: "2026-11-27", LastAt: now.Add(-time.Minute), Services: agg(),
			Waiting: map[string][]platform.WaitingItem{}, Windows: map[string]platform.WindowState{}}
		for j, s := range []string{"A", "B", "C", "D", "E"} {
			for k := range 4 {
				st.Waiting[s] = append(st.Waiting[s], platform.WaitingItem{ID: fmt.Sprintf("%s-%s%d", id, s, k), Number: fmt.Sprintf("%s%03d", s, 100+k), QueuedAt: now.Add(-time.Duration(10*k) * time.Minute)})
			}
			st.Windows[fmt.Sprint(j+1)] = platform.WindowState{Number: j + 1, Status: "open", Services: []string{s}}
		}
		body, _ := json.Marshal(st)
		if _, err := p.Buckets.Halls.Put(b.Context(), id, body); err != nil {
			b.Fatal(err)
		}
		for d := 20; d < 27; d++ {
			day := fmt.Sprintf("2026-11-%02d", d)
			body, _ := json.Marshal(platform.DayAgg{Hall: id, Day: day, Services: agg(), Through: 1, Epoch: "e"})
			if _, err := p.Buckets.Days.Put(b.Context(), id+"."+day, body); err != nil {
				b.Fatal(err)
			}
		}
	}
	for len(p.Views.All()) < halls {
		time.Sleep(5 * time.Millisecond)
	}
	measure := func(path string, n int) (p50, p99 time.Duration) {
		var lat []time.Duration
		for range n {
			req, _ := http.NewRequest("GET", p.URL()+path, nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			s := time.Now()
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			size, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || size < halls*100 {
				b.Fatalf("GET %s: %d, %d bytes", path, res.StatusCode, size)
			}
			lat = append(lat, time.Since(s))
		}
		slices.Sort(lat)
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	b.ResetTimer()
	for range b.N {
		o50, o99 := measure("/api/v1/overview", 100)
		r50, r99 := measure("/api/v1/reports/summary?from=2026-11-01&to=2026-11-30&by=hall,service", 10)
		b.ReportMetric(float64(o50.Microseconds())/1000, "overview_p50_ms")
		b.ReportMetric(float64(o99.Microseconds())/1000, "overview_p99_ms")
		b.ReportMetric(float64(r50.Microseconds())/1000, "month_report_p50_ms")
		b.ReportMetric(float64(r99.Microseconds())/1000, "month_report_p99_ms")
		fmt.Printf("province dashboard, %d halls: GET /api/v1/overview p50 %v p99 %v (goal ≤ 100 ms); a month's report by hall and service over every hall (8 days each) p50 %v p99 %v (goal ≤ 2 s)\n",
			halls, o50.Round(time.Microsecond), o99.Round(time.Microsecond), r50.Round(time.Millisecond), r99.Round(time.Millisecond))
	}
}

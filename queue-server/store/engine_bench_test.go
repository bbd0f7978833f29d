package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"hallq/queue-server/hall"
)

// BenchmarkEngineIssue issues tickets through the real engine and bbolt
// store from 200 goroutines, with no network or JSON in front: the ceiling
// the API's issue rate is compared against.
func BenchmarkEngineIssue(b *testing.B) {
	s := MustStore(b, "")
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
	const clients, per = 200, 100
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
	b.ReportMetric(rate, "engine-tickets/s")
	fmt.Printf("\n  engine + bbolt, 200 goroutines, no network: %.0f tickets/s\n", rate)
}

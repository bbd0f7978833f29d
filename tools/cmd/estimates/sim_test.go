package main

import (
	"strings"
	"testing"

	"hallq/queue-server/hall"
)

// TestEstimateBeatsNaive plays three seeded days: the engine's estimate must
// be closer to the actual waits than the naive one, and the simulation must
// be deterministic.
func TestEstimateBeatsNaive(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		p := DefaultParams()
		p.Seed = seed
		r, err := Run(hall.SampleConfig(), p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: %v", seed, r)
		if r.Tickets < 500 {
			t.Fatalf("only %d tickets: the day is too quiet to measure", r.Tickets)
		}
		if r.MAE >= r.NaiveMAE {
			t.Errorf("seed %d: estimate MAE %v is not better than naive %v", seed, r.MAE, r.NaiveMAE)
		}
		again, _ := Run(hall.SampleConfig(), p)
		if again != r {
			t.Fatalf("same seed, different day: %v vs %v", again, r)
		}
	}
}

// BenchmarkWaitEstimate reports the estimate's error against actual waits
// as a share of the mean wait (goal ≤ 25%), next to the naive estimate's.
func BenchmarkWaitEstimate(b *testing.B) {
	var est, nv, wait float64
	n := 0
	for i := 0; i < b.N; i++ {
		for seed := uint64(1); seed <= 5; seed++ {
			p := DefaultParams()
			p.Seed = seed
			r, err := Run(hall.SampleConfig(), p)
			if err != nil {
				b.Fatal(err)
			}
			est += r.RelErr()
			nv += r.NaiveRelErr()
			wait += r.MeanWait.Minutes()
			n++
		}
	}
	b.ReportMetric(100*est/float64(n), "estimate-err-%")
	b.ReportMetric(100*nv/float64(n), "naive-err-%")
	b.ReportMetric(wait/float64(n), "mean-wait-min")
}

// The command prints a line a day and the mean errors; a bad -days is refused.
func TestCommand(t *testing.T) {
	var out, errs strings.Builder
	if rc := run([]string{"-days", "2"}, &out, &errs); rc != 0 {
		t.Fatalf("exit %d: %s", rc, errs.String())
	}
	if !strings.Contains(out.String(), "day 2: ") || !strings.Contains(out.String(), "mean error over 2 days: estimate ") {
		t.Fatalf("output:\n%s", out.String())
	}
	errs.Reset()
	if rc := run([]string{"-days", "0"}, &out, &errs); rc != 2 || !strings.Contains(errs.String(), "-days must be at least 1") {
		t.Fatalf("-days 0: exit %d, %q", rc, errs.String())
	}
}

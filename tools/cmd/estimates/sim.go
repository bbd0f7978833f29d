// Command estimates plays deterministic hall days through the real queue
// engine: seeded random arrivals per service (walk-ins, priority citizens),
// clerks calling, serving and no-showing with seeded service times, on an
// injected clock with no sleeping. It measures the engine's wait estimates
// against the waits that actually happened, next to the naive estimate
// (people ahead × mean service time ÷ open windows), and prints one line a
// day and the mean errors:
//
//	go run ./tools/cmd/estimates -days 5
//
// BenchmarkWaitEstimate (`make bench`) reports the same figures, and
// TestEstimateBeatsNaive holds the engine to beating the naive estimate.
package main

import (
	"container/heap"
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"hallq/queue-server/hall"
)

// Params shape a simulated day.
type Params struct {
	Seed      uint64
	Day       time.Time          // the day's date, hall time zone
	Open      time.Duration      // from midnight, e.g. 8h30m
	Close     time.Duration      // arrivals stop at Close; windows serve the rest
	PerHour   map[string]float64 // mean arrivals per hour, per service
	ServiceCV float64            // coefficient of variation of service times (log-normal)
	WalkTime  time.Duration      // from call to start
	NoShow    float64            // share of called citizens who do not come
	Priority  float64            // share of walk-ins who are priority citizens
}

// DefaultParams is a busy day at the sample hall.
func DefaultParams() Params {
	return Params{
		Seed: 1, Day: time.Date(2026, 11, 27, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		Open: 8*time.Hour + 30*time.Minute, Close: 16*time.Hour + 30*time.Minute,
		PerHour:   map[string]float64{"A": 24, "B": 17, "C": 15, "D": 6, "E": 12},
		ServiceCV: 0.5, WalkTime: 30 * time.Second, NoShow: 0.04, Priority: 0.08,
	}
}

// Result reports a simulated day.
type Result struct {
	Tickets     int           // tickets called during the day
	MeanWait    time.Duration // actual, issue to call
	MAE         time.Duration // mean absolute error of the engine's estimate at issue
	NaiveMAE    time.Duration // same for the naive estimate
	MaxWait     time.Duration
	Unestimated int           // tickets issued when no window served their service
	Bias        time.Duration // mean signed error of the estimate (negative: too optimistic)
}

// RelErr is the engine's error as a share of the mean wait.
func (r Result) RelErr() float64 { return float64(r.MAE) / float64(r.MeanWait) }

// NaiveRelErr is the naive estimate's error as a share of the mean wait.
func (r Result) NaiveRelErr() float64 { return float64(r.NaiveMAE) / float64(r.MeanWait) }

func (r Result) String() string {
	return fmt.Sprintf("%d tickets, mean wait %v, max %v; estimate MAE %v (%.0f%% of mean wait, bias %v), naive MAE %v (%.0f%%)",
		r.Tickets, r.MeanWait.Round(time.Second), r.MaxWait.Round(time.Second), r.MAE.Round(time.Second), 100*r.RelErr(), r.Bias.Round(time.Second),
		r.NaiveMAE.Round(time.Second), 100*r.NaiveRelErr())
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// nullJournal accepts every commit: the simulation measures decisions, not disks.
type nullJournal struct{}

func (nullJournal) Load() (hall.Snapshot, error)  { return hall.Snapshot{}, nil }
func (nullJournal) Commit(evs []hall.Event) error { return nil }

type event struct {
	at     time.Time
	kind   int // arrival, serviceDone
	svc    string
	window int
	ticket string
}

const (
	evArrival = iota
	evDone
)

type agenda []event

func (a agenda) Len() int           { return len(a) }
func (a agenda) Less(i, j int) bool { return a[i].at.Before(a[j].at) }
func (a agenda) Swap(i, j int)      { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)        { *a = append(*a, x.(event)) }
func (a *agenda) Pop() any {
	old := *a
	e := old[len(old)-1]
	*a = old[:len(old)-1]
	return e
}

// Run plays one day of cfg with p and returns the measurements.
func Run(cfg hall.Config, p Params) (Result, error) {
	for i := range cfg.Services {
		cfg.Services[i].Hours = hall.Hours{Open: "00:00", Close: "24:00"}
		cfg.Services[i].DailyQuota, cfg.Services[i].PerCitizenLimit = 0, 0
	}
	rng := rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	start := p.Day.Add(p.Open)
	clk := &clock{t: start}
	svc, err := hall.NewService(cfg, nullJournal{}, clk, nil)
	if err != nil {
		return Result{}, err
	}
	defer svc.Close()
	ctx := context.Background()
	op := hall.Op{Actor: "sim"}
	means := map[string]time.Duration{}
	for _, s := range cfg.Services {
		means[s.Code] = s.MeanService.D()
	}
	var ag agenda
	for _, code := range slices.Sorted(maps.Keys(p.PerHour)) {
		rate := p.PerHour[code]
		t := start
		for {
			t = t.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Hour)))
			if t.After(p.Day.Add(p.Close)) {
				break
			}
			heap.Push(&ag, event{at: t, kind: evArrival, svc: code})
		}
	}
	idle := map[int]bool{}
	for _, w := range cfg.Windows {
		if _, err := svc.SetWindow(ctx, op, w.Number, hall.WindowOpen, fmt.Sprint("clerk", w.Number), ""); err != nil {
			return Result{}, err
		}
		idle[w.Number] = true
	}
	predicted := map[string][2]time.Duration{} // engine, naive
	issued := map[string]time.Time{}
	var res Result
	var sumAbs, sumNaive, sumWait time.Duration

	serviceTime := func(code string) time.Duration {
		m := float64(means[code])
		sigma := math.Sqrt(math.Log(1 + p.ServiceCV*p.ServiceCV))
		mu := math.Log(m) - sigma*sigma/2
		return time.Duration(math.Exp(mu + sigma*rng.NormFloat64()))
	}
	callNext := func(w int) error {
		tk, ok, err := svc.Call(ctx, op, w, "")
		if err != nil || !ok {
			idle[w] = true
			return err
		}
		idle[w] = false
		wait := clk.t.Sub(issued[tk.ID])
		pr := predicted[tk.ID]
		if pr[0] >= 0 {
			res.Tickets++
			sumWait += wait
			sumAbs += absDur(pr[0] - wait)
			res.Bias += pr[0] - wait
			sumNaive += absDur(pr[1] - wait)
			res.MaxWait = max(res.MaxWait, wait)
		}
		if rng.Float64() < p.NoShow {
			// the clerk recalls for two minutes, then marks the no-show
			heap.Push(&ag, event{at: clk.t.Add(2 * time.Minute), kind: evDone, window: w, ticket: tk.ID, svc: ""})
			return nil
		}
		heap.Push(&ag, event{at: clk.t.Add(p.WalkTime + serviceTime(tk.Service)), kind: evDone, window: w, ticket: tk.ID, svc: tk.Service})
		return nil
	}
	for ag.Len() > 0 {
		e := heap.Pop(&ag).(event)
		clk.t = e.at
		switch e.kind {
		case evArrival:
			r := hall.IssueRequest{Service: e.svc, CitizenKey: fmt.Sprintf("%064x", rng.Uint64())}
			if rng.Float64() < p.Priority {
				r.Channel = hall.Priority
			}
			tk, err := svc.Issue(ctx, op, r)
			if err != nil {
				return Result{}, err
			}
			issued[tk.ID] = clk.t
			est := time.Duration(tk.EstimatedWaitS) * time.Second
			if tk.EstimatedWaitS < 0 {
				res.Unestimated++
				est = -1
			}
			predicted[tk.ID] = [2]time.Duration{est, naive(ctx, svc, tk)}
			for _, w := range sortedIdle(idle) {
				if err := callNext(w); err != nil {
					return Result{}, err
				}
			}
		case evDone:
			if e.svc == "" {
				if _, err := svc.Act(ctx, op, hall.Action{Name: hall.ActNoShow, Ticket: e.ticket}); err != nil {
					return Result{}, err
				}
			} else {
				for _, a := range []string{hall.ActStart, hall.ActComplete} {
					if _, err := svc.Act(ctx, op, hall.Action{Name: a, Ticket: e.ticket}); err != nil {
						return Result{}, err
					}
				}
			}
			if err := callNext(e.window); err != nil {
				return Result{}, err
			}
		}
	}
	if res.Tickets > 0 {
		n := time.Duration(res.Tickets)
		res.MeanWait, res.MAE, res.NaiveMAE, res.Bias = sumWait/n, sumAbs/n, sumNaive/n, res.Bias/n
	}
	return res, nil
}

// naive is the textbook estimate: people ahead × mean service ÷ open windows.
func naive(ctx context.Context, svc *hall.Service, tk hall.TicketView) time.Duration {
	svcs, _ := svc.Services(ctx)
	for _, s := range svcs {
		if s.Code == tk.Service && s.OpenWindows > 0 {
			return time.Duration(tk.Position) * time.Duration(s.MeanServiceS) * time.Second / time.Duration(s.OpenWindows)
		}
	}
	return 0
}

func sortedIdle(idle map[int]bool) []int {
	var out []int
	for w := 1; w <= len(idle)+16; w++ {
		if idle[w] {
			out = append(out, w)
		}
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

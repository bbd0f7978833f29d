package hall

import (
	"time"
)

// serviceStats is today's service-time record of one service: how long a
// window is occupied per ticket (call to completion), shrunk towards the
// configured prior while few tickets are done.
type serviceStats struct {
	prior time.Duration
	n     int
	sum   time.Duration
	// today's arrivals: the first ticket's time and how many came with priority
	firstIssue time.Time
	prioCount  int
}

const priorWeight = 3

func (s *serviceStats) add(d time.Duration) {
	if d > 0 {
		s.n++
		s.sum += d
	}
}

func (s *serviceStats) mean() time.Duration {
	return (s.prior*priorWeight + s.sum) / time.Duration(priorWeight+s.n)
}

// estimates caches the predicted call time of every waiting ticket.
type estimates struct {
	version uint64
	at      time.Time
	call    map[*Ticket]time.Time
}

// Unknown is the estimate when no open window serves a ticket's service.
const Unknown = -1 * time.Second

// horizon bounds the virtual dispatch; tickets beyond it are extrapolated.
const (
	horizon     = 10 * time.Hour
	maxDispatch = 4000
	refreshAge  = 5 * time.Second
)

// estimate returns the expected time until t is called.
//
// The estimate replays the engine's own ordering on a virtual clock: every
// open window becomes free when its current ticket is expected to finish,
// then repeatedly takes the ticket the real "call next" would give it, and
// stays busy for that service's mean service time. This accounts for
// windows shared between services, priority classes and aging, and work
// already in progress — which the naive position × mean ÷ windows ignores.
func (st *state) estimate(t *Ticket, now time.Time) time.Duration {
	if t.Status != Waiting {
		return 0
	}
	if st.est.call == nil || st.est.version != st.version || now.Sub(st.est.at) > refreshAge || now.Before(st.est.at) {
		st.simulate(now)
	}
	at, ok := st.est.call[t]
	if !ok {
		return Unknown
	}
	wait := max(at.Sub(now), 0)
	if t.class() == numClasses-1 {
		// Walk-ins are overtaken by priority citizens who have not arrived
		// yet: stretch the wait by today's share of window time they take.
		wait = time.Duration(float64(wait) / (1 - st.priorityLoad(t.Service, now)))
	}
	return wait
}

// priorityLoad is the share of the service's window time that priority
// arrivals (bookings, 绿色通道) have taken today: their arrival rate ×
// mean service time ÷ open windows, capped at one half.
func (st *state) priorityLoad(code string, now time.Time) float64 {
	s := st.stats[code]
	n := st.openWindowsFor(code)
	if s.prioCount == 0 || n == 0 {
		return 0
	}
	elapsed := max(now.Sub(s.firstIssue), 30*time.Minute)
	rate := float64(s.prioCount) / elapsed.Seconds()
	return min(rate*s.mean().Seconds()/float64(n), 0.5)
}

type simWindow struct {
	w      *Window
	freeAt time.Time
}

func (st *state) simulate(now time.Time) {
	st.est = estimates{version: st.version, at: now, call: map[*Ticket]time.Time{}}
	var ws []*simWindow
	for _, n := range sortedKeys(st.windows) {
		w := st.windows[n]
		if w.Status != WindowOpen {
			continue
		}
		free := now
		if cur := st.tickets[w.Current]; cur != nil && (cur.Status == Called || cur.Status == Serving) {
			mean := st.stats[cur.Service].mean()
			// mean residual service time: a ticket already past its mean still
			// has about half a mean to go (service times are skewed)
			free = now.Add(max(mean-now.Sub(cur.CalledAt), mean*45/100))
		}
		ws = append(ws, &simWindow{w: w, freeAt: free})
	}
	// cursors over each service's class lists: the virtual queue only ever
	// loses its heads, so an index per list is the whole virtual state.
	cur := map[string]*[numClasses]int{}
	for code := range st.queues {
		cur[code] = &[numClasses]int{}
	}
	bound := st.cfg.Rules.AgingBound.D()
	last := map[string]time.Time{}
	for dispatched := 0; dispatched < maxDispatch && len(ws) > 0; {
		// the window free first takes the next ticket
		wi := 0
		for i, w := range ws {
			if w.freeAt.Before(ws[wi].freeAt) {
				wi = i
			}
		}
		sw := ws[wi]
		if sw.freeAt.Sub(now) > horizon {
			break
		}
		var best candidate
		var bestCode string
		var bestClass int
		for pref, code := range sw.w.Services {
			q, c := st.queues[code], cur[code]
			if q == nil {
				continue
			}
			for k, l := range q.classes {
				if c[k] >= len(l) {
					continue
				}
				t := l[c[k]]
				cand := candidate{t: t, pref: pref, aged: bound > 0 && sw.freeAt.Sub(t.QueuedAt) > bound}
				if best.t == nil || cand.before(best) {
					best, bestCode, bestClass = cand, code, k
				}
			}
		}
		if best.t == nil {
			ws = append(ws[:wi], ws[wi+1:]...) // nothing left for this window
			continue
		}
		cur[bestCode][bestClass]++
		st.est.call[best.t] = sw.freeAt
		last[bestCode] = sw.freeAt
		sw.freeAt = sw.freeAt.Add(st.stats[bestCode].mean())
		dispatched++
	}
	// beyond the horizon: extrapolate at each service's full rate
	for code, q := range st.queues {
		c := cur[code]
		n := st.openWindowsFor(code)
		if n == 0 {
			continue
		}
		at := last[code]
		if at.IsZero() {
			at = now
		}
		step := st.stats[code].mean() / time.Duration(n)
		for k, l := range q.classes {
			for _, t := range l[c[k]:] {
				at = at.Add(step)
				st.est.call[t] = at
			}
		}
	}
}

func (st *state) openWindowsFor(code string) int {
	n := 0
	for _, w := range st.windows {
		if w.Status == WindowOpen {
			for _, s := range w.Services {
				if s == code {
					n++
				}
			}
		}
	}
	return n
}

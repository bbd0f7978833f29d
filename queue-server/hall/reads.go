package hall

import (
	"context"
	"slices"
	"time"
)

// ServiceView is a service as kiosks and boards show it.
type ServiceView struct {
	Code           string `json:"code"`
	Name           Text   `json:"name"`
	RequiresID     bool   `json:"requires_id"`
	AcceptExpired  bool   `json:"accept_expired_id,omitempty"` // an expired ID card is accepted
	Remote         bool   `json:"remote"`
	Issuing        bool   `json:"issuing"`               // tickets can be taken now
	NotIssuing     string `json:"not_issuing,omitempty"` // why not: closed, lunch, issuing_stopped, quota, day_closed, holiday, closure, booking_only
	Waiting        int    `json:"waiting"`               // tickets waiting now
	EstimatedWaitS int    `json:"estimated_wait_s"`      // for a walk-in taking a ticket now; -1 unknown
	OpenWindows    int    `json:"open_windows"`          // open windows serving it
	Issued         int    `json:"issued"`                // tickets issued today
	QuotaLeft      int    `json:"quota_left"`            // -1 when unlimited
	LongestWaitS   int    `json:"longest_wait_s"`        // of the tickets waiting now
	MeanServiceS   int    `json:"mean_service_s"`        // current service-time estimate
	Windows        []int  `json:"windows,omitempty"`     // the windows configured to serve it, in number order
	Hours          *Hours `json:"hours,omitempty"`       // today's issuing hours (hall time)
	Closure        *Text  `json:"closure,omitempty"`     // not_issuing closure: the reason the hall gives

	// PerCitizenLimit is the service's tickets per ID card a day (0: no
	// limit), which a kiosk issuing offline applies to the cards it reads.
	PerCitizenLimit int `json:"per_citizen_limit,omitempty"`
}

func (st *state) serviceViews(now time.Time) []ServiceView {
	out := make([]ServiceView, 0, len(st.cfg.Services))
	for _, sc := range st.cfg.Services {
		q := st.queues[sc.Code]
		v := ServiceView{Code: sc.Code, Name: sc.Name, RequiresID: sc.RequiresID, AcceptExpired: sc.AcceptExpired, Remote: sc.Remote,
			Waiting: q.len(), OpenWindows: st.openWindowsFor(sc.Code), Issued: st.issued[sc.Code], QuotaLeft: -1,
			MeanServiceS: int(st.stats[sc.Code].mean() / time.Second), PerCitizenLimit: sc.PerCitizenLimit}
		if sc.DailyQuota > 0 {
			v.QuotaLeft = max(sc.DailyQuota-st.issued[sc.Code], 0)
		}
		why, closure := st.issueState(&sc, now)
		v.NotIssuing, v.Closure = string(why), closure
		if st.dayClosed {
			v.NotIssuing = "day_closed"
		}
		if v.NotIssuing == "" && v.QuotaLeft == 0 {
			v.NotIssuing = "quota"
		}
		v.Issuing = v.NotIssuing == ""
		if oldest, ok := q.oldest(); ok {
			v.LongestWaitS = int(now.Sub(oldest) / time.Second)
		}
		v.EstimatedWaitS = int(st.newcomerWait(sc.Code, now) / time.Second)
		for _, w := range st.cfg.Windows {
			if slices.Contains(w.Services, sc.Code) {
				v.Windows = append(v.Windows, w.Number)
			}
		}
		slices.Sort(v.Windows)
		v.Hours = st.hoursToday(&sc, now)
		out = append(out, v)
	}
	return out
}

// newcomerWait estimates the wait of a walk-in ticket taken now: the last
// walk-in's predicted call plus one service slot, spread over the windows.
func (st *state) newcomerWait(code string, now time.Time) time.Duration {
	n := st.openWindowsFor(code)
	if n == 0 {
		return Unknown
	}
	q := st.queues[code]
	var last *Ticket
	for _, l := range q.classes {
		if len(l) > 0 {
			last = l[len(l)-1]
		}
	}
	if last == nil {
		return 0
	}
	e := st.estimate(last, now)
	if e < 0 {
		return Unknown
	}
	return e + st.stats[code].mean()/time.Duration(n)
}

// Overview is the whole live hall at one sequence number: what a board,
// console or dashboard needs to start, before following the event stream.
type Overview struct {
	Seq  uint64   `json:"seq"`
	Day  string   `json:"day"`
	Hall HallInfo `json:"hall"`
	// ElderlyAge is the hall's rules.elderly_age: a card holder this old
	// or older gets the priority channel (0: off). Kiosks take it from here.
	ElderlyAge int           `json:"elderly_age"`
	Services   []ServiceView `json:"services"`
	Windows    []Window      `json:"windows"`
	Calls      []TicketView  `json:"calls"` // latest calls first (called, serving, recently done)
	Rules      Rules         `json:"rules"` // what consoles need to offer only possible actions
	// Closure is today's special closure of the hall calendar, with its
	// reason, for boards and kiosks to show; nil on other days.
	Closure *Text `json:"closure,omitempty"`
	// Board is what the display boards show besides the calls: notices
	// and media (all of them; each notice says when it shows).
	Board Board `json:"board,omitzero"`
}

// Ticket returns one of today's tickets with its position and estimate.
func (s *Service) Ticket(ctx context.Context, id string) (TicketView, error) {
	return as[TicketView](s.read(ctx, func(st *state, now time.Time) (any, error) {
		t, err := st.ticket(id)
		if err != nil {
			return nil, err
		}
		return st.view(t, now), nil
	}))
}

// Services returns every service with its live queue figures.
func (s *Service) Services(ctx context.Context) ([]ServiceView, error) {
	return as[[]ServiceView](s.read(ctx, func(st *state, now time.Time) (any, error) { return st.serviceViews(now), nil }))
}

// Windows returns every window's live state, by number.
func (s *Service) Windows(ctx context.Context) ([]Window, error) {
	return as[[]Window](s.read(ctx, func(st *state, now time.Time) (any, error) { return st.windowList(), nil }))
}

func (st *state) windowList() []Window {
	out := make([]Window, 0, len(st.windows))
	for _, n := range sortedKeys(st.windows) {
		out = append(out, *st.windows[n])
	}
	return out
}

// Overview returns the live hall at the current sequence number.
func (s *Service) Overview(ctx context.Context) (Overview, error) {
	return as[Overview](s.read(ctx, func(st *state, now time.Time) (any, error) {
		o := Overview{Seq: st.seq, Day: st.day, Hall: st.cfg.Hall, ElderlyAge: st.cfg.Rules.ElderlyAge, Services: st.serviceViews(now), Windows: st.windowList(), Rules: st.cfg.Rules, Closure: st.closure(now), Board: st.cfg.Board.clone()}
		var calls []*Ticket
		for _, t := range st.tickets {
			if !t.CalledAt.IsZero() {
				calls = append(calls, t)
			}
		}
		slices.SortFunc(calls, func(a, b *Ticket) int { return b.CalledAt.Compare(a.CalledAt) })
		for _, t := range calls[:min(len(calls), 20)] {
			o.Calls = append(o.Calls, st.view(t, now))
		}
		return o, nil
	}))
}

// Tickets returns today's tickets that match keep (all when nil), in call
// order for waiting ones and by issue time otherwise.
func (s *Service) Tickets(ctx context.Context, keep func(*Ticket) bool) ([]TicketView, error) {
	return as[[]TicketView](s.read(ctx, func(st *state, now time.Time) (any, error) {
		var ts []*Ticket
		for _, t := range st.tickets {
			if keep == nil || keep(t) {
				ts = append(ts, t)
			}
		}
		slices.SortFunc(ts, func(a, b *Ticket) int {
			if a.class() != b.class() && a.Status == Waiting && b.Status == Waiting {
				return a.class() - b.class()
			}
			return cmpTicket(a, b)
		})
		out := make([]TicketView, len(ts))
		for i, t := range ts {
			out[i] = st.view(t, now)
		}
		return out, nil
	}))
}

// WindowQueue returns the waiting tickets a window could call, in the order
// "call next" would take them (at this moment).
func (s *Service) WindowQueue(ctx context.Context, window int) ([]TicketView, error) {
	return as[[]TicketView](s.read(ctx, func(st *state, now time.Time) (any, error) {
		w, err := st.window(window)
		if err != nil {
			return nil, err
		}
		var cands []candidate
		bound := st.cfg.Rules.AgingBound.D()
		for pref, code := range w.Services {
			for _, l := range st.queues[code].classes {
				for _, t := range l {
					if t.TargetWindow == 0 || t.TargetWindow == window {
						cands = append(cands, candidate{t: t, pref: pref, aged: bound > 0 && now.Sub(t.QueuedAt) > bound})
					}
				}
			}
		}
		slices.SortStableFunc(cands, func(a, b candidate) int {
			switch {
			case a.before(b):
				return -1
			case b.before(a):
				return 1
			}
			return 0
		})
		out := make([]TicketView, len(cands))
		for i, c := range cands {
			out[i] = st.view(c.t, now)
		}
		return out, nil
	}))
}

// Bookings returns the bookings the hall holds.
func (s *Service) Bookings(ctx context.Context) ([]Booking, error) {
	return as[[]Booking](s.read(ctx, func(st *state, now time.Time) (any, error) {
		out := make([]Booking, 0, len(st.bookings))
		for _, id := range sortedKeys(st.bookings) {
			out = append(out, *st.bookings[id])
		}
		return out, nil
	}))
}

// Blacklisted reports whether a citizen key is on the blacklist.
func (s *Service) Blacklisted(ctx context.Context, key string) (bool, error) {
	return as[bool](s.read(ctx, func(st *state, now time.Time) (any, error) {
		_, ok := st.blacklist[key]
		return ok, nil
	}))
}

// Seq returns the sequence number of the last committed event.
func (s *Service) Seq(ctx context.Context) (uint64, error) {
	return as[uint64](s.read(ctx, func(st *state, now time.Time) (any, error) { return st.seq, nil }))
}

// DayClosePreview says how many tickets closing the day now would expire
// and how many carry over, without changing anything.
func (s *Service) DayClosePreview(ctx context.Context) (DayClosePreview, error) {
	return as[DayClosePreview](s.read(ctx, func(st *state, now time.Time) (any, error) {
		return st.closePreview(), nil
	}))
}

// Blacklist returns the blacklist, the latest entry first.
func (s *Service) Blacklist(ctx context.Context) ([]BlackEntry, error) {
	return as[[]BlackEntry](s.read(ctx, func(st *state, now time.Time) (any, error) {
		out := make([]BlackEntry, 0, len(st.blacklist))
		for _, k := range sortedKeys(st.blacklist) {
			out = append(out, st.blacklist[k])
		}
		slices.SortStableFunc(out, func(a, b BlackEntry) int { return b.Since.Compare(a.Since) })
		return out, nil
	}))
}

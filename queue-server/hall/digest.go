package hall

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Tally is a group's figures over one closed day in a form that adds up
// over days (Figures.AddTally): the counts, the exact sums of the
// durations, every wait (sorted: the 90th percentile and the share within
// the wait target are found in them at report time, with the target of
// that time), and the day's idle-while-waiting time (which pairs tickets
// of the same day only, so it adds up too).
type Tally struct {
	Issued, Served, NoShow, Cancelled, Expired, Open, Transferred int
	Ratings, RatingSum, Dissatisfied                              int
	Waits                                                         []time.Duration // sorted
	Service, Handling, Walk                                       DurationSum
	Idle                                                          time.Duration
}

// Tally returns what was added as a Tally.
func (f *Figures) Tally() Tally {
	w := slices.Clone(f.waits)
	for _, r := range f.waitRuns {
		w = append(w, r...)
	}
	slices.Sort(w)
	return Tally{Issued: f.Issued, Served: f.Served, NoShow: f.NoShow, Cancelled: f.Cancelled, Expired: f.Expired, Open: f.Open,
		Transferred: f.Transferred, Ratings: f.Ratings, RatingSum: f.ratingSum, Dissatisfied: f.Dissatisfied,
		Waits: w, Service: f.service, Handling: f.handling, Walk: f.walk, Idle: idle(f.visits) + f.idle}
}

// AddTally adds a day's tally of the group; target is the hall's wait
// target. Finish then gives exactly the figures of adding the day's
// tickets one by one.
func (f *Figures) AddTally(t Tally, target time.Duration) {
	f.Issued += t.Issued
	f.Served += t.Served
	f.NoShow += t.NoShow
	f.Cancelled += t.Cancelled
	f.Expired += t.Expired
	f.Open += t.Open
	f.Transferred += t.Transferred
	f.Ratings += t.Ratings
	f.ratingSum += t.RatingSum
	f.Dissatisfied += t.Dissatisfied
	if len(t.Waits) > 0 {
		f.waitRuns = append(f.waitRuns, t.Waits)
		for _, w := range t.Waits {
			f.waitSum.Add(w)
		}
		f.within += sort.Search(len(t.Waits), func(i int) bool { return t.Waits[i] > target })
	}
	f.service.Merge(t.Service)
	f.handling.Merge(t.Handling)
	f.walk.Merge(t.Walk)
	f.idle += t.Idle
}

// DayDigest is one closed day in the form the history reports read
// instead of its tickets (the store writes it when the day is over): a
// Tally per group of each report grouping, and the visits the one-visit
// figures (最多跑一次) need.
type DayDigest struct {
	Day      string
	Total    Tally
	Services map[string]Tally // by issuing service (Ticket.IssuedFor)
	Windows  map[string]Tally // by window number, "" for never at a window
	Clerks   map[string]Tally // by clerk, "" for none
	Matters  map[string]Tally // by matter code; a ticket counts in each of its matters
	Hours    map[int64]Tally  // by the hour of issue, as hours since the Unix epoch (zone-free)
	// MatterNames labels each matter as its first ticket of the day named it.
	MatterNames map[string]string
	// Visits are the day's tickets that had a matter handled, cut down to
	// what OneVisitFigures reads: ID, Day, CitizenKey, and the matters with
	// an outcome (Code, Name, Outcome, Window, At).
	Visits []Ticket
}

// DigestDay sums one day's tickets (in the order the reports read them)
// into its digest.
func DigestDay(day string, tickets []Ticket) DayDigest {
	var total Figures
	groups := map[string]map[string]*Figures{"service": {}, "window": {}, "clerk": {}, "matter": {}}
	hours := map[int64]*Figures{}
	d := DayDigest{Day: day, MatterNames: map[string]string{}}
	add := func(by, key string, t *Ticket) {
		f := groups[by][key]
		if f == nil {
			f = &Figures{}
			groups[by][key] = f
		}
		f.Add(t, 0)
	}
	for i := range tickets {
		t := &tickets[i]
		total.Add(t, 0)
		add("service", t.IssuedFor(), t)
		w := ""
		if t.Window != 0 {
			w = strconv.Itoa(t.Window)
		}
		add("window", w, t)
		add("clerk", t.Clerk, t)
		h := t.IssuedAt.Unix()
		h = h/3600 - btoi(h%3600 < 0)
		if hours[h] == nil {
			hours[h] = &Figures{}
		}
		hours[h].Add(t, 0)
		var handled []VisitMatter
		for _, m := range t.Matters {
			if _, ok := d.MatterNames[m.Code]; !ok {
				d.MatterNames[m.Code] = strings.TrimSpace(m.Name.ZH + " " + m.Name.EN)
			}
			add("matter", m.Code, t)
			if m.Outcome != "" {
				handled = append(handled, VisitMatter{Code: m.Code, Name: m.Name, Outcome: m.Outcome, Window: m.Window, At: m.At})
			}
		}
		if len(handled) > 0 {
			d.Visits = append(d.Visits, Ticket{ID: t.ID, Day: day, CitizenKey: t.CitizenKey, Matters: handled})
		}
	}
	tallies := func(m map[string]*Figures) map[string]Tally {
		out := make(map[string]Tally, len(m))
		for k, f := range m {
			out[k] = f.Tally()
		}
		return out
	}
	d.Total = total.Tally()
	d.Services, d.Windows, d.Clerks, d.Matters = tallies(groups["service"]), tallies(groups["window"]), tallies(groups["clerk"]), tallies(groups["matter"])
	d.Hours = make(map[int64]Tally, len(hours))
	for h, f := range hours {
		d.Hours[h] = f.Tally()
	}
	return d
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Groups returns the day's tallies grouped as a report groups them — by
// service, window, clerk, matter, day, or hour (of issue in loc, "15") —
// and false when the day's figures cannot be grouped so (an unknown
// grouping, or an hour of the digest that is not one whole hour in loc, as
// in a zone half an hour off UTC or a clock set back): the report then
// reads that day's tickets.
func (d *DayDigest) Groups(by string, loc *time.Location) (map[string]Tally, bool) {
	switch by {
	case "service":
		return d.Services, true
	case "window":
		return d.Windows, true
	case "clerk":
		return d.Clerks, true
	case "matter":
		return d.Matters, true
	case "day":
		return map[string]Tally{d.Day: d.Total}, true
	case "hour":
		out := make(map[string]Tally, len(d.Hours))
		for h, t := range d.Hours {
			from := time.Unix(h*3600, 0).In(loc)
			last := time.Unix(h*3600+3599, 0).In(loc)
			k := from.Format("15")
			if _, dup := out[k]; dup || from.Minute() != 0 || from.Second() != 0 || last.Hour() != from.Hour() {
				return nil, false
			}
			out[k] = t
		}
		return out, true
	}
	return nil, false
}

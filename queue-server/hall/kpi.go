package hall

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The hall's figures, each defined once, here. The dashboard, the reports
// (JSON and CSV), the printable daily report and the day summary sent to
// the central platform all use these definitions; the pages only show what
// the server computed.
//
//   - Issued for: a ticket counts for the service it was taken for (the
//     prefix of its number), also after a transfer to another service —
//     "issued by issuing service". Transfers are counted separately.
//   - Wait (等候时长): from taking the ticket to the latest call (for a
//     transferred ticket: the call at the service it ended at). Only called
//     tickets have a wait.
//   - Service time (办理时长): from start to completion of a done ticket.
//   - Handling time (窗口处理时长): from the call to completion of a done
//     ticket — the window's time for the citizen, walking up included.
//   - Within target: the share of called tickets whose wait was at most
//     the hall's wait target (alerts.wait_over).
//   - Walk time (走到窗口): from the (latest) call to the start of a started
//     ticket — how long the citizen took to reach the window. Where a
//     called ticket is completed at once (rules.complete_from_called) the
//     start is the completion.
//   - Idle while waiting (有人等候时的空闲): at a window, from the end of one
//     ticket there (completion, no-show, cancellation, parking, transfer:
//     its finished_at or parked_at, else its start or call) to the call of
//     the next ticket there the same day, counted only from when that next
//     ticket was already waiting (taken). Pauses count: a window paused
//     while its citizens wait is idle for them.
//   - Ratings: a visit's rating, or each rating of a visit's matters
//     (一事一评); mean_rating and dissatisfied count them all.
//   - One visit (最多跑一次): see OneVisitFigures.

// IssuedFor returns the service the ticket was taken for: its number's prefix.
func (t *Ticket) IssuedFor() string {
	if p := strings.TrimRight(t.Number, "0123456789"); p != "" {
		return p
	}
	return t.Service
}

// Wait returns how long the citizen waited for the call, if called.
func (t *Ticket) Wait() (time.Duration, bool) {
	if t.CalledAt.IsZero() || t.IssuedAt.IsZero() {
		return 0, false
	}
	return max(t.CalledAt.Sub(t.IssuedAt), 0), true
}

// ServiceTime returns how long a done ticket was served (start → completion).
func (t *Ticket) ServiceTime() (time.Duration, bool) {
	if t.Status != Done || t.StartedAt.IsZero() || t.FinishedAt.IsZero() {
		return 0, false
	}
	return max(t.FinishedAt.Sub(t.StartedAt), 0), true
}

// HandlingTime returns how long a done ticket took its window (call → completion).
func (t *Ticket) HandlingTime() (time.Duration, bool) {
	if t.Status != Done || t.CalledAt.IsZero() || t.FinishedAt.IsZero() {
		return 0, false
	}
	return max(t.FinishedAt.Sub(t.CalledAt), 0), true
}

// Figures sum a group of tickets with the definitions above. Add tickets,
// then call Finish once.
type Figures struct {
	Issued        int     `json:"issued"`          // tickets of the group
	Served        int     `json:"served"`          // done
	NoShow        int     `json:"no_show"`         // 过号
	Cancelled     int     `json:"cancelled"`       // 取消
	Expired       int     `json:"expired"`         // 未办结 at day close
	Open          int     `json:"open"`            // still waiting, called, serving or parked
	Transferred   int     `json:"transferred"`     // moved to another service or window
	Called        int     `json:"called"`          // tickets with a wait
	MeanWaitS     float64 `json:"mean_wait_s"`     // of called tickets
	P90WaitS      float64 `json:"p90_wait_s"`      // 90th percentile wait
	WithinTarget  float64 `json:"within_target"`   // share of called tickets that waited at most the target; -1 when none was called
	MeanServiceS  float64 `json:"mean_service_s"`  // of done tickets that were started
	MeanHandlingS float64 `json:"mean_handling_s"` // of done tickets
	MeanWalkS     float64 `json:"mean_walk_s"`     // call → start, of started tickets
	IdleS         float64 `json:"idle_s"`          // idle while waiting, summed over the group's windows and days
	Ratings       int     `json:"ratings"`
	MeanRating    float64 `json:"mean_rating"`  // 1–5; 0 without ratings
	Dissatisfied  int     `json:"dissatisfied"` // ratings 1 and 2 (不满意, 非常不满意)

	waits                   []time.Duration   // of tickets added one by one
	waitRuns                [][]time.Duration // sorted, of tallies added (AddTally)
	waitSum                 DurationSum
	service, handling, walk DurationSum
	within, ratingSum       int
	visits                  []windowVisit
	idle                    time.Duration // of tallies added
}

// DurationSum adds up durations exactly, in whole seconds and the
// nanoseconds beyond, so that a sum never overflows and does not depend on
// the order it was added in: a report summed from the days' tallies equals
// the one summed ticket by ticket, to the last bit.
type DurationSum struct {
	N   int   // durations added
	Sec int64 // their whole seconds …
	NS  int64 // … and nanoseconds beyond them, 0 ≤ NS < 1e9
}

// Add adds one duration (d ≥ 0).
func (s *DurationSum) Add(d time.Duration) {
	s.N++
	s.Sec += int64(d / time.Second)
	s.NS += int64(d % time.Second)
	s.norm()
}

// Merge adds another sum.
func (s *DurationSum) Merge(o DurationSum) {
	s.N += o.N
	s.Sec += o.Sec
	s.NS += o.NS
	s.norm()
}

func (s *DurationSum) norm() {
	s.Sec += s.NS / 1e9
	s.NS %= 1e9
	if s.NS < 0 {
		s.NS += 1e9
		s.Sec--
	}
}

// Mean is the mean in seconds, 0 when empty.
func (s DurationSum) Mean() float64 {
	if s.N == 0 {
		return 0
	}
	return (float64(s.Sec) + float64(s.NS)/1e9) / float64(s.N)
}

// windowVisit is what the idle figure needs of a ticket at a window.
type windowVisit struct {
	day          string
	window       int
	issued, call time.Time
	end          time.Time
}

// Add counts one ticket; target is the hall's wait target.
func (f *Figures) Add(t *Ticket, target time.Duration) {
	f.Issued++
	switch t.Status {
	case Done:
		f.Served++
	case NoShow:
		f.NoShow++
	case Cancelled:
		f.Cancelled++
	case Expired:
		f.Expired++
	default:
		if t.Status.Open() {
			f.Open++
		}
	}
	if t.Transferred {
		f.Transferred++
	}
	if w, ok := t.Wait(); ok {
		f.waits = append(f.waits, w)
		f.waitSum.Add(w)
		if w <= target {
			f.within++
		}
	}
	if d, ok := t.ServiceTime(); ok {
		f.service.Add(d)
	}
	if d, ok := t.HandlingTime(); ok {
		f.handling.Add(d)
	}
	if d, ok := t.WalkTime(); ok {
		f.walk.Add(d)
	}
	if t.Window != 0 && !t.CalledAt.IsZero() {
		end := t.FinishedAt
		for _, e := range []time.Time{t.ParkedAt, t.StartedAt, t.CalledAt} {
			if end.IsZero() {
				end = e
			}
		}
		f.visits = append(f.visits, windowVisit{day: t.Day, window: t.Window, issued: t.IssuedAt, call: t.CalledAt, end: end})
	}
	rate := func(r *Rating) {
		f.Ratings++
		f.ratingSum += r.Score
		if r.Score <= 2 {
			f.Dissatisfied++
		}
	}
	if t.Rating != nil {
		rate(t.Rating)
	}
	for _, m := range t.Matters {
		if m.Rating != nil {
			rate(m.Rating)
		}
	}
}

// WalkTime returns how long the citizen took from the call to the start.
func (t *Ticket) WalkTime() (time.Duration, bool) {
	if t.CalledAt.IsZero() || t.StartedAt.IsZero() || t.StartedAt.Before(t.CalledAt) {
		return 0, false
	}
	return t.StartedAt.Sub(t.CalledAt), true
}

// idle sums the idle-while-waiting time of visits (definition above).
func idle(vs []windowVisit) time.Duration {
	vs = slices.Clone(vs)
	slices.SortFunc(vs, func(a, b windowVisit) int {
		if c := strings.Compare(a.day, b.day); c != 0 {
			return c
		}
		if a.window != b.window {
			return a.window - b.window
		}
		return a.call.Compare(b.call)
	})
	var sum time.Duration
	for i := 1; i < len(vs); i++ {
		prev, next := vs[i-1], vs[i]
		if prev.day != next.day || prev.window != next.window {
			continue
		}
		from := prev.end
		if next.issued.After(from) {
			from = next.issued
		}
		if next.call.After(from) {
			sum += next.call.Sub(from)
		}
	}
	return sum
}

// Finish computes the means and shares.
func (f *Figures) Finish() {
	f.Called = f.waitSum.N
	f.MeanWaitS, f.P90WaitS = f.waitSum.Mean(), f.p90Wait().Seconds()
	f.MeanServiceS, f.MeanHandlingS = f.service.Mean(), f.handling.Mean()
	f.MeanWalkS, f.IdleS = f.walk.Mean(), (idle(f.visits) + f.idle).Seconds()
	f.WithinTarget = -1
	if f.Called > 0 {
		f.WithinTarget = float64(f.within) / float64(f.Called)
	}
	if f.Ratings > 0 {
		f.MeanRating = float64(f.ratingSum) / float64(f.Ratings)
	}
}

// p90Wait is the nearest-rank 90th percentile of the waits added, ticket
// by ticket and by tallies alike.
func (f *Figures) p90Wait() time.Duration {
	n := f.waitSum.N
	if n == 0 {
		return 0
	}
	runs := f.waitRuns
	if len(f.waits) > 0 {
		w := slices.Clone(f.waits)
		slices.Sort(w)
		runs = append(slices.Clip(runs), w)
	}
	return kth(runs, min(int(0.9*float64(n)), n-1))
}

// kth returns the k-th smallest (from 0) of the values of sorted runs: the
// smallest value v with more than k values ≤ v, found by bisecting the
// values' range, so that a year of days' runs is never merged or sorted.
func kth(runs [][]time.Duration, k int) time.Duration {
	if len(runs) == 1 {
		return runs[0][k]
	}
	lo, hi := time.Duration(1<<63-1), time.Duration(-1<<63)
	for _, r := range runs {
		if len(r) > 0 {
			lo, hi = min(lo, r[0]), max(hi, r[len(r)-1])
		}
	}
	for lo < hi { // the answer lies in [lo, hi]
		mid := lo + (hi-lo)/2
		n := 0
		for _, r := range runs {
			n += sort.Search(len(r), func(i int) bool { return r[i] > mid })
		}
		if n > k {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// GroupFigures are the figures of one service or clerk.
type GroupFigures struct {
	Key  string `json:"key"`           // service code or clerk name
	Name Text   `json:"name,omitzero"` // the service's name
	Figures
}

// FlowBin counts one 15-minute step of the day in hall time.
type FlowBin struct {
	At     string `json:"at"` // "HH:MM", the step's start
	Issued int    `json:"issued"`
	Served int    `json:"served"` // completed in the step
}

// HeatRow is one service's tickets issued per hour of the day.
type HeatRow struct {
	Service string `json:"service"`
	Name    Text   `json:"name"`
	Issued  []int  `json:"issued"` // per hour of DayFigures.Hours
}

// WaitEdgesMin are the edges, in minutes, of the wait histogram's bins:
// <5, 5–10, 10–15, 15–20, 20–30, 30–45, 45–60, ≥60.
var WaitEdgesMin = []int{5, 10, 15, 20, 30, 45, 60}

// DayFigures are one day of the hall in figures, as the dashboard and the
// daily report show them.
type DayFigures struct {
	Day      string         `json:"day"`
	TargetS  int            `json:"target_s"` // the wait target (alerts.wait_over)
	Open     string         `json:"open"`     // the hall's hours that day: earliest service opening …
	Close    string         `json:"close"`    // … and latest closing, "HH:MM"
	Total    Figures        `json:"total"`
	Services []GroupFigures `json:"services"` // by issuing service, in configuration order
	Clerks   []GroupFigures `json:"clerks"`   // by the clerk who last handled the ticket, by name
	Windows  []GroupFigures `json:"windows"`  // by the window that last handled the ticket, by number
	// OneVisit is the day's 最多跑一次 figures (OneVisitFigures), when the
	// caller had the history to count repeats (the API's figures do).
	OneVisit *OneVisitReport `json:"one_visit,omitempty"`
	Flow     []FlowBin       `json:"flow"`  // every 15 minutes from Open to Close
	Hours    []int           `json:"hours"` // the hours of the heat map, e.g. 8 … 17
	Heat     []HeatRow       `json:"heat"`
	WaitHist []int           `json:"wait_hist"` // called tickets per bin of WaitEdgesMin
}

// Summarize computes the figures of one day's tickets (in any order).
func Summarize(cfg Config, day string, tickets []Ticket) DayFigures {
	loc := cfg.Location()
	target := cfg.Alerts.WaitOver.D()
	d := DayFigures{Day: day, TargetS: int(target.Seconds()), WaitHist: make([]int, len(WaitEdgesMin)+1),
		Services: []GroupFigures{}, Clerks: []GroupFigures{}, Windows: []GroupFigures{}, Heat: []HeatRow{}} // lists, never null, in JSON
	open, cl := 24*time.Hour, time.Duration(0)
	for _, sc := range cfg.Services {
		o, err1 := parseClock(sc.Hours.Open)
		c, err2 := parseClock(sc.Hours.Close)
		if err1 == nil && err2 == nil {
			open, cl = min(open, o), max(cl, c)
		}
	}
	if cl <= open && cfg.Calendar != nil { // services without hours of their own: the calendar's day
		if d0, err := time.ParseInLocation(time.DateOnly, day, loc); err == nil {
			if iv := cfg.Calendar.Intervals(d0); len(iv) > 0 {
				open, cl = iv[0].From.Sub(d0), iv[len(iv)-1].To.Sub(d0)
			}
		}
	}
	if cl <= open {
		open, cl = 8*time.Hour, 18*time.Hour
	}
	// Tickets outside the configured hours widen the span, so none is lost.
	local := func(t time.Time) time.Duration {
		t = t.In(loc)
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	step := 15 * time.Minute
	for i := range tickets {
		times := []time.Time{tickets[i].IssuedAt}
		if tickets[i].Status == Done {
			times = append(times, tickets[i].FinishedAt)
		}
		for _, at := range times {
			if !at.IsZero() {
				open = min(open, local(at).Truncate(step))
				cl = max(cl, local(at).Truncate(step)+step)
			}
		}
	}
	cl = min(cl, 24*time.Hour)
	d.Open, d.Close = clockText(open), clockText(cl)
	for at := open.Truncate(step); at < cl; at += step {
		d.Flow = append(d.Flow, FlowBin{At: clockText(at)})
	}
	firstHour, lastHour := int(open/time.Hour), int((cl-1)/time.Hour)
	for h := firstHour; h <= lastHour; h++ {
		d.Hours = append(d.Hours, h)
	}
	bin := func(at time.Time) int {
		return min(max(int((local(at)-open.Truncate(step))/step), 0), len(d.Flow)-1)
	}

	services := map[string]*GroupFigures{}
	heat := map[string]*HeatRow{}
	for _, sc := range cfg.Services {
		services[sc.Code] = &GroupFigures{Key: sc.Code, Name: sc.Name}
		heat[sc.Code] = &HeatRow{Service: sc.Code, Name: sc.Name, Issued: make([]int, len(d.Hours))}
	}
	clerks := map[string]*GroupFigures{}
	windows := map[int]*GroupFigures{}
	for i := range tickets {
		t := &tickets[i]
		d.Total.Add(t, target)
		code := t.IssuedFor()
		g := services[code]
		if g == nil { // a service since removed from the configuration
			g = &GroupFigures{Key: code, Name: Text{ZH: code, EN: code}}
			services[code] = g
			heat[code] = &HeatRow{Service: code, Name: g.Name, Issued: make([]int, len(d.Hours))}
		}
		g.Add(t, target)
		if h := int(local(t.IssuedAt)/time.Hour) - firstHour; h >= 0 && h < len(d.Hours) {
			heat[code].Issued[h]++
		}
		if t.Clerk != "" {
			c := clerks[t.Clerk]
			if c == nil {
				c = &GroupFigures{Key: t.Clerk}
				clerks[t.Clerk] = c
			}
			c.Add(t, target)
		}
		if t.Window != 0 {
			w := windows[t.Window]
			if w == nil {
				w = &GroupFigures{Key: strconv.Itoa(t.Window)}
				if wc, ok := cfg.window(t.Window); ok {
					w.Name = wc.Name
				}
				windows[t.Window] = w
			}
			w.Add(t, target)
		}
		d.Flow[bin(t.IssuedAt)].Issued++
		if t.Status == Done && !t.FinishedAt.IsZero() {
			d.Flow[bin(t.FinishedAt)].Served++
		}
		if w, ok := t.Wait(); ok {
			m := int(w / time.Minute)
			k := 0
			for k < len(WaitEdgesMin) && m >= WaitEdgesMin[k] {
				k++
			}
			d.WaitHist[k]++
		}
	}
	d.Total.Finish()
	order := make([]string, 0, len(services))
	for _, sc := range cfg.Services {
		order = append(order, sc.Code)
	}
	for _, code := range sortedKeys(services) {
		if !slices.Contains(order, code) {
			order = append(order, code)
		}
	}
	for _, code := range order {
		g := services[code]
		g.Finish()
		d.Services = append(d.Services, *g)
		d.Heat = append(d.Heat, *heat[code])
	}
	for _, name := range sortedKeys(clerks) {
		c := clerks[name]
		c.Finish()
		d.Clerks = append(d.Clerks, *c)
	}
	for _, n := range slices.Sorted(maps.Keys(windows)) {
		w := windows[n]
		w.Finish()
		d.Windows = append(d.Windows, *w)
	}
	return d
}

func clockText(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	return string([]byte{byte('0' + h/10), byte('0' + h%10), ':', byte('0' + m/10), byte('0' + m%10)})
}

// OneVisit is the 最多跑一次 figure of one matter or window.
//
//   - A matter handled (it has an outcome) is a repeat visit (重复跑) when
//     the same citizen key had the same matter handled on another ticket
//     within rules.repeat_within before (30 days by default) — whatever
//     that earlier outcome was. Only keyed tickets (an ID card was read)
//     can be matched; the rest count in unkeyed and in no share. Nothing
//     but the keyed hash already on the ticket is used: no ID number.
//   - Rate (一次办结率): of the keyed matters finished (done or accepted),
//     the share finished at a first visit; -1 when none was finished.
type OneVisit struct {
	Key        string  `json:"key"` // matter code, or window number
	Name       Text    `json:"name,omitzero"`
	Handled    int     `json:"handled"`     // matters with an outcome
	Finished   int     `json:"finished"`    // of them done or accepted
	Repeats    int     `json:"repeats"`     // keyed matters handled at a repeat visit
	FirstVisit int     `json:"first_visit"` // keyed matters finished at a first visit
	Unkeyed    int     `json:"unkeyed"`     // handled without a citizen key: not matched
	Rate       float64 `json:"rate"`
	keyedDone  int
}

// OneVisitReport is OneVisit by matter and by window (where the outcome
// was recorded).
type OneVisitReport struct {
	RepeatWithinS int        `json:"repeat_within_s"`
	Total         OneVisit   `json:"total"`
	ByMatter      []OneVisit `json:"by_matter"`
	ByWindow      []OneVisit `json:"by_window"`
}

// OneVisitFigures counts the matters handled on days from..to (inclusive)
// among tickets; tickets of earlier days (give at least the repeat period
// before from) are only the history a repeat is found in.
func OneVisitFigures(cfg Config, tickets []Ticket, from, to string) OneVisitReport {
	period := cfg.Rules.RepeatPeriod()
	type rec struct {
		ticket, key, code string
		at                time.Time
	}
	var recs []rec
	for i := range tickets {
		t := &tickets[i]
		for _, m := range t.Matters {
			if m.Outcome != "" && t.CitizenKey != "" {
				recs = append(recs, rec{t.ID, t.CitizenKey, m.Code, m.At})
			}
		}
	}
	byKey := map[string][]rec{}
	for _, r := range recs {
		byKey[r.key+"|"+r.code] = append(byKey[r.key+"|"+r.code], r)
	}
	repeat := func(t *Ticket, m VisitMatter) bool {
		for _, r := range byKey[t.CitizenKey+"|"+m.Code] {
			if r.ticket != t.ID && r.at.Before(m.At) && m.At.Sub(r.at) <= period {
				return true
			}
		}
		return false
	}
	rep := OneVisitReport{RepeatWithinS: int(period.Seconds()), Total: OneVisit{Key: "total"}, ByMatter: []OneVisit{}, ByWindow: []OneVisit{}}
	matters, windows := map[string]*OneVisit{}, map[int]*OneVisit{}
	names := map[string]Text{}
	for i := range tickets {
		t := &tickets[i]
		if t.Day < from || t.Day > to {
			continue
		}
		for _, m := range t.Matters {
			if m.Outcome == "" {
				continue
			}
			names[m.Code] = Text{ZH: m.Name.ZH, EN: m.Name.EN}
			if matters[m.Code] == nil {
				matters[m.Code] = &OneVisit{Key: m.Code}
			}
			if windows[m.Window] == nil {
				windows[m.Window] = &OneVisit{Key: strconv.Itoa(m.Window)}
				if wc, ok := cfg.window(m.Window); ok {
					windows[m.Window].Name = wc.Name
				}
			}
			again := t.CitizenKey != "" && repeat(t, m)
			for _, o := range []*OneVisit{&rep.Total, matters[m.Code], windows[m.Window]} {
				o.Handled++
				if m.Outcome.Finished() {
					o.Finished++
				}
				switch {
				case t.CitizenKey == "":
					o.Unkeyed++
				case again:
					o.Repeats++
				}
				if t.CitizenKey != "" && m.Outcome.Finished() {
					o.keyedDone++
					if !again {
						o.FirstVisit++
					}
				}
			}
		}
	}
	finish := func(o *OneVisit) OneVisit {
		o.Rate = -1
		if o.keyedDone > 0 {
			o.Rate = float64(o.FirstVisit) / float64(o.keyedDone)
		}
		return *o
	}
	rep.Total = finish(&rep.Total)
	for _, code := range sortedKeys(matters) {
		matters[code].Name = names[code]
		rep.ByMatter = append(rep.ByMatter, finish(matters[code]))
	}
	for _, n := range slices.Sorted(maps.Keys(windows)) {
		rep.ByWindow = append(rep.ByWindow, finish(windows[n]))
	}
	return rep
}

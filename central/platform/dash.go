package platform

// The province dashboard's views (ui/province): every hall on one screen
// with its longest wait and service-level breaches, today's arrivals and
// waits by hour, and reports by hall, service or matter per day, month or
// the whole range. They read the same hall entries and closed days as the
// rest of the API; the hourly and per-matter figures are kept in the
// day's ServiceAgg by figures (state.go), so the epoch and dedupe rules
// that guard every figure guard these too.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/hall"
)

// DefaultSLATarget is the dashboard's service level when -sla-target is
// not given: a ticket waiting longer than this is a breach.
const DefaultSLATarget = 30 * time.Minute

// MatterAgg is one matter's figures for a hall day and service.
type MatterAgg struct {
	Handled    int    `json:"handled"` // visits completed carrying the matter
	Done       int    `json:"done"`    // outcome 办结
	Accepted   int    `json:"accepted"`
	Incomplete int    `json:"incomplete"` // 材料不全: the citizen must come again
	Refused    int    `json:"refused"`
	Ratings    [6]int `json:"ratings"` // count per score 1..5
}

func grow[T any](l []T, i int) []T {
	if i < len(l) {
		return l
	}
	return append(l, make([]T, i+1-len(l))...)
}

// arrived counts a ticket issued at the hall time at.
func (a *ServiceAgg) arrived(at time.Time) {
	if at.IsZero() {
		return
	}
	h := at.Hour()
	a.Arrivals = grow(a.Arrivals, h)
	a.Arrivals[h]++
}

// waited counts a first call at the hall time at after a wait of s seconds.
func (a *ServiceAgg) waited(at time.Time, s float64) {
	h := at.Hour()
	a.HourWaitS, a.HourWaitN = grow(a.HourWaitS, h), grow(a.HourWaitN, h)
	a.HourWaitS[h] += s
	a.HourWaitN[h]++
}

func (a *ServiceAgg) matter(code string) *MatterAgg {
	if a.Matters == nil {
		a.Matters = map[string]*MatterAgg{}
	}
	m := a.Matters[code]
	if m == nil {
		m = &MatterAgg{}
		a.Matters[code] = m
	}
	return m
}

// handled counts the matters of a completed visit with their outcomes.
func (a *ServiceAgg) handled(t *hall.Ticket) {
	for _, vm := range t.Matters {
		if vm.Code == "" {
			continue
		}
		m := a.matter(vm.Code)
		m.Handled++
		switch vm.Outcome {
		case hall.OutcomeDone:
			m.Done++
		case hall.OutcomeAccepted:
			m.Accepted++
		case hall.OutcomeIncomplete:
			m.Incomplete++
		case hall.OutcomeRefused:
			m.Refused++
		}
	}
}

// matterRated counts the rating a ticket.rated event of a ticket with
// matters carries: the matter rated last (each is rated once). As the
// hall's own day report does, it counts in the service's ratings too.
func (a *ServiceAgg) matterRated(t *hall.Ticket) {
	if t.Rating != nil {
		return
	}
	var last *hall.VisitMatter
	for i := range t.Matters {
		if r := t.Matters[i].Rating; r != nil && (last == nil || r.At.After(last.Rating.At)) {
			last = &t.Matters[i]
		}
	}
	if last == nil || last.Code == "" || last.Rating.Score < 1 || last.Rating.Score > 5 {
		return
	}
	a.matter(last.Code).Ratings[last.Rating.Score]++
	a.Ratings[last.Rating.Score]++
}

// ---- every hall on one screen ----

// ServiceOverview is one service of a hall on the dashboard.
type ServiceOverview struct {
	ServiceLive
	LongestWaitS int `json:"longest_wait_s"` // the longest-waiting ticket now; 0 when none waits
	SLABreaches  int `json:"sla_breaches"`   // tickets waiting now for longer than the target
	Issued       int `json:"issued"`
	Served       int `json:"served"`
}

// HallOverview is one hall on the dashboard: the live queue, forwarding
// health and today's figures.
type HallOverview struct {
	Hall string `json:"hall"`
	// District is the hall id's administrative-division part (the id's
	// text before its first '-', e.g. 420106 of 420106-01).
	District     string            `json:"district"`
	Day          string            `json:"day,omitempty"`
	Waiting      int               `json:"waiting"`
	LongestWaitS int               `json:"longest_wait_s"`
	OpenWindows  int               `json:"open_windows"`
	SLABreaches  int               `json:"sla_breaches"`
	Issued       int               `json:"issued"`
	Served       int               `json:"served"`
	NoShow       int               `json:"no_show"`
	MeanWaitS    float64           `json:"mean_wait_s"` // issue → first call, today's calls
	Ratings      [6]int            `json:"ratings"`     // today's, per score 1..5
	Services     []ServiceOverview `json:"services"`
	LastEventAt  time.Time         `json:"last_event_at,omitzero"`
	LagS         float64           `json:"lag_s"`       // now − the last event's hall time
	ApplyLagS    float64           `json:"apply_lag_s"` // how late the central applied the last event
	Silent       bool              `json:"silent"`
	Alerts       []Alert           `json:"alerts"`
	// Arrivals and MeanWaitByHourS are today's, by hour 0..23 of the hall
	// day: tickets issued, and the mean first-call wait of calls in that
	// hour (0 when none).
	Arrivals        [24]int     `json:"arrivals"`
	MeanWaitByHourS [24]float64 `json:"mean_wait_by_hour_s"`
}

// Overview is the answer of GET /api/v1/overview.
type Overview struct {
	Now          time.Time      `json:"now"`
	SLATargetS   int            `json:"sla_target_s"`
	SilentAfterS int            `json:"silent_after_s"`
	Halls        []HallOverview `json:"halls"`
}

func district(id string) string {
	d, _, _ := strings.Cut(id, "-")
	return d
}

func (s *Server) overviewOf(h *HallState, now time.Time) HallOverview {
	o := HallOverview{Hall: h.Hall, District: district(h.Hall), Day: h.Day, OpenWindows: h.openWindows(), LastEventAt: h.LastAt,
		ApplyLagS: h.ApplyLagS, Silent: h.silent(now, s.o.SilentAfter), Alerts: s.alertsFor(h, now), Services: []ServiceOverview{}}
	if o.Alerts == nil {
		o.Alerts = []Alert{}
	}
	if !h.LastAt.IsZero() {
		o.LagS = max(0, now.Sub(h.LastAt).Seconds())
	}
	var waitS float64
	var waitN int
	var hourS [24]float64
	var hourN [24]int
	for _, sl := range h.services() {
		so := ServiceOverview{ServiceLive: sl}
		for _, w := range h.Waiting[sl.Service] {
			d := max(0, now.Sub(w.QueuedAt))
			so.LongestWaitS = max(so.LongestWaitS, int(d/time.Second))
			if d > s.o.SLATarget {
				so.SLABreaches++
			}
		}
		if a := h.Services[sl.Service]; a != nil {
			so.Issued, so.Served = a.Issued, a.Served
			o.NoShow += a.NoShow
			waitS, waitN = waitS+a.WaitSumS, waitN+a.WaitN
			for i := 1; i <= 5; i++ {
				o.Ratings[i] += a.Ratings[i]
			}
			for i, n := range a.Arrivals {
				o.Arrivals[i] += n
			}
			for i := range a.HourWaitN {
				hourS[i], hourN[i] = hourS[i]+a.HourWaitS[i], hourN[i]+a.HourWaitN[i]
			}
		}
		o.Waiting += sl.Waiting
		o.LongestWaitS = max(o.LongestWaitS, so.LongestWaitS)
		o.SLABreaches += so.SLABreaches
		o.Issued += so.Issued
		o.Served += so.Served
		o.Services = append(o.Services, so)
	}
	if waitN > 0 {
		o.MeanWaitS = round1(waitS / float64(waitN))
	}
	for i := range hourN {
		if hourN[i] > 0 {
			o.MeanWaitByHourS[i] = round1(hourS[i] / float64(hourN[i]))
		}
	}
	return o
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// overview is GET /api/v1/overview[?hall=ID]: every hall the staff member
// may see (a supervisor: theirs), or the one asked for.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, who *Staff) {
	if err := query(r, "hall"); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	one := r.URL.Query().Get("hall")
	switch {
	case r.URL.Query().Has("hall") && !validKey(one):
		WriteError(w, http.StatusBadRequest, CodeInvalid, "hall: not a hall id")
		return
	case one != "" && !who.CanSee(one):
		WriteError(w, http.StatusForbidden, CodeForbidden, who.Name+" may not see hall "+one)
		return
	}
	now := s.o.Now()
	out := Overview{SLATargetS: int(s.o.SLATarget / time.Second), SilentAfterS: int(s.o.SilentAfter / time.Second), Halls: []HallOverview{}}
	var zone *time.Location
	for _, h := range s.o.Views.All() {
		if !who.CanSee(h.Hall) || one != "" && h.Hall != one {
			continue
		}
		if zone == nil && !h.LastAt.IsZero() {
			zone = h.LastAt.Location()
		}
		out.Halls = append(out.Halls, s.overviewOf(h, now))
	}
	if one != "" && len(out.Halls) == 0 {
		WriteError(w, http.StatusNotFound, CodeNotFound, "no hall "+one+" has forwarded any event")
		return
	}
	out.Now = now
	if zone != nil {
		out.Now = now.In(zone) // the halls' wall time, as every time the API gives
	}
	WriteJSON(w, http.StatusOK, out)
}

// ---- reports by hall, service or matter, per day, month or range ----

// SummaryRow is one row of GET /api/v1/reports/summary. The dimensions
// not asked for are empty; with by=…matter the figures are the matter's
// (handled, outcomes, ratings) and the ticket figures are 0.
type SummaryRow struct {
	Period          string  `json:"period"` // YYYY-MM-DD (group=day), YYYY-MM (month) or from..to (all)
	Hall            string  `json:"hall,omitempty"`
	Service         string  `json:"service,omitempty"`
	Matter          string  `json:"matter,omitempty"`
	Issued          int     `json:"issued"`
	Served          int     `json:"served"`
	NoShow          int     `json:"no_show"`
	Cancelled       int     `json:"cancelled"`
	MeanWaitS       float64 `json:"mean_wait_s"`
	MeanServiceS    float64 `json:"mean_service_s"`
	Handled         int     `json:"handled"`
	Done            int     `json:"done"`
	Accepted        int     `json:"accepted"`
	Incomplete      int     `json:"incomplete"`
	Refused         int     `json:"refused"`
	Ratings         [6]int  `json:"ratings"` // index 1..5
	BookingsBooked  int     `json:"bookings_booked"`
	BookingsArrived int     `json:"bookings_arrived"`
	BookingsMissed  int     `json:"bookings_missed"`

	waitS, serviceS float64
	waitN, serviceN int
}

// SummaryCSVHeader and SummaryMatterCSVHeader are the CSV columns of the
// summary report without and with the matter dimension.
var (
	SummaryCSVHeader = []string{"period", "hall", "service", "issued", "served", "no_show", "cancelled", "mean_wait_s", "mean_service_s",
		"rating_1", "rating_2", "rating_3", "rating_4", "rating_5", "bookings_booked", "bookings_arrived", "bookings_missed"}
	SummaryMatterCSVHeader = []string{"period", "hall", "service", "matter", "handled", "done", "accepted", "incomplete", "refused",
		"rating_1", "rating_2", "rating_3", "rating_4", "rating_5"}
)

const maxSummaryDays = 400

func (s *Server) reportSummary(w http.ResponseWriter, r *http.Request, who *Staff) {
	if err := query(r, "hall", "from", "to", "by", "group", "format"); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	q := r.URL.Query()
	from, to, group, format := q.Get("from"), q.Get("to"), cmp.Or(q.Get("group"), "month"), q.Get("format")
	by := map[string]bool{}
	for _, d := range strings.Split(cmp.Or(q.Get("by"), "hall"), ",") {
		if d != "hall" && d != "service" && d != "matter" {
			WriteError(w, http.StatusBadRequest, CodeInvalid, fmt.Sprintf("by: %q is not hall, service or matter (a comma-separated list of them)", d))
			return
		}
		by[d] = true
	}
	f, errF := time.Parse("2006-01-02", from)
	t, errT := time.Parse("2006-01-02", to)
	switch {
	case errF != nil:
		WriteError(w, http.StatusBadRequest, CodeInvalid, "from: a day YYYY-MM-DD is required")
		return
	case errT != nil:
		WriteError(w, http.StatusBadRequest, CodeInvalid, "to: a day YYYY-MM-DD is required")
		return
	case to < from:
		WriteError(w, http.StatusBadRequest, CodeInvalid, "to is before from")
		return
	case t.Sub(f) > maxSummaryDays*24*time.Hour:
		WriteError(w, http.StatusBadRequest, CodeInvalid, fmt.Sprintf("from … to spans more than %d days; ask for less", maxSummaryDays))
		return
	case group != "day" && group != "month" && group != "all":
		WriteError(w, http.StatusBadRequest, CodeInvalid, "group: day, month or all")
		return
	case format != "" && format != "json" && format != "csv":
		WriteError(w, http.StatusBadRequest, CodeInvalid, "format: json or csv")
		return
	}
	halls := q["hall"]
	for _, h := range halls {
		if !validKey(h) {
			WriteError(w, http.StatusBadRequest, CodeInvalid, fmt.Sprintf("hall: %q is not a hall id", h))
			return
		}
		if !who.CanSee(h) {
			WriteError(w, http.StatusForbidden, CodeForbidden, who.Name+" may not see hall "+h)
			return
		}
	}
	if len(halls) == 0 { // every hall the staff member may see
		for _, h := range s.o.Views.All() {
			if who.CanSee(h.Hall) {
				halls = append(halls, h.Hall)
			}
		}
	}
	rows, err := s.summary2(r.Context(), halls, from, to, group, by)
	if err != nil {
		s.o.Log.Error("central: summary report", "err", err)
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the figures cannot be read now; try again")
		return
	}
	if format == "csv" || format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="hallq-report-%s-%s.csv"`, from, to))
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(summaryCSV(rows, by["matter"]))
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "group": group, "by": slices.Sorted(maps.Keys(by)), "rows": rows})
}

// days reads the halls' figures for days from … to: closed days from
// central_days — one watcher over every hall's keys, which delivers each
// key's latest value and then says it is done, instead of a listing and a
// read per key — and the current day from each hall's entry.
func (s *Server) days(ctx context.Context, halls []string, from, to string) (map[string]map[string]map[string]*ServiceAgg, error) {
	out := map[string]map[string]map[string]*ServiceAgg{}
	add := func(hallID, day string, svcs map[string]*ServiceAgg) {
		if out[hallID] == nil {
			out[hallID] = map[string]map[string]*ServiceAgg{}
		}
		out[hallID][day] = svcs
	}
	if len(halls) == 0 {
		return out, nil
	}
	filters := make([]string, len(halls))
	for i, h := range halls {
		filters[i] = h + ".*"
	}
	w, err := s.o.Views.b.Days.WatchFiltered(ctx, filters, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	done := false
	for e := range w.Updates() {
		if e == nil { // every key's latest value is in
			done = true
			break
		}
		hallID, day, ok := strings.Cut(e.Key(), ".")
		if !ok || day < from || day > to {
			continue
		}
		var d DayAgg
		if err := json.Unmarshal(e.Value(), &d); err != nil {
			return nil, fmt.Errorf("day %s: %w", e.Key(), err)
		}
		add(hallID, day, d.Services)
	}
	if !done {
		return nil, cmp.Or(ctx.Err(), errors.New("the watcher of central_days stopped before every day was read"))
	}
	for _, id := range halls {
		if h, ok := s.o.Views.Hall(id); ok && h.Day >= from && h.Day <= to && len(h.Services) > 0 {
			add(id, h.Day, h.Services)
		}
	}
	return out, nil
}

func (s *Server) summary2(ctx context.Context, halls []string, from, to, group string, by map[string]bool) ([]SummaryRow, error) {
	acc := map[string]*SummaryRow{}
	get := func(period, hallID, svc, matter string) *SummaryRow {
		if !by["hall"] {
			hallID = ""
		}
		if !by["service"] {
			svc = ""
		}
		k := period + "\x00" + hallID + "\x00" + svc + "\x00" + matter
		r := acc[k]
		if r == nil {
			r = &SummaryRow{Period: period, Hall: hallID, Service: svc, Matter: matter}
			acc[k] = r
		}
		return r
	}
	all, err := s.days(ctx, halls, from, to)
	if err != nil {
		return nil, err
	}
	for _, id := range halls {
		for day, svcs := range all[id] {
			period := day
			switch group {
			case "month":
				period = day[:7]
			case "all":
				period = from + ".." + to
			}
			for svc, a := range svcs {
				if by["matter"] {
					for code, m := range a.Matters {
						r := get(period, id, svc, code)
						r.Handled += m.Handled
						r.Done += m.Done
						r.Accepted += m.Accepted
						r.Incomplete += m.Incomplete
						r.Refused += m.Refused
						for i := 1; i <= 5; i++ {
							r.Ratings[i] += m.Ratings[i]
						}
					}
					continue
				}
				r := get(period, id, svc, "")
				r.Issued += a.Issued
				r.Served += a.Served
				r.NoShow += a.NoShow
				r.Cancelled += a.Cancelled
				r.waitS, r.waitN = r.waitS+a.WaitSumS, r.waitN+a.WaitN
				r.serviceS, r.serviceN = r.serviceS+a.ServiceSumS, r.serviceN+a.ServiceN
				for i := 1; i <= 5; i++ {
					r.Ratings[i] += a.Ratings[i]
				}
				r.BookingsBooked += a.BookingsBooked
				r.BookingsArrived += a.BookingsArrive
				r.BookingsMissed += a.BookingsMissed
			}
		}
	}
	rows := make([]SummaryRow, 0, len(acc))
	for _, r := range acc {
		if r.waitN > 0 {
			r.MeanWaitS = round1(r.waitS / float64(r.waitN))
		}
		if r.serviceN > 0 {
			r.MeanServiceS = round1(r.serviceS / float64(r.serviceN))
		}
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b SummaryRow) int {
		return cmp.Or(cmp.Compare(a.Period, b.Period), cmp.Compare(a.Hall, b.Hall), cmp.Compare(a.Service, b.Service), cmp.Compare(a.Matter, b.Matter))
	})
	return rows, nil
}

// safeCell quotes a cell a spreadsheet would take for a formula with a
// leading ' (as the booking CSV does).
func safeCell(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

// summaryCSV writes the rows as CSV, UTF-8 with a byte-order mark so
// spreadsheet programs read it right.
func summaryCSV(rows []SummaryRow, matter bool) []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	if matter {
		_ = cw.Write(SummaryMatterCSVHeader)
	} else {
		_ = cw.Write(SummaryCSVHeader)
	}
	itoa := strconv.Itoa
	for _, x := range rows {
		rec := []string{x.Period, x.Hall, x.Service}
		if matter {
			rec = append(rec, x.Matter, itoa(x.Handled), itoa(x.Done), itoa(x.Accepted), itoa(x.Incomplete), itoa(x.Refused))
		} else {
			rec = append(rec, itoa(x.Issued), itoa(x.Served), itoa(x.NoShow), itoa(x.Cancelled),
				strconv.FormatFloat(x.MeanWaitS, 'f', 1, 64), strconv.FormatFloat(x.MeanServiceS, 'f', 1, 64))
		}
		for i := 1; i <= 5; i++ {
			rec = append(rec, itoa(x.Ratings[i]))
		}
		if !matter {
			rec = append(rec, itoa(x.BookingsBooked), itoa(x.BookingsArrived), itoa(x.BookingsMissed))
		}
		for i := range rec {
			rec[i] = safeCell(rec[i])
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return b.Bytes()
}

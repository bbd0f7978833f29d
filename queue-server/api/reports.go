package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"hallq/queue-server/hall"
)

// csvBody is an operation result served as a CSV download.
type csvBody struct {
	name string
	data []byte
}

// ReportRow sums the tickets of one group (a service, window, clerk, hour
// or day) with the hall's figure definitions (hall.Figures, kpi.go).
type ReportRow struct {
	Group string `json:"group"` // service code, window number, clerk, "09" (hour) or date
	Label string `json:"label"` // what a person reads: "A 户政 Household registration", "1号窗口 Window 1", "09:00–10:00"
	hall.Figures
	// OneVisit is the group's 最多跑一次 figure (by=matter and by=window).
	OneVisit *hall.OneVisit `json:"one_visit,omitempty"`
}

type grouping struct {
	key   func(t *hall.Ticket, loc *time.Location) string
	label func(cfg hall.Config, key string) string
}

var groupings = map[string]grouping{
	"service": {
		key: func(t *hall.Ticket, _ *time.Location) string { return t.IssuedFor() },
		label: func(cfg hall.Config, k string) string {
			for _, s := range cfg.Services {
				if s.Code == k {
					return fmt.Sprintf("%s %s %s", k, s.Name.ZH, s.Name.EN)
				}
			}
			return k
		},
	},
	"window": {
		key: func(t *hall.Ticket, _ *time.Location) string {
			if t.Window == 0 {
				return ""
			}
			return strconv.Itoa(t.Window)
		},
		label: func(cfg hall.Config, k string) string {
			if k == "" {
				return "未到窗口 never at a window"
			}
			n, _ := strconv.Atoi(k)
			if w, ok := findWindow(cfg, n); ok {
				return fmt.Sprintf("%s %s", w.Name.ZH, w.Name.EN)
			}
			return k + " 号窗口 window " + k
		},
	},
	"clerk": {
		key: func(t *hall.Ticket, _ *time.Location) string { return t.Clerk },
		label: func(_ hall.Config, k string) string {
			if k == "" {
				return "无人员 no clerk"
			}
			return k
		},
	},
	"hour": {
		key: func(t *hall.Ticket, loc *time.Location) string { return t.IssuedAt.In(loc).Format("15") },
		label: func(_ hall.Config, k string) string {
			n, _ := strconv.Atoi(k)
			return fmt.Sprintf("%02d:00–%02d:00", n, n+1)
		},
	},
	"day": {
		key: func(t *hall.Ticket, _ *time.Location) string { return t.Day },
		label: func(_ hall.Config, k string) string {
			d, err := time.Parse(time.DateOnly, k)
			if err != nil {
				return k
			}
			return k + " " + [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}[d.Weekday()]
		},
	},
}

// fromTickets makes the reports read every ticket, also of the days whose
// digests are stored (tests compare the two).
var fromTickets atomic.Bool

// Report sums the tickets of the days from..to (inclusive), grouped by one
// of service (the issuing service), window, clerk, hour (of issue, hall
// time) or day. A closed day is read from its digest (hall.DayDigest),
// which adds up to exactly the same figures as its tickets.
func (a *API) Report(from, to, by string) ([]ReportRow, error) {
	if by == "matter" {
		return a.matterReport(from, to)
	}
	g, ok := groupings[by]
	if !ok {
		return nil, hall.Errorf(hall.Invalid, "by must be service, window, clerk, hour, day or matter, got %q", by)
	}
	if err := checkDays(from, to); err != nil {
		return nil, err
	}
	cfg := a.svc.Config()
	loc, target := cfg.Location(), cfg.Alerts.WaitOver.D()
	rows := map[string]*ReportRow{}
	var order []string
	row := func(k string) *ReportRow {
		r := rows[k]
		if r == nil {
			r = &ReportRow{Group: k, Label: g.label(cfg, k)}
			rows[k] = r
			order = append(order, k)
		}
		return r
	}
	err := a.store.History(from, to, by, func(d *hall.DayDigest) bool {
		groups, ok := d.Groups(by, loc)
		if !ok || fromTickets.Load() {
			return false
		}
		for k, t := range groups {
			row(k).AddTally(t, target)
		}
		return true
	}, func(t hall.Ticket) error {
		row(g.key(&t, loc)).Add(&t, target)
		return nil
	})
	if err != nil {
		return nil, hall.Errorf(hall.Unavailable, "cannot read history: %w", err)
	}
	sortGroups(by, cfg, order)
	var ov map[string]hall.OneVisit
	if by == "window" {
		rep, err := a.oneVisit(from, to)
		if err != nil {
			return nil, err
		}
		ov = map[string]hall.OneVisit{}
		for _, o := range rep.ByWindow {
			ov[o.Key] = o
		}
	}
	out := make([]ReportRow, 0, len(rows))
	for _, k := range order {
		r := rows[k]
		r.Finish()
		if o, ok := ov[k]; ok {
			r.OneVisit = &o
		}
		out = append(out, *r)
	}
	return out, nil
}

// oneVisit computes the 最多跑一次 figures of from..to, reading the repeat
// period before from as history.
func (a *API) oneVisit(from, to string) (hall.OneVisitReport, error) {
	cfg := a.svc.Config()
	t0, _ := time.ParseInLocation(time.DateOnly, from, cfg.Location())
	since := t0.Add(-cfg.Rules.RepeatPeriod()).Format(time.DateOnly)
	var ts []hall.Ticket
	err := a.store.History(since, to, "visits", func(d *hall.DayDigest) bool {
		if fromTickets.Load() {
			return false
		}
		ts = append(ts, d.Visits...)
		return true
	}, func(t hall.Ticket) error {
		if len(t.Matters) > 0 {
			ts = append(ts, t)
		}
		return nil
	})
	if err != nil {
		return hall.OneVisitReport{}, hall.Errorf(hall.Unavailable, "cannot read history: %w", err)
	}
	return hall.OneVisitFigures(cfg, ts, from, to), nil
}

// matterReport sums, per matter, the tickets that carried it (a ticket of
// several matters counts in each), with the matter's one-visit figure.
func (a *API) matterReport(from, to string) ([]ReportRow, error) {
	if err := checkDays(from, to); err != nil {
		return nil, err
	}
	cfg := a.svc.Config()
	target := cfg.Alerts.WaitOver.D()
	rows := map[string]*ReportRow{}
	var order []string
	row := func(code, label string) *ReportRow {
		r := rows[code]
		if r == nil {
			r = &ReportRow{Group: code, Label: label}
			rows[code] = r
			order = append(order, code)
		}
		return r
	}
	err := a.store.History(from, to, "matter", func(d *hall.DayDigest) bool {
		if fromTickets.Load() {
			return false
		}
		for code, t := range d.Matters {
			row(code, d.MatterNames[code]).AddTally(t, target)
		}
		return true
	}, func(t hall.Ticket) error {
		for _, m := range t.Matters {
			row(m.Code, strings.TrimSpace(m.Name.ZH+" "+m.Name.EN)).Add(&t, target)
		}
		return nil
	})
	if err != nil {
		return nil, hall.Errorf(hall.Unavailable, "cannot read history: %w", err)
	}
	rep, err := a.oneVisit(from, to)
	if err != nil {
		return nil, err
	}
	ov := map[string]hall.OneVisit{}
	for _, o := range rep.ByMatter {
		ov[o.Key] = o
	}
	slices.Sort(order)
	out := make([]ReportRow, 0, len(rows))
	for _, k := range order {
		r := rows[k]
		r.Finish()
		if o, ok := ov[k]; ok {
			r.OneVisit = &o
		}
		out = append(out, *r)
	}
	return out, nil
}

// sortGroups orders services as configured, windows by number, the rest by key.
func sortGroups(by string, cfg hall.Config, keys []string) {
	rank := func(k string) string { return k }
	switch by {
	case "service":
		rank = func(k string) string {
			for i, s := range cfg.Services {
				if s.Code == k {
					return fmt.Sprintf("%03d", i)
				}
			}
			return "999" + k
		}
	case "window":
		rank = func(k string) string {
			if k == "" {
				return "zzzzzz"
			}
			return fmt.Sprintf("%06s", k)
		}
	}
	slices.SortStableFunc(keys, func(a, b string) int { return strings.Compare(rank(a), rank(b)) })
}

func checkDays(days ...string) error {
	for _, d := range days {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return hall.Errorf(hall.Invalid, "dates are YYYY-MM-DD, got %q", d)
		}
	}
	if len(days) == 2 && days[1] < days[0] {
		return hall.Errorf(hall.Invalid, "to (%s) is before from (%s)", days[1], days[0])
	}
	return nil
}

func (a *API) today() string {
	return a.svc.Now().In(a.svc.Config().Location()).Format(time.DateOnly)
}

func opReports(c *call) (int, any, error) {
	from, to, by := c.params["from"], c.params["to"], c.params["by"]
	if from == "" {
		from = c.a.today()
	}
	if to == "" {
		to = from
	}
	if by == "" {
		by = "service"
	}
	rows, err := c.a.Report(from, to, by)
	if err != nil {
		return 0, nil, err
	}
	if c.params["format"] != "csv" {
		return http.StatusOK, rows, nil
	}
	return http.StatusOK, csvBody{name: fmt.Sprintf("hallq-report-%s-%s-by-%s.csv", from, to, by), data: reportCSV(by, from, to, rows, c.a.svc.Config())}, nil
}

// csvHeads are the report's CSV columns: Chinese with English, durations in
// minutes, shares in per cent.
var csvGroupHeads = map[string]string{
	"service": "业务（取号时）Service (as issued)", "window": "窗口 Window", "clerk": "人员 Clerk",
	"hour": "取号时段（大厅时间）Hour issued (hall time)", "day": "日期 Day", "matter": "事项 Matter",
}

var csvHeads = []string{
	"取号 Issued", "办结 Served", "过号 No-show", "取消 Cancelled", "未办结 Expired", "未完成 Still open", "转移 Transferred",
	"平均等候（分钟）Mean wait (min)", "P90 等候（分钟）P90 wait (min)", "等候达标率 % Waited within target %",
	"平均办理（分钟）Mean service time (min)", "平均窗口处理（分钟）Mean handling time (min)",
	"评价数 Ratings", "平均分 Mean rating", "差评 Dissatisfied",
	"平均走到窗口（分钟）Mean walk (min)", "有人等候时空闲（分钟）Idle while waiting (min)", "一次办结率 % Done in one visit %",
}

func reportCSV(by, from, to string, rows []ReportRow, cfg hall.Config) []byte {
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // so spreadsheet programs read the UTF-8 correctly
	w := csv.NewWriter(&buf)
	w.Write([]string{csvText(fmt.Sprintf("%s %s 报表 report %s – %s（%s）", cfg.Hall.Name.ZH, cfg.Hall.Name.EN, from, to, cfg.Hall.TimeZone))})
	w.Write(append([]string{csvGroupHeads[by]}, csvHeads...))
	minutes := func(s float64) string { return strconv.FormatFloat(s/60, 'f', 1, 64) }
	pct := func(x float64) string {
		if x < 0 {
			return ""
		}
		return strconv.FormatFloat(100*x, 'f', 1, 64)
	}
	for _, r := range rows {
		w.Write([]string{csvText(r.Label), strconv.Itoa(r.Issued), strconv.Itoa(r.Served), strconv.Itoa(r.NoShow), strconv.Itoa(r.Cancelled),
			strconv.Itoa(r.Expired), strconv.Itoa(r.Open), strconv.Itoa(r.Transferred),
			minutes(r.MeanWaitS), minutes(r.P90WaitS), pct(r.WithinTarget), minutes(r.MeanServiceS), minutes(r.MeanHandlingS),
			strconv.Itoa(r.Ratings), strconv.FormatFloat(r.MeanRating, 'f', 2, 64), strconv.Itoa(r.Dissatisfied),
			minutes(r.MeanWalkS), minutes(r.IdleS), oneVisitPct(r.OneVisit, pct)})
	}
	w.Write([]string{csvText(fmt.Sprintf("等候=取号到叫号；办理=开始到办结；窗口处理=叫号到办结；达标=等候不超过 %s。Wait = ticket to call; service = start to done; handling = call to done; within target = waited at most %s.",
		shortMinutes(cfg.Alerts.WaitOver.D()), shortMinutes(cfg.Alerts.WaitOver.D())))})
	w.Flush()
	return buf.Bytes()
}

func oneVisitPct(o *hall.OneVisit, pct func(float64) string) string {
	if o == nil {
		return ""
	}
	return pct(o.Rate)
}

func shortMinutes(d time.Duration) string { return strconv.Itoa(int(d.Minutes())) + " min" }

// opFigures returns one day of the hall in figures (default today).
func opFigures(c *call) (int, any, error) {
	day := c.params["day"]
	if day == "" {
		day = c.a.today()
	}
	if err := checkDays(day); err != nil {
		return 0, nil, err
	}
	cfg := c.a.svc.Config()
	var ts, history []hall.Ticket
	if err := c.a.store.TicketsBetween(day, day, func(t hall.Ticket) error { ts = append(ts, t); return nil }); err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot read history: %w", err)
	}
	d := hall.Summarize(cfg, day, ts)
	// the repeat visits of the day's matters are found in the period before
	t0, _ := time.ParseInLocation(time.DateOnly, day, cfg.Location())
	since := t0.Add(-cfg.Rules.RepeatPeriod()).Format(time.DateOnly)
	prev := t0.AddDate(0, 0, -1).Format(time.DateOnly)
	keyed := func(t hall.Ticket) error {
		if len(t.Matters) > 0 && t.CitizenKey != "" {
			history = append(history, t)
		}
		return nil
	}
	if err := c.a.store.History(since, prev, "visits", func(d *hall.DayDigest) bool {
		if fromTickets.Load() {
			return false
		}
		for _, t := range d.Visits {
			keyed(t)
		}
		return true
	}, keyed); err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot read history: %w", err)
	}
	ov := hall.OneVisitFigures(cfg, append(history, ts...), day, day)
	d.OneVisit = &ov
	return ok(d, nil)
}

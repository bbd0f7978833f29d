package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"hallq/queue-server/hall"
)

// csvBody is an operation result served as a CSV download.
type csvBody struct {
	name string
	data []byte
}

// ReportRow sums the tickets of one group (a service, window, clerk, hour or day).
type ReportRow struct {
	Group          string  `json:"group"`
	Tickets        int     `json:"tickets"`
	Served         int     `json:"served"`
	NoShow         int     `json:"no_show"`
	Abandoned      int     `json:"abandoned"` // cancelled or expired
	MeanWaitS      float64 `json:"mean_wait_s"`
	P90WaitS       float64 `json:"p90_wait_s"`
	MeanServiceS   float64 `json:"mean_service_s"`
	NoShowRate     float64 `json:"no_show_rate"`
	AbandonRate    float64 `json:"abandon_rate"`
	Ratings        int     `json:"ratings"`
	MeanRating     float64 `json:"mean_rating"`
	Dissatisfied   int     `json:"dissatisfied"` // ratings 1 and 2
	waits, service []float64
	ratingSum      int
}

var groupings = map[string]func(t hall.Ticket, loc *time.Location) string{
	"service": func(t hall.Ticket, _ *time.Location) string { return t.Service },
	"window": func(t hall.Ticket, _ *time.Location) string {
		if t.Window == 0 {
			return "-"
		}
		return strconv.Itoa(t.Window)
	},
	"clerk": func(t hall.Ticket, _ *time.Location) string {
		if t.Clerk == "" {
			return "-"
		}
		return t.Clerk
	},
	"hour": func(t hall.Ticket, loc *time.Location) string { return t.IssuedAt.In(loc).Format("15") + ":00" },
	"day":  func(t hall.Ticket, _ *time.Location) string { return t.Day },
}

// Report sums the tickets of the days from..to (inclusive), grouped by one
// of service, window, clerk, hour or day.
func (a *API) Report(from, to, by string) ([]ReportRow, error) {
	group, ok := groupings[by]
	if !ok {
		return nil, hall.Errorf(hall.Invalid, "by must be service, window, clerk, hour or day, got %q", by)
	}
	for _, d := range []string{from, to} {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, hall.Errorf(hall.Invalid, "dates are YYYY-MM-DD, got %q", d)
		}
	}
	if to < from {
		return nil, hall.Errorf(hall.Invalid, "to (%s) is before from (%s)", to, from)
	}
	cfg := a.svc.Config()
	loc := cfg.Location()
	rows := map[string]*ReportRow{}
	err := a.store.TicketsBetween(from, to, func(t hall.Ticket) error {
		k := group(t, loc)
		r := rows[k]
		if r == nil {
			r = &ReportRow{Group: k}
			rows[k] = r
		}
		r.Tickets++
		switch t.Status {
		case hall.Done:
			r.Served++
			if !t.StartedAt.IsZero() {
				r.service = append(r.service, t.FinishedAt.Sub(t.StartedAt).Seconds())
			}
		case hall.NoShow:
			r.NoShow++
		case hall.Cancelled, hall.Expired:
			r.Abandoned++
		}
		if !t.CalledAt.IsZero() {
			r.waits = append(r.waits, t.CalledAt.Sub(t.QueuedAt).Seconds())
		}
		if t.Rating != nil {
			r.Ratings++
			r.ratingSum += t.Rating.Score
			if t.Rating.Score <= 2 {
				r.Dissatisfied++
			}
		}
		return nil
	})
	if err != nil {
		return nil, hall.Errorf(hall.Unavailable, "cannot read history: %v", err)
	}
	out := make([]ReportRow, 0, len(rows))
	for _, k := range slices.Sorted(maps.Keys(rows)) {
		r := rows[k]
		r.MeanWaitS, r.P90WaitS = mean(r.waits), percentile(r.waits, 0.9)
		r.MeanServiceS = mean(r.service)
		if r.Tickets > 0 {
			r.NoShowRate = float64(r.NoShow) / float64(r.Tickets)
			r.AbandonRate = float64(r.Abandoned) / float64(r.Tickets)
		}
		if r.Ratings > 0 {
			r.MeanRating = float64(r.ratingSum) / float64(r.Ratings)
		}
		out = append(out, *r)
	}
	return out, nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(int(p*float64(len(s))), len(s)-1)]
}

func opReports(c *call) (int, any, error) {
	today := time.Now().In(c.a.svc.Config().Location()).Format(time.DateOnly)
	from, to, by := c.params["from"], c.params["to"], c.params["by"]
	if from == "" {
		from = today
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
	var buf bytes.Buffer
	buf.WriteString("\ufeff") // so spreadsheet programs read the UTF-8 correctly
	w := csv.NewWriter(&buf)
	w.Write(csvTexts([]string{by, "tickets", "served", "no_show", "abandoned", "mean_wait_s", "p90_wait_s", "mean_service_s", "no_show_rate", "abandon_rate", "ratings", "mean_rating", "dissatisfied"}))
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
	for _, r := range rows {
		w.Write([]string{csvText(r.Group), strconv.Itoa(r.Tickets), strconv.Itoa(r.Served), strconv.Itoa(r.NoShow), strconv.Itoa(r.Abandoned),
			f(r.MeanWaitS), f(r.P90WaitS), f(r.MeanServiceS), strconv.FormatFloat(r.NoShowRate, 'f', 3, 64),
			strconv.FormatFloat(r.AbandonRate, 'f', 3, 64), strconv.Itoa(r.Ratings), strconv.FormatFloat(r.MeanRating, 'f', 2, 64), strconv.Itoa(r.Dissatisfied)})
	}
	w.Flush()
	return http.StatusOK, csvBody{name: fmt.Sprintf("hallq-report-%s-%s-by-%s.csv", from, to, by), data: buf.Bytes()}, nil
}

package booking

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/audit"
	"hallq/central/auth"
	"hallq/central/calendars"
)

// Booking supervision for the province dashboard (docs/central.md,
// "Booking supervision"): the banned list, lifting a ban, the capacity use
// of a hall's days, and the audit trail of staff changes.
//
//	GET  /api/v1/staff/bans                      staff (a supervisor: bans with a miss at their halls)
//	POST /api/v1/staff/bans/{booking}/lift       province admin, {"reason": "…"}
//	GET  /api/v1/staff/halls/{hall}/usage?from=&to=   staff of the hall
//	GET  /api/v1/staff/audit?hall=&limit=        staff (a supervisor: their halls' entries)
//	GET  /api/v1/staff/catalog/versions          staff: the kept catalogue versions
//	GET  /api/v1/staff/halls/{hall}/history      staff of the hall: the kept calendar revisions

func addSuperviseRoutes(mux routeMap, h *api) {
	mux.HandleFunc("GET /api/v1/staff/bans", h.wrap(h.bans))
	mux.HandleFunc("POST /api/v1/staff/bans/{booking}/lift", h.wrap(h.liftBan))
	mux.HandleFunc("GET /api/v1/staff/halls/{hall}/usage", h.wrap(h.usage))
	mux.HandleFunc("GET /api/v1/staff/audit", h.wrap(h.auditList))
	mux.HandleFunc("GET /api/v1/staff/catalog/versions", h.wrap(h.catalogVersions))
	mux.HandleFunc("GET /api/v1/staff/halls/{hall}/history", h.wrap(h.hallHistory))
}

// MissedBooking is one missed booking behind a ban.
type MissedBooking struct {
	ID        string    `json:"id"`
	Hall      string    `json:"hall"`
	Service   string    `json:"service"`
	SlotStart time.Time `json:"slot_start"`
	Day       string    `json:"day"`
}

// Ban is a citizen the missed-booking rule bars from booking now. Ref
// names the ban in the API: the id of its latest missed booking.
type Ban struct {
	Ref    string          `json:"ref"`
	Masked string          `json:"masked"`
	Misses int             `json:"misses"` // within the rule's window
	Since  string          `json:"since"`  // the day the ban began (YYYY-MM-DD)
	Until  string          `json:"until"`  // the first day booking is possible again
	Missed []MissedBooking `json:"missed"`
}

// banSince is the first day of the ban in force (a run of qualifying
// misses, each within the ban of the one before).
func (s *Service) banSince(c citizenRec) string {
	var days []string
	for _, m := range c.Misses {
		if !m.Forgiven {
			days = append(days, m.Day)
		}
	}
	slices.Sort(days)
	since, until := "", ""
	for i, d := range days {
		dd, _ := time.Parse("2006-01-02", d)
		n := 0
		for _, e := range days[:i+1] {
			ed, _ := time.Parse("2006-01-02", e)
			if ed.After(dd.AddDate(0, 0, -s.pol.MissedDays)) {
				n++
			}
		}
		if n < s.pol.MissedLimit {
			continue
		}
		if until == "" || d > until {
			since = d
		}
		until = dd.AddDate(0, 0, s.pol.BanDays).Format("2006-01-02")
	}
	return since
}

func (s *Service) banOf(ctx context.Context, c citizenRec, today string) (Ban, bool, error) {
	n, until := s.standing(c, today)
	if until == "" {
		return Ban{}, false, nil
	}
	b := Ban{Misses: n, Since: s.banSince(c), Until: until, Missed: []MissedBooking{}}
	for _, m := range c.Misses {
		if m.Forgiven {
			continue
		}
		mb := MissedBooking{ID: m.ID, Day: m.Day}
		if bk, _, err := get[Booking](ctx, s.bookings, m.ID); err == nil {
			mb.Hall, mb.Service, mb.SlotStart = bk.Hall, bk.Service, bk.SlotStart
			if bk.MaskedID != "" {
				b.Masked = bk.MaskedID
			}
		} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return Ban{}, false, err
		}
		b.Missed = append(b.Missed, mb)
	}
	slices.SortFunc(b.Missed, func(x, y MissedBooking) int { return strings.Compare(x.Day+x.ID, y.Day+y.ID) })
	if len(b.Missed) > 0 {
		b.Ref = b.Missed[len(b.Missed)-1].ID
	}
	return b, true, nil
}

// today is the province's civil day (the platform's halls share a zone;
// Asia/Shanghai unless a hall's calendar names another).
func (s *Service) today(context.Context) string {
	return s.cfg.Clock.Now().In(provinceZone()).Format("2006-01-02")
}

func provinceZone() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}

// Bans lists the citizens barred now, whose bans may concern a hall
// mayManage allows (a ban concerns the halls of its misses), the ban
// that ends last first.
func (s *Service) Bans(ctx context.Context, mayManage func(hall string) bool) ([]Ban, error) {
	l, err := s.citizens.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	today := s.today(ctx)
	out := []Ban{}
	for k := range l.Keys() {
		c, _, err := get[citizenRec](ctx, s.citizens, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		moved, err := s.moved(ctx, c)
		if err != nil {
			return nil, err
		}
		c.settle(moved)
		b, banned, err := s.banOf(ctx, c, today)
		if err != nil {
			return nil, err
		}
		if banned && slices.ContainsFunc(b.Missed, func(m MissedBooking) bool { return mayManage(m.Hall) }) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(x, y Ban) int {
		if c := strings.Compare(y.Until, x.Until); c != 0 {
			return c
		}
		return strings.Compare(x.Ref, y.Ref)
	})
	return out, nil
}

// LiftBan forgives the misses behind the ban that ref (one of its missed
// bookings) names, so the citizen may book again at once; the lifting is
// audited with the reason. It returns the ban as it was.
func (s *Service) LiftBan(ctx context.Context, p *auth.Principal, ref, reason, idem string) (Ban, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 500 {
		return Ban{}, refuse(Invalid, ReasonBadField, "reason is required (at most 500 characters): why the ban is lifted")
	}
	bk, _, err := get[Booking](ctx, s.bookings, ref)
	if errors.Is(err, jetstream.ErrKeyNotFound) || err == nil && bk.CitizenKey == "" {
		return Ban{}, refuse(NotFound, ReasonUnknownBooking, "there is no booking %q behind a ban", ref)
	}
	if err != nil {
		return Ban{}, err
	}
	today := s.today(ctx)
	// The misses lifted are the ones the list showed: the entry settled
	// on the records (a miss written to the entry later would otherwise
	// come in unforgiven).
	var moved map[string]string
	if c, _, err := get[citizenRec](ctx, s.citizens, bk.CitizenKey); err == nil {
		if moved, err = s.moved(ctx, c); err != nil {
			return Ban{}, err
		}
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return Ban{}, err
	}
	var was Ban
	if _, err := update(ctx, s.citizens, bk.CitizenKey, func(c *citizenRec, _ bool) error {
		c.settle(moved)
		if !slices.ContainsFunc(c.Misses, func(m miss) bool { return m.ID == ref }) {
			return refuse(NotFound, ReasonUnknownBooking, "booking %s is not a missed booking behind a ban", ref)
		}
		b, banned, err := s.banOf(ctx, *c, today)
		if err != nil {
			return err
		}
		if !banned {
			return refuse(Conflict, ReasonNotBanned, "this citizen is not barred from booking now (the ban ended or was lifted)")
		}
		was = b
		for i := range c.Misses {
			c.Misses[i].Forgiven = true
		}
		return nil
	}); err != nil {
		return Ban{}, err
	}
	err = s.record(ctx, p, audit.BanLifted, "", ref, reason, idem,
		map[string]any{"masked": was.Masked, "misses": was.Misses, "since": was.Since, "until": was.Until},
		map[string]any{"masked": was.Masked, "until": ""})
	return was, err
}

// record writes an audit entry for p's change; idem (the request's
// Idempotency-Key) makes a retried request's entry the same one.
func (s *Service) record(ctx context.Context, p *auth.Principal, action, hall, target, reason, idem string, before, after any) error {
	id := ""
	if idem != "" {
		id = action + ":" + target + ":" + p.Subject + ":" + idem
	} else {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	e := audit.Entry{ID: id, At: s.cfg.Clock.Now().In(provinceZone()), Who: cmp.Or(p.Name, p.Subject), Role: p.Role, Action: action, Hall: hall, Target: target, Reason: reason}
	if before != nil {
		e.Before = audit.State(before)
	}
	if after != nil {
		e.After = audit.State(after)
	}
	return s.Audit.Record(ctx, e)
}

// UsageRow is one service's day at a hall: seats offered and what became
// of the bookings made for them.
type UsageRow struct {
	Day       string `json:"day"`
	Service   string `json:"service"`
	Capacity  int    `json:"capacity"`  // seats of the day's slots
	Booked    int    `json:"booked"`    // bookings not cancelled (holding a seat, or used)
	Cancelled int    `json:"cancelled"` // by the citizen or the hall's calendar
	Arrived   int    `json:"arrived"`   // checked in (arrived or served)
	Missed    int    `json:"missed"`    // 爽约
	// NoShowRate is missed / (arrived + missed): nil while none of the
	// day's bookings has an outcome.
	NoShowRate *float64 `json:"no_show_rate"`
}

// Usage is a hall's capacity use over days.
type Usage struct {
	Hall  string     `json:"hall"`
	From  string     `json:"from"`
	To    string     `json:"to"`
	Rows  []UsageRow `json:"rows"`
	Total UsageRow   `json:"total"` // Day and Service empty
}

const maxUsageDays = 62

func rate(r *UsageRow) {
	if d := r.Arrived + r.Missed; d > 0 {
		v := float64(r.Missed) / float64(d)
		r.NoShowRate = &v
	}
}

// HallUsage is hall's capacity use per day and service from from to to
// (YYYY-MM-DD, both included, at most 62 days).
func (s *Service) HallUsage(ctx context.Context, hallID, from, to string) (Usage, error) {
	h, err := s.Halls.Get(ctx, hallID)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return Usage{}, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", hallID)
	}
	if err != nil {
		return Usage{}, err
	}
	loc := h.Calendar.Location()
	f, err1 := time.ParseInLocation("2006-01-02", from, loc)
	t, err2 := time.ParseInLocation("2006-01-02", to, loc)
	switch {
	case err1 != nil:
		return Usage{}, refuse(Invalid, ReasonBadField, "from %q is not a day YYYY-MM-DD", from)
	case err2 != nil:
		return Usage{}, refuse(Invalid, ReasonBadField, "to %q is not a day YYYY-MM-DD", to)
	case t.Before(f):
		return Usage{}, refuse(Invalid, ReasonBadField, "to (%s) is before from (%s)", to, from)
	case t.Sub(f) > (maxUsageDays-1)*24*time.Hour+time.Hour:
		return Usage{}, refuse(Invalid, ReasonBadField, "at most %d days at once", maxUsageDays)
	}
	u := Usage{Hall: hallID, From: from, To: to, Rows: []UsageRow{}}
	for d := f; !d.After(t); d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc) {
		day := d.Format("2006-01-02")
		rows := map[string]*UsageRow{}
		row := func(svc string) *UsageRow {
			if rows[svc] == nil {
				rows[svc] = &UsageRow{Day: day, Service: svc}
			}
			return rows[svc]
		}
		for svc := range h.Capacity {
			for _, sl := range h.Slots(svc, d) {
				row(svc).Capacity += sl.Capacity
			}
		}
		ids, err := s.dayIndex(ctx, hallID, d)
		if err != nil {
			return Usage{}, err
		}
		for _, id := range ids {
			b, _, err := get[Booking](ctx, s.bookings, id)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return Usage{}, err
			}
			if b.Hall != hallID || b.SlotStart.In(loc).Format("2006-01-02") != day {
				continue // moved to another day
			}
			r := row(b.Service)
			switch b.Status {
			case Cancelled:
				r.Cancelled++
				continue
			case Arrived, Served:
				r.Arrived++
			case Missed:
				r.Missed++
			}
			r.Booked++
		}
		svcs := make([]string, 0, len(rows))
		for k, r := range rows {
			if r.Capacity > 0 || r.Booked > 0 || r.Cancelled > 0 {
				svcs = append(svcs, k)
			}
		}
		slices.Sort(svcs)
		for _, k := range svcs {
			r := rows[k]
			rate(r)
			u.Rows = append(u.Rows, *r)
			u.Total.Capacity += r.Capacity
			u.Total.Booked += r.Booked
			u.Total.Cancelled += r.Cancelled
			u.Total.Arrived += r.Arrived
			u.Total.Missed += r.Missed
		}
	}
	rate(&u.Total)
	return u, nil
}

// ---- routes ----

func (h *api) bans(r *http.Request) (reply, error) {
	p, err := h.staff(r, "")
	if err != nil {
		return reply{}, err
	}
	l, err := h.s.Bans(r.Context(), p.MayManage)
	if err != nil {
		return reply{}, err
	}
	pol := h.s.Policy()
	return ok(map[string]any{"bans": l, "rule": map[string]int{"missed_limit": pol.MissedLimit, "missed_days": pol.MissedDays, "ban_days": pol.BanDays}})
}

// LiftRequest is the body of POST /api/v1/staff/bans/{booking}/lift.
type LiftRequest struct {
	Reason string `json:"reason"`
}

func (h *api) liftBan(r *http.Request) (reply, error) {
	p, err := h.staff(r, "")
	if err != nil {
		return reply{}, err
	}
	if p.Role != auth.RoleProvinceAdmin {
		return reply{}, refuse(Forbidden, ReasonNotStaff, "only a province admin lifts a ban")
	}
	var req LiftRequest
	if err := decode(r, &req); err != nil {
		return reply{}, err
	}
	was, err := h.s.LiftBan(r.Context(), p, r.PathValue("booking"), req.Reason, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"lifted": was})
}

func (h *api) usage(r *http.Request) (reply, error) {
	id := r.PathValue("hall")
	if _, err := h.staff(r, id); err != nil {
		return reply{}, err
	}
	q := r.URL.Query()
	u, err := h.s.HallUsage(r.Context(), id, q.Get("from"), q.Get("to"))
	if err != nil {
		return reply{}, err
	}
	return ok(u)
}

func (h *api) auditList(r *http.Request) (reply, error) {
	p, err := h.staff(r, "")
	if err != nil {
		return reply{}, err
	}
	q := r.URL.Query()
	f := audit.Filter{}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return reply{}, refuse(Invalid, ReasonBadField, "limit must be 1 to 1000")
		}
		f.Limit = n
	}
	if hall := q.Get("hall"); hall != "" {
		if !p.MayManage(hall) {
			return reply{}, refuse(Forbidden, ReasonNotStaff, "this needs a province admin or the supervisor of hall %s", hall)
		}
		f.Halls = []string{hall}
	} else if p.Role != auth.RoleProvinceAdmin {
		f.Halls = p.Halls
		if f.Halls == nil {
			f.Halls = []string{}
		}
	}
	l, err := h.s.Audit.Recent(r.Context(), f)
	if err != nil {
		return reply{}, err
	}
	return ok(map[string]any{"entries": l})
}

// FieldDetails name the field a validation refusal of a hall or the
// catalogue is about, so an editor marks it: "name.zh", "slot_minutes",
// "capacity", "calendar.weekly.mon", "calendar.holidays",
// "calendar.closures", "calendar.booking_only", "calendar.zone";
// "matters[2].name.zh", "matters[0].materials[1].name.zh".
type FieldDetails struct {
	Field string `json:"field"`
}

var (
	matterFieldRE = regexp.MustCompile(`matter (\d+) \(.*?\): (?:material (\d+): )?([a-z_]+(?:\.[a-z]+)?)`)
	calFieldRE    = regexp.MustCompile(`^calendar: (weekly\.[a-z]{3}|weekly|holidays|workdays|closures|booking_only|zone)\b`)
	hallFieldRE   = regexp.MustCompile(`^(name\.zh|slot_minutes|capacity|id)\b`)
)

// fieldOf is the field a validation message of a hall or the catalogue
// names as details (nil when none is recognised).
func fieldOf(msg string) any {
	if m := matterFieldRE.FindStringSubmatch(msg); m != nil {
		f := "matters[" + m[1] + "]."
		if m[2] != "" {
			f += "materials[" + m[2] + "]."
		}
		return FieldDetails{Field: f + m[3]}
	}
	if m := calFieldRE.FindStringSubmatch(msg); m != nil {
		return FieldDetails{Field: "calendar." + m[1]}
	}
	if m := hallFieldRE.FindStringSubmatch(msg); m != nil {
		return FieldDetails{Field: m[1]}
	}
	return nil
}

// VersionSummary is one kept catalogue version.
type VersionSummary struct {
	Version     uint64 `json:"version"`
	PublishedAt string `json:"published_at"`
	Matters     int    `json:"matters"`
}

func (h *api) catalogVersions(r *http.Request) (reply, error) {
	if _, err := h.staff(r, ""); err != nil {
		return reply{}, err
	}
	vs, err := h.s.Catalog.Versions(r.Context())
	if err != nil {
		return reply{}, err
	}
	out := []VersionSummary{}
	for _, v := range vs {
		out = append(out, VersionSummary{Version: v.Version, PublishedAt: v.PublishedAt, Matters: len(v.Matters)})
	}
	return ok(map[string]any{"versions": out})
}

// HallRevision is one kept revision of a hall's calendar.
type HallRevision struct {
	Revision    uint64    `json:"revision"`
	At          time.Time `json:"at"`
	SlotMinutes int       `json:"slot_minutes"`
	Holidays    int       `json:"holidays"`
	Workdays    int       `json:"workdays"`
	Closures    []string  `json:"closures"` // their days
}

func (h *api) hallHistory(r *http.Request) (reply, error) {
	id := r.PathValue("hall")
	if _, err := h.staff(r, id); err != nil {
		return reply{}, err
	}
	revs, err := h.s.Halls.History(r.Context(), id)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return reply{}, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", id)
	}
	if err != nil {
		return reply{}, err
	}
	out := []HallRevision{}
	for _, v := range revs {
		loc := provinceZone()
		if l, err := time.LoadLocation(v.Hall.Calendar.Zone); err == nil {
			loc = l
		}
		x := HallRevision{Revision: v.Revision, At: v.At.In(loc), SlotMinutes: v.Hall.SlotMinutes, Holidays: len(v.Hall.Calendar.Holidays),
			Workdays: len(v.Hall.Calendar.Workdays), Closures: []string{}}
		for _, c := range v.Hall.Calendar.Closures {
			x.Closures = append(x.Closures, c.Day)
		}
		out = append(out, x)
	}
	return ok(map[string]any{"revisions": out})
}

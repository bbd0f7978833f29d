package booking

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hallq/central/audit"
	"hallq/central/auth"
	"hallq/central/calendars"
	ccat "hallq/central/catalog"
	"hallq/internal/catalog"
)

// Authenticator turns a request's bearer token into a principal
// (*auth.Verifier in production and tests).
type Authenticator interface {
	Request(r *http.Request) (*auth.Principal, error)
}

// Handler is the HTTP API of bookings, calendars and the catalogue
// (docs/central.md, "Booking API"). Routes:
//
//	GET  /api/v1/catalog                              public
//	GET  /api/v1/halls/{hall}/slots?service=&day=     public
//	GET  /api/v1/booking-halls?service=               public (halls taking bookings, names, next free slots)
//	POST /api/v1/bookings                             citizen
//	GET  /api/v1/bookings                             citizen (mine)
//	GET  /api/v1/bookings/{id}                        citizen
//	GET  /api/v1/bookings/{id}.ics                    citizen (the booking as an iCalendar event)
//	POST /api/v1/bookings/{id}/cancel                 citizen
//	POST /api/v1/bookings/{id}/reschedule             citizen
//	GET  /api/v1/staff/halls                          staff
//	GET  /api/v1/staff/halls/{hall}                   staff
//	PUT  /api/v1/staff/halls/{hall}                   staff
//	GET  /api/v1/staff/halls/{hall}/bookings?day=     staff (JSON, or CSV with format=csv)
//	PUT  /api/v1/staff/catalog                        province admin
//
// and the supervision routes of supervise.go.
func Handler(s *Service, a Authenticator) http.Handler {
	mux := http.NewServeMux()
	for pattern, h := range Routes(s, a) {
		mux.Handle(pattern, h)
	}
	return mux
}

// Routes are Handler's routes by ServeMux pattern (method and path), for
// the central's own route table.
func Routes(s *Service, a Authenticator) map[string]http.Handler {
	mux := routeMap{}
	h := &api{s: s, a: a}
	mux.HandleFunc("GET /api/v1/catalog", h.wrap(h.catalog))
	mux.HandleFunc("GET /api/v1/halls/{hall}/slots", h.wrap(h.slots))
	mux.HandleFunc("GET /api/v1/booking-halls", h.wrap(h.bookingHalls))
	mux.HandleFunc("POST /api/v1/bookings", h.wrap(h.book))
	mux.HandleFunc("GET /api/v1/bookings", h.wrap(h.mine))
	mux.HandleFunc("GET /api/v1/bookings/{id}", h.wrap(h.one))
	mux.HandleFunc("POST /api/v1/bookings/{id}/cancel", h.wrap(h.cancel))
	mux.HandleFunc("POST /api/v1/bookings/{id}/reschedule", h.wrap(h.reschedule))
	mux.HandleFunc("GET /api/v1/staff/halls", h.wrap(h.staffHalls))
	mux.HandleFunc("GET /api/v1/staff/halls/{hall}", h.wrap(h.staffHall))
	mux.HandleFunc("PUT /api/v1/staff/halls/{hall}", h.wrap(h.putHall))
	mux.HandleFunc("GET /api/v1/staff/halls/{hall}/bookings", h.wrap(h.report))
	mux.HandleFunc("PUT /api/v1/staff/catalog", h.wrap(h.putCatalog))
	addSuperviseRoutes(mux, h) // supervise.go
	return mux
}

type routeMap map[string]http.Handler

func (m routeMap) HandleFunc(pattern string, f http.HandlerFunc) { m[pattern] = f }

type api struct {
	s *Service
	a Authenticator
}

// reply is what a route answers: a status and a JSON body, or raw bytes.
type reply struct {
	status int
	body   any
	raw    []byte
	ctype  string
	file   string // with raw: a download of this name (Content-Disposition)
}

func (h *api) wrap(f func(r *http.Request) (reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rep, err := f(r)
		if err != nil {
			e := asError(err)
			if e.Code == Unavailable || e.Code == Internal {
				h.s.log.Error("booking api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeJSON(w, Status(e.Code), map[string]any{"error": e})
			return
		}
		if rep.raw != nil {
			w.Header().Set("Content-Type", rep.ctype)
			w.Header().Set("Cache-Control", "no-store")
			if rep.file != "" {
				w.Header().Set("Content-Disposition", `attachment; filename="`+rep.file+`"`)
			}
			w.WriteHeader(rep.status)
			_, _ = w.Write(rep.raw)
			return
		}
		writeJSON(w, rep.status, rep.body)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func ok(v any) (reply, error) { return reply{status: http.StatusOK, body: v}, nil }

const maxBody = 1 << 20

// decode reads exactly one JSON object of v's shape: unknown fields and
// trailing data are refused, naming what is wrong.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return refuse(Invalid, ReasonBadJSON, "the body could not be read")
	}
	if len(body) > maxBody {
		return refuse(Invalid, ReasonBadJSON, "the body is larger than %d bytes", maxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, found := strings.CutPrefix(err.Error(), "json: unknown field "); found {
			return refuse(Invalid, ReasonUnknownField, "unknown field %s", f)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return refuse(Invalid, ReasonBadJSON, "field %q must be %s", te.Field, te.Type)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return refuse(Invalid, ReasonBadField, "a time must be RFC 3339, e.g. 2026-11-27T09:30:00+08:00")
		}
		return refuse(Invalid, ReasonBadJSON, "the body is not a JSON object of the documented shape: %v", err)
	}
	if dec.More() {
		return refuse(Invalid, ReasonBadJSON, "the body holds more than one JSON value")
	}
	return nil
}

func (h *api) principal(r *http.Request) (*auth.Principal, error) {
	p, err := h.a.Request(r)
	if errors.Is(err, auth.ErrNoToken) {
		return nil, refuse(Unauthorized, ReasonNoToken, "sign in first: send Authorization: Bearer <ID token>")
	}
	if err != nil {
		return nil, refuse(Unauthorized, ReasonBadToken, "the token is refused: %v", err)
	}
	return p, nil
}

func (h *api) citizen(r *http.Request) (auth.Citizen, error) {
	p, err := h.principal(r)
	if err != nil {
		return auth.Citizen{}, err
	}
	if p.Citizen == nil {
		return auth.Citizen{}, refuse(Forbidden, ReasonNotCitizen, "bookings are made by citizens signed in with their ID number")
	}
	return *p.Citizen, nil
}

func (h *api) staff(r *http.Request, hall string) (*auth.Principal, error) {
	p, err := h.principal(r)
	if err != nil {
		return nil, err
	}
	if p.Role == "" || (hall != "" && !p.MayManage(hall)) {
		return nil, refuse(Forbidden, ReasonNotStaff, "this needs a province admin or the supervisor of hall %s", hall)
	}
	return p, nil
}

// ---- public ----

func (h *api) catalog(r *http.Request) (reply, error) {
	c, err := h.s.Catalog.Current(r.Context())
	if err != nil {
		return reply{}, err
	}
	return ok(c)
}

// SlotsReply is the body of GET /api/v1/halls/{hall}/slots.
type SlotsReply struct {
	Hall    string     `json:"hall"`
	Service string     `json:"service"`
	Day     string     `json:"day,omitempty"`
	Slots   []SlotView `json:"slots"`
}

func (h *api) slots(r *http.Request) (reply, error) {
	hall, q := r.PathValue("hall"), r.URL.Query()
	service, day := q.Get("service"), q.Get("day")
	if service == "" {
		return reply{}, refuse(Invalid, ReasonBadField, "service is required, e.g. ?service=B")
	}
	var (
		vs  []SlotView
		err error
	)
	if day == "" {
		vs, err = h.s.NextFree(r.Context(), hall, service, 10)
	} else {
		vs, err = h.s.Slots(r.Context(), hall, service, day)
	}
	if err != nil {
		return reply{}, err
	}
	return ok(SlotsReply{Hall: hall, Service: service, Day: day, Slots: vs})
}

// BookingHall is a hall that takes bookings, as GET /api/v1/booking-halls
// lists it: its name and zone, its bookable services and, with ?service=,
// that service's next free slots.
type BookingHall struct {
	ID        string       `json:"id"`
	Name      catalog.Text `json:"name"`
	Zone      string       `json:"zone"`
	Services  []string     `json:"services"`
	NextSlots []SlotView   `json:"next_slots,omitempty"`
}

func (h *api) bookingHalls(r *http.Request) (reply, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "service" {
			return reply{}, refuse(Invalid, ReasonBadField, "unknown query parameter %q: this route takes service", k)
		}
	}
	service := q.Get("service")
	all, err := h.s.Halls.List(r.Context())
	if err != nil {
		return reply{}, err
	}
	out := []BookingHall{}
	for _, x := range all {
		bh := BookingHall{ID: x.ID, Name: x.Name, Zone: x.Calendar.Zone, Services: []string{}}
		for sv := range x.Capacity {
			bh.Services = append(bh.Services, sv)
		}
		slices.Sort(bh.Services)
		if service != "" {
			if !slices.Contains(bh.Services, service) {
				continue
			}
			if bh.NextSlots, err = h.s.NextFree(r.Context(), x.ID, service, 3); err != nil {
				return reply{}, err
			}
		}
		out = append(out, bh)
	}
	return ok(map[string]any{"halls": out})
}

// ---- citizen ----

func (h *api) book(r *http.Request) (reply, error) {
	c, err := h.citizen(r)
	if err != nil {
		return reply{}, err
	}
	var req Request
	if err := decode(r, &req); err != nil {
		return reply{}, err
	}
	idem := r.Header.Get("Idempotency-Key")
	if len(idem) > 128 || strings.ContainsFunc(idem, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return reply{}, refuse(Invalid, ReasonBadField, "Idempotency-Key must be at most 128 printable characters")
	}
	res, err := h.s.Book(r.Context(), c, req, idem)
	if err != nil {
		return reply{}, err
	}
	res.Booking = res.Booking.Public()
	st := http.StatusCreated
	if res.Replay {
		st = http.StatusOK
	}
	return reply{status: st, body: res}, nil
}

// MineReply is the body of GET /api/v1/bookings.
type MineReply struct {
	Bookings []Booking `json:"bookings"`
	Warning  *Warning  `json:"warning,omitempty"`
}

func (h *api) mine(r *http.Request) (reply, error) {
	c, err := h.citizen(r)
	if err != nil {
		return reply{}, err
	}
	bs, w, err := h.s.Mine(r.Context(), c)
	if err != nil {
		return reply{}, err
	}
	return ok(MineReply{Bookings: bs, Warning: w})
}

func (h *api) one(r *http.Request) (reply, error) {
	c, err := h.citizen(r)
	if err != nil {
		return reply{}, err
	}
	id, ics := strings.CutSuffix(r.PathValue("id"), ".ics")
	b, _, err := h.s.Get(r.Context(), c, id)
	if err != nil {
		return reply{}, err
	}
	if ics {
		cal, err := h.s.ICS(r.Context(), b)
		if err != nil {
			return reply{}, err
		}
		return reply{status: http.StatusOK, raw: cal, ctype: "text/calendar; charset=utf-8", file: b.ID + ".ics"}, nil
	}
	return ok(b.Public())
}

func (h *api) cancel(r *http.Request) (reply, error) {
	c, err := h.citizen(r)
	if err != nil {
		return reply{}, err
	}
	b, err := h.s.Cancel(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return reply{}, err
	}
	return ok(b)
}

// RescheduleRequest is the body of POST /api/v1/bookings/{id}/reschedule.
type RescheduleRequest struct {
	SlotStart time.Time `json:"slot_start"`
}

func (h *api) reschedule(r *http.Request) (reply, error) {
	c, err := h.citizen(r)
	if err != nil {
		return reply{}, err
	}
	var req RescheduleRequest
	if err := decode(r, &req); err != nil {
		return reply{}, err
	}
	if req.SlotStart.IsZero() {
		return reply{}, refuse(Invalid, ReasonBadField, "slot_start is required (RFC 3339)")
	}
	b, err := h.s.Reschedule(r.Context(), c, r.PathValue("id"), req.SlotStart)
	if err != nil {
		return reply{}, err
	}
	return ok(b)
}

// ---- staff ----

func (h *api) staffHalls(r *http.Request) (reply, error) {
	p, err := h.staff(r, "")
	if err != nil {
		return reply{}, err
	}
	all, err := h.s.Halls.List(r.Context())
	if err != nil {
		return reply{}, err
	}
	out := []calendars.Hall{}
	for _, x := range all {
		if p.MayManage(x.ID) {
			out = append(out, x)
		}
	}
	return ok(map[string]any{"halls": out})
}

func (h *api) staffHall(r *http.Request) (reply, error) {
	id := r.PathValue("hall")
	if _, err := h.staff(r, id); err != nil {
		return reply{}, err
	}
	x, err := h.s.Halls.Get(r.Context(), id)
	if errors.Is(err, calendars.ErrUnknownHall) {
		return reply{}, refuse(NotFound, ReasonUnknownHall, "there is no hall %q", id)
	}
	if err != nil {
		return reply{}, err
	}
	return ok(x)
}

// PutHallReply is the body of PUT /api/v1/staff/halls/{hall}.
type PutHallReply struct {
	Hall      calendars.Hall `json:"hall"`
	Cancelled int            `json:"cancelled"` // bookings cancelled because their slot is gone
}

func (h *api) putHall(r *http.Request) (reply, error) {
	id := r.PathValue("hall")
	p, err := h.staff(r, id)
	if err != nil {
		return reply{}, err
	}
	var x calendars.Hall
	if err := decode(r, &x); err != nil {
		return reply{}, err
	}
	if x.ID == "" {
		x.ID = id
	}
	if x.ID != id {
		return reply{}, refuse(Invalid, ReasonBadField, "id %q differs from the hall in the path (%s)", x.ID, id)
	}
	if x.Revision == 0 && p.Role != auth.RoleProvinceAdmin {
		return reply{}, refuse(Forbidden, ReasonNotStaff, "only a province admin adds a hall")
	}
	var before any
	if old, err := h.s.Halls.Get(r.Context(), id); err == nil {
		before = old
	}
	stored, n, err := h.s.PutHall(r.Context(), x)
	if err != nil {
		return reply{}, err
	}
	if err := h.s.record(r.Context(), p, audit.HallSaved, id, id, "", r.Header.Get("Idempotency-Key"), before,
		map[string]any{"hall": stored, "cancelled": n}); err != nil {
		return reply{}, err
	}
	return ok(PutHallReply{Hall: stored, Cancelled: n})
}

func (h *api) report(r *http.Request) (reply, error) {
	id := r.PathValue("hall")
	if _, err := h.staff(r, id); err != nil {
		return reply{}, err
	}
	q := r.URL.Query()
	rep, err := h.s.DayReport(r.Context(), id, q.Get("day"))
	if err != nil {
		return reply{}, err
	}
	switch q.Get("format") {
	case "", "json":
		return ok(rep)
	case "csv":
		return reply{status: http.StatusOK, raw: reportCSV(rep), ctype: "text/csv; charset=utf-8"}, nil
	}
	return reply{}, refuse(Invalid, ReasonBadField, "format must be json or csv")
}

// reportCSV writes a report as CSV (UTF-8 with a byte-order mark, so
// spreadsheet programs read the Chinese), one booking a row; cells that
// a spreadsheet would take for a formula are quoted with a leading '.
func reportCSV(rep Report) []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"hall", "day", "booking", "service", "matter", "slot_start", "slot_end", "status", "reason", "masked_id", "ticket"})
	for _, x := range rep.Bookings {
		reason := ""
		if x.Reason != nil {
			reason = x.Reason.ZH
		}
		row := []string{rep.Hall, rep.Day, x.ID, x.Service, x.Matter, x.SlotStart.Format(time.RFC3339), x.SlotEnd.Format(time.RFC3339),
			x.Status, reason, x.MaskedID, x.Ticket}
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				row[i] = "'" + c
			}
		}
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// CatalogRequest is the body of PUT /api/v1/staff/catalog: the whole next
// version, edited from base_version.
type CatalogRequest struct {
	BaseVersion *uint64          `json:"base_version"`
	Matters     []catalog.Matter `json:"matters"`
}

func (h *api) putCatalog(r *http.Request) (reply, error) {
	p, err := h.staff(r, "")
	if err != nil {
		return reply{}, err
	}
	if p.Role != auth.RoleProvinceAdmin {
		return reply{}, refuse(Forbidden, ReasonNotStaff, "only a province admin edits the catalogue")
	}
	var req CatalogRequest
	if err := decode(r, &req); err != nil {
		return reply{}, err
	}
	if req.BaseVersion == nil {
		return reply{}, refuse(Invalid, ReasonBadField, "base_version is required: the version you edited (0 for the first)")
	}
	c, err := h.s.Catalog.Publish(r.Context(), *req.BaseVersion, req.Matters, h.s.cfg.Clock.Now().In(provinceZone())) // shown in the halls' zone
	if errors.Is(err, ccat.ErrChanged) {
		return reply{}, refuse(Conflict, ReasonChanged, "%v", err)
	}
	var inv *ccat.InvalidError
	if errors.As(err, &inv) {
		return reply{}, refuse(Invalid, ReasonBadField, "%v", err).with(fieldOf(err.Error()))
	}
	if err != nil {
		return reply{}, err
	}
	if err := h.s.record(r.Context(), p, audit.CatalogPublished, "", "catalog@"+strconv.FormatUint(c.Version, 10), "", r.Header.Get("Idempotency-Key"),
		map[string]any{"version": *req.BaseVersion}, map[string]any{"version": c.Version, "matters": len(c.Matters)}); err != nil {
		return reply{}, err
	}
	return ok(c)
}

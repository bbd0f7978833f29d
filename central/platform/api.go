package platform

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/internal/catalog"
)

// Error codes of the central's API, as in the hall's.
const (
	CodeInvalid      = "invalid"
	CodeNotFound     = "not_found"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
	CodeMethod       = "method_not_allowed"
)

// Staff roles: of a static staff token here, of an ID token's
// "hallq_role" (central/auth names the same constants), and of the pages
// (booking.CodeGroups writes them into the portal's booking-codes.js).
const (
	RoleProvinceAdmin  = "province_admin"  // every hall
	RoleHallSupervisor = "hall_supervisor" // the halls listed
)

// StaffRoles lists the staff roles in a stable order.
var StaffRoles = []string{RoleProvinceAdmin, RoleHallSupervisor}

// Staff is an authenticated member of the province's staff.
type Staff struct {
	Name  string   `json:"name"`
	Role  string   `json:"role"`
	Halls []string `json:"halls,omitempty"` // hall_supervisor: the halls they may see
}

// CanSee reports whether the staff member may see a hall.
func (s *Staff) CanSee(hallID string) bool {
	return s.Role == RoleProvinceAdmin || s.Role == RoleHallSupervisor && slices.Contains(s.Halls, hallID)
}

// ErrNoCredentials is what an Authenticator returns for a request that
// carries none (401); any other error is a refused credential (401 too).
var ErrNoCredentials = errors.New("no credentials")

// Authenticator says who a staff request comes from. The booking side
// plugs in OpenID Connect; StaticTokens is the simple default.
type Authenticator interface {
	Authenticate(r *http.Request) (*Staff, error)
}

// StaticTokens authenticates "Authorization: Bearer <token>" against a
// file of staff entries holding the SHA-256 of each token:
//
//	{"staff":[{"name":"ops","role":"province_admin","token_sha256":"<hex>"},
//	          {"name":"wuchang","role":"hall_supervisor","halls":["420106-01"],"token_sha256":"<hex>"}]}
type StaticTokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	Staff
	TokenSHA256 string `json:"token_sha256"`
	sum         []byte
}

// LoadTokens reads a static token file.
func LoadTokens(path string) (*StaticTokens, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTokens(data)
}

// ParseTokens parses the static token file's content; every entry must be
// complete and valid.
func ParseTokens(data []byte) (*StaticTokens, error) {
	var f struct {
		Staff []tokenEntry `json:"staff"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("staff tokens: %w", err)
	}
	for i := range f.Staff {
		e := &f.Staff[i]
		sum, err := hex.DecodeString(e.TokenSHA256)
		switch {
		case e.Name == "":
			return nil, fmt.Errorf("staff tokens: entry %d: name is empty", i)
		case e.Role != RoleProvinceAdmin && e.Role != RoleHallSupervisor:
			return nil, fmt.Errorf("staff tokens: %s: role %q is neither %s nor %s", e.Name, e.Role, RoleProvinceAdmin, RoleHallSupervisor)
		case e.Role == RoleHallSupervisor && len(e.Halls) == 0:
			return nil, fmt.Errorf("staff tokens: %s: a hall_supervisor needs halls", e.Name)
		case err != nil || len(sum) != sha256.Size:
			return nil, fmt.Errorf("staff tokens: %s: token_sha256 must be 64 hex digits", e.Name)
		}
		e.sum = sum
	}
	return &StaticTokens{entries: f.Staff}, nil
}

// Authenticate implements Authenticator.
func (s *StaticTokens) Authenticate(r *http.Request) (*Staff, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, ErrNoCredentials
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, errors.New("the Authorization header is not a bearer token")
	}
	sum := sha256.Sum256([]byte(tok))
	for i := range s.entries {
		if subtle.ConstantTimeCompare(sum[:], s.entries[i].sum) == 1 {
			st := s.entries[i].Staff
			return &st, nil
		}
	}
	return nil, errors.New("unknown token")
}

// Slot is a bookable slot with free places, as the booking side reports it.
type Slot struct {
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Free    int       `json:"free"`
}

// SlotSource gives the next free slots of halls for the public hall list
// (the booking side implements it). A nil SlotSource shows none.
type SlotSource interface {
	NextFree(ctx context.Context, halls []string) (map[string][]Slot, error)
}

// HallName is a hall's display name (and district, when known) for the
// public hall list.
type HallName struct {
	Name     catalog.Text `json:"name"`
	District catalog.Text `json:"district,omitzero"`
}

// HallNamer names halls in the public list: a SlotSource that also
// implements it (the booking side keeps each hall's set-up with its name)
// names them; halls it does not know are listed by id only.
type HallNamer interface {
	HallNames(ctx context.Context, halls []string) (map[string]HallName, error)
}

// Route is an extra route for the central's mux.
type Route struct {
	Pattern string // a net/http ServeMux pattern, e.g. "POST /api/v1/bookings"
	Handler http.Handler
}

// ServerOptions configure the central's HTTP API.
type ServerOptions struct {
	Views       *Views
	JS          jetstream.JetStream // for the halls' audit records and HTTPS events (hallaudit_http.go, hallevents_http.go); nil: those routes answer 503
	HallSecrets map[string][]byte   // hall id → HTTPS signing secret, for the HTTPS ingest of events and audit records
	Auth        Authenticator       // nil: staff routes answer 401
	Slots       SlotSource          // nil: no slots in the hall list
	SilentAfter time.Duration       // a hall with windows open and no event for this long is silent; default 10 min
	SLATarget   time.Duration       // a ticket waiting longer breaches the service level; default DefaultSLATarget
	Applier     *Applier            // for /metrics; optional
	Log         *slog.Logger
	Extra       []Route
	Now         func() time.Time
}

// Server is the central's HTTP API. Other parts of the central add their
// routes with Handle (or ServerOptions.Extra) and answer with WriteJSON,
// WriteError and DecodeJSON, so every route speaks one error shape.
type Server struct {
	o     ServerOptions
	mux   *http.ServeMux
	slots atomic.Pointer[SlotSource]    // SetSlots; o.Slots until then
	auth  atomic.Pointer[Authenticator] // SetAuth; o.Auth until then
}

// NewServer returns the API with its routes.
func NewServer(o ServerOptions) *Server {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.SilentAfter == 0 {
		o.SilentAfter = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SLATarget <= 0 {
		o.SLATarget = DefaultSLATarget
	}
	s := &Server{o: o, mux: http.NewServeMux()}
	for _, r := range []Route{
		{"GET /api/v1/halls", s.public(s.listHalls)},
		{"GET /api/v1/tickets/{id}", s.public(s.ticket)},
		{"GET /api/v1/halls/{id}", s.staff(s.hallDetail)},
		{"GET /api/v1/reports", s.staff(s.reports)},
		{"GET /api/v1/alerts", s.staff(s.alerts)},
		{"GET /api/v1/overview", s.staff(s.overview)},             // dash.go
		{"GET /api/v1/reports/summary", s.staff(s.reportSummary)}, // dash.go
		{"GET /metrics", s.public(s.metrics)},
		{"GET /halls", s.public(s.legacyHalls)}, // the v1 reference view's address
		{"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, http.StatusNotFound, CodeNotFound, "no such route: "+r.Method+" "+r.URL.Path)
		})},
	} {
		s.Handle(r.Pattern, r.Handler)
	}
	s.registerAuditRoutes()
	s.registerEventIngestRoutes()
	for _, r := range o.Extra {
		s.Handle(r.Pattern, r.Handler)
	}
	return s
}

// Handle adds a route (a ServeMux pattern with method, e.g.
// "POST /api/v1/bookings").
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// SetSlots makes src the source of the hall list's next free slots (an
// extension started after the server, see Extension).
func (s *Server) SetSlots(src SlotSource) { s.slots.Store(&src) }

// SetAuth makes a the staff routes' authenticator (an extension started
// after the server, e.g. sign-in sessions beside the static tokens: Auth
// gives the one it replaces).
func (s *Server) SetAuth(a Authenticator) { s.auth.Store(&a) }

// Auth is the staff routes' authenticator (nil: none).
func (s *Server) Auth() Authenticator {
	if p := s.auth.Load(); p != nil {
		return *p
	}
	return s.o.Auth
}

func (s *Server) slotSource() SlotSource {
	if p := s.slots.Load(); p != nil {
		return *p
	}
	return s.o.Slots
}

// ServeHTTP implements http.Handler. A method a route does not take is
// answered 405 in the API's error shape, with Allow.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" || pattern == "/" {
		var allow []string
		r2 := r.Clone(r.Context())
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r2.Method = m
			if _, p := s.mux.Handler(r2); p != "" && p != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			WriteError(w, http.StatusMethodNotAllowed, CodeMethod, r.Method+" is not allowed on "+r.URL.Path+" (allowed: "+strings.Join(allow, ", ")+")")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError writes {"error":{"code","message"}}.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// DecodeJSON reads a request body of at most 1 MiB into v, refusing
// unknown fields and trailing data; the error says what is wrong.
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad JSON body: %w", err)
	}
	if dec.More() {
		return errors.New("bad JSON body: data after the object")
	}
	return nil
}

type handler func(w http.ResponseWriter, r *http.Request, who *Staff)

// query checks that a request names only the query parameters allowed.
func query(r *http.Request, allowed ...string) error {
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			if len(allowed) == 0 {
				return fmt.Errorf("unknown query parameter %q: this route takes none", k)
			}
			return fmt.Errorf("unknown query parameter %q (allowed: %s)", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func (s *Server) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(w, r, nil) })
}

func (s *Server) staff(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := s.Auth()
		if a == nil {
			WriteError(w, http.StatusUnauthorized, CodeUnauthorized, "staff sign-in is not configured on this central")
			return
		}
		who, err := a.Authenticate(r)
		if err != nil {
			msg := "a staff bearer token is needed"
			if !errors.Is(err, ErrNoCredentials) {
				msg = "the credentials are refused: " + err.Error()
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="hallq-central"`)
			WriteError(w, http.StatusUnauthorized, CodeUnauthorized, msg)
			return
		}
		h(w, r, who)
	})
}

// HallSummary is one hall in the public list.
type HallSummary struct {
	Hall        string        `json:"hall"`
	Name        *HallName     `json:"name,omitempty"` // when the booking side knows the hall
	Day         string        `json:"day,omitempty"`
	OpenWindows int           `json:"open_windows"`
	Waiting     int           `json:"waiting"`
	Services    []ServiceLive `json:"services"`
	LastEventAt time.Time     `json:"last_event_at,omitzero"`
	Silent      bool          `json:"silent"`
	NextSlots   []Slot        `json:"next_slots,omitempty"`
}

func (s *Server) summary(h *HallState, now time.Time) HallSummary {
	sum := HallSummary{Hall: h.Hall, Day: h.Day, OpenWindows: h.openWindows(), Services: h.services(), LastEventAt: h.LastAt, Silent: h.silent(now, s.o.SilentAfter)}
	for _, l := range h.Waiting {
		sum.Waiting += len(l)
	}
	return sum
}

func (s *Server) listHalls(w http.ResponseWriter, r *http.Request, _ *Staff) {
	if err := query(r); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	now := s.o.Now()
	all := s.o.Views.All()
	out := make([]HallSummary, len(all))
	ids := make([]string, len(all))
	for i, h := range all {
		out[i], ids[i] = s.summary(h, now), h.Hall
	}
	if src := s.slotSource(); src != nil && len(ids) > 0 {
		slots, err := src.NextFree(r.Context(), ids)
		if err != nil {
			s.o.Log.Warn("central: next free slots", "err", err) // the list is still worth showing
		}
		for i := range out {
			out[i].NextSlots = slots[out[i].Hall]
		}
		if nm, ok := src.(HallNamer); ok {
			names, err := nm.HallNames(r.Context(), ids)
			if err != nil {
				s.o.Log.Warn("central: hall names", "err", err)
			}
			for i := range out {
				if n, ok := names[out[i].Hall]; ok {
					out[i].Name = &n
				}
			}
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"halls": out})
}

// TicketStatus is a ticket's public status.
type TicketStatus struct {
	Ticket         string    `json:"ticket"`
	Hall           string    `json:"hall"`
	Day            string    `json:"day"`
	Number         string    `json:"number"`
	Service        string    `json:"service"`
	Status         string    `json:"status"`
	PeopleAhead    *int      `json:"people_ahead"`     // null unless waiting
	EstimatedWaitS *int      `json:"estimated_wait_s"` // null unless waiting with a window open
	Window         int       `json:"window,omitempty"` // called to (or served at) this window
	IssuedAt       time.Time `json:"issued_at"`
	CalledAt       time.Time `json:"called_at,omitzero"`
	// HallLastEventAt is the hall time of the last event the central has
	// of the ticket's hall, and HallSilent whether the hall has windows open
	// but forwarded nothing for the silent-after time: how fresh the
	// status is.
	HallLastEventAt time.Time `json:"hall_last_event_at,omitzero"`
	HallSilent      bool      `json:"hall_silent"`
}

func (s *Server) ticket(w http.ResponseWriter, r *http.Request, _ *Staff) {
	id := r.PathValue("id")
	if err := query(r); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	if !validKey(id) {
		WriteError(w, http.StatusBadRequest, CodeInvalid, "a ticket id is 1–128 letters, digits, '-' or '_'")
		return
	}
	t, err := s.o.Views.Ticket(r.Context(), id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		WriteError(w, http.StatusNotFound, CodeNotFound, "no ticket "+id+" (tickets are kept for their day and a day after)")
		return
	}
	if err != nil {
		s.o.Log.Error("central: ticket status", "err", err)
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the ticket store cannot be read now; try again")
		return
	}
	st := TicketStatus{Ticket: t.ID, Hall: t.Hall, Day: t.Day, Number: t.Number, Service: t.Service, Status: t.Status,
		Window: t.Window, IssuedAt: t.IssuedAt, CalledAt: t.CalledAt}
	h, ok := s.o.Views.Hall(t.Hall)
	if ok {
		st.HallLastEventAt, st.HallSilent = h.LastAt, h.silent(s.o.Now(), s.o.SilentAfter)
	}
	if ok && t.Status == "waiting" {
		if i := slices.IndexFunc(h.Waiting[t.Service], func(w WaitingItem) bool { return w.ID == t.ID }); i >= 0 {
			st.PeopleAhead = &i
			st.EstimatedWaitS = h.estimate(t.Service, i)
		}
	}
	WriteJSON(w, http.StatusOK, st)
}

// HallDetail is the staff view of one hall: its live summary, forwarding
// health, the dedupe counters and today's figures.
type HallDetail struct {
	HallSummary
	Epoch      string    `json:"epoch,omitempty"`
	LastSeq    uint64    `json:"last_seq"`
	Events     uint64    `json:"events"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`
	ApplyLagS  float64   `json:"apply_lag_s"`
	LagS       float64   `json:"lag_s"` // now − last event's hall time
	Duplicates uint64    `json:"duplicates"`
	Gaps       uint64    `json:"gaps"`
	GapRanges  []string  `json:"gap_ranges,omitempty"`
	BadIDs     uint64    `json:"bad_msg_ids"`
	Restores   int       `json:"restores"`
	Superseded uint64    `json:"superseded"`
	Unreadable uint64    `json:"unreadable"`
	// KeySchemeRefused and KeySchemeError: events refused for another
	// citizen-key scheme than the province's (-crypto).
	KeySchemeRefused uint64 `json:"key_scheme_refused,omitempty"`
	KeySchemeError   string `json:"key_scheme_error,omitempty"`
	// Audit is the hall's audit trail as the central received and
	// checked it (hallaudit.go); nil until a record arrived.
	Audit   *AuditHead             `json:"audit,omitempty"`
	Windows []WindowState          `json:"windows"`
	Today   map[string]*ServiceAgg `json:"today"`
	// Issued is today's tickets issued, all services (the v1 view's field).
	Issued int `json:"issued"`
}

func (s *Server) detail(h *HallState, now time.Time) HallDetail {
	d := HallDetail{HallSummary: s.summary(h, now), Epoch: h.Epoch, LastSeq: h.LastSeq, Events: h.Events, AppliedAt: h.AppliedAt,
		ApplyLagS: h.ApplyLagS, Duplicates: h.Duplicates, Gaps: h.Gaps, GapRanges: h.GapRanges, BadIDs: h.BadIDs,
		Restores: h.Restores, Superseded: h.Superseded, Unreadable: h.Unreadable,
		KeySchemeRefused: h.KeySchemeRefused, KeySchemeError: h.KeySchemeError, Windows: []WindowState{}, Today: h.Services}
	if t, ok := s.o.Views.Trail(h.Hall); ok {
		d.Audit = &AuditHead{AuditTrail: *t, Intact: t.Intact(), Summary: t.Summary()}
	}
	if !h.LastAt.IsZero() {
		d.LagS = max(0, now.Sub(h.LastAt).Seconds())
	}
	for _, k := range slices.Sorted(func(yield func(int) bool) {
		for _, w := range h.Windows {
			if !yield(w.Number) {
				return
			}
		}
	}) {
		d.Windows = append(d.Windows, h.Windows[strconv.Itoa(k)])
	}
	if d.Today == nil {
		d.Today = map[string]*ServiceAgg{}
	}
	for _, a := range h.Services {
		d.Issued += a.Issued
	}
	return d
}

func (s *Server) hallDetail(w http.ResponseWriter, r *http.Request, who *Staff) {
	id := r.PathValue("id")
	if err := query(r); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	if !who.CanSee(id) {
		WriteError(w, http.StatusForbidden, CodeForbidden, who.Name+" may not see hall "+id)
		return
	}
	h, ok := s.o.Views.Hall(id)
	if !ok {
		WriteError(w, http.StatusNotFound, CodeNotFound, "no hall "+id+" has forwarded any event")
		return
	}
	WriteJSON(w, http.StatusOK, s.detail(h, s.o.Now()))
}

// legacyHalls is GET /halls of the v1 reference central: every hall's
// detail, unauthenticated, for the demo and the hall's own tests. It
// shows no ticket or citizen data.
func (s *Server) legacyHalls(w http.ResponseWriter, r *http.Request, _ *Staff) {
	now := s.o.Now()
	out := []HallDetail{}
	for _, h := range s.o.Views.All() {
		out = append(out, s.detail(h, now))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"halls": out})
}

// Alert is one thing the province's operators must look at.
type Alert struct {
	Hall   string `json:"hall"`
	Kind   string `json:"kind"` // gap, duplicate, bad_msg_id, superseded, unreadable, key_scheme, restored, audit_broken, silent
	Count  uint64 `json:"count"`
	Detail string `json:"detail,omitempty"`
}

func (s *Server) alertsFor(h *HallState, now time.Time) []Alert {
	var out []Alert
	add := func(kind string, n uint64, detail string) {
		if n > 0 {
			out = append(out, Alert{Hall: h.Hall, Kind: kind, Count: n, Detail: detail})
		}
	}
	add("gap", h.Gaps, strings.Join(h.GapRanges, ","))
	add("duplicate", h.Duplicates, "")
	add("bad_msg_id", h.BadIDs, "")
	add("superseded", h.Superseded, "")
	add("unreadable", h.Unreadable, "")
	add("key_scheme", h.KeySchemeRefused, h.KeySchemeError)
	add("restored", uint64(h.Restores), "epoch "+h.Epoch)
	if t, ok := s.o.Views.Trail(h.Hall); ok && !t.Intact() {
		add("audit_broken", t.Breaks, t.Summary())
	}
	if h.silent(now, s.o.SilentAfter) {
		add("silent", 1, fmt.Sprintf("windows open, no event since %s", h.LastAt.Format(time.RFC3339)))
	}
	return out
}

func (s *Server) alerts(w http.ResponseWriter, r *http.Request, who *Staff) {
	if err := query(r); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	now := s.o.Now()
	out := []Alert{}
	for _, h := range s.o.Views.All() {
		if who.CanSee(h.Hall) {
			out = append(out, s.alertsFor(h, now)...)
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

// ReportRow is one hall, day and service of a report.
type ReportRow struct {
	Hall            string  `json:"hall"`
	Day             string  `json:"day"`
	Service         string  `json:"service"`
	Issued          int     `json:"issued"`
	Served          int     `json:"served"`
	NoShow          int     `json:"no_show"`
	Cancelled       int     `json:"cancelled"`
	MeanWaitS       float64 `json:"mean_wait_s"`
	MeanServiceS    float64 `json:"mean_service_s"`
	Ratings         [6]int  `json:"ratings"` // index 1..5
	BookingsBooked  int     `json:"bookings_booked"`
	BookingsArrived int     `json:"bookings_arrived"`
	BookingsMissed  int     `json:"bookings_missed"`
}

func row(hallID, day, svc string, a *ServiceAgg) ReportRow {
	r := ReportRow{Hall: hallID, Day: day, Service: svc, Issued: a.Issued, Served: a.Served, NoShow: a.NoShow, Cancelled: a.Cancelled,
		Ratings: a.Ratings, BookingsBooked: a.BookingsBooked, BookingsArrived: a.BookingsArrive, BookingsMissed: a.BookingsMissed}
	if a.WaitN > 0 {
		r.MeanWaitS = float64(int(a.WaitSumS/float64(a.WaitN)*10+0.5)) / 10
	}
	if a.ServiceN > 0 {
		r.MeanServiceS = float64(int(a.ServiceSumS/float64(a.ServiceN)*10+0.5)) / 10
	}
	return r
}

func validDay(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

func (s *Server) reports(w http.ResponseWriter, r *http.Request, who *Staff) {
	if err := query(r, "hall", "from", "to", "format"); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	q := r.URL.Query()
	hallID, from, to, format := q.Get("hall"), q.Get("from"), q.Get("to"), q.Get("format")
	switch {
	case hallID == "":
		WriteError(w, http.StatusBadRequest, CodeInvalid, "hall is required")
		return
	case !validKey(hallID):
		WriteError(w, http.StatusBadRequest, CodeInvalid, "hall: not a hall id")
		return
	case !validDay(from):
		WriteError(w, http.StatusBadRequest, CodeInvalid, "from: a day YYYY-MM-DD is required")
		return
	case !validDay(to):
		WriteError(w, http.StatusBadRequest, CodeInvalid, "to: a day YYYY-MM-DD is required")
		return
	case to < from:
		WriteError(w, http.StatusBadRequest, CodeInvalid, "to is before from")
		return
	case format != "" && format != "json" && format != "csv":
		WriteError(w, http.StatusBadRequest, CodeInvalid, "format: json or csv")
		return
	case !who.CanSee(hallID):
		WriteError(w, http.StatusForbidden, CodeForbidden, who.Name+" may not see hall "+hallID)
		return
	}
	rows, err := s.report(r.Context(), hallID, from, to)
	if err != nil {
		s.o.Log.Error("central: report", "err", err)
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the figures cannot be read now; try again")
		return
	}
	if format == "csv" || format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="hallq-%s-%s-%s.csv"`, hallID, from, to))
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"hall", "day", "service", "issued", "served", "no_show", "cancelled", "mean_wait_s", "mean_service_s",
			"rating_1", "rating_2", "rating_3", "rating_4", "rating_5", "bookings_booked", "bookings_arrived", "bookings_missed"})
		for _, x := range rows {
			rec := []string{x.Hall, x.Day, x.Service, strconv.Itoa(x.Issued), strconv.Itoa(x.Served), strconv.Itoa(x.NoShow), strconv.Itoa(x.Cancelled),
				strconv.FormatFloat(x.MeanWaitS, 'f', 1, 64), strconv.FormatFloat(x.MeanServiceS, 'f', 1, 64)}
			for i := 1; i <= 5; i++ {
				rec = append(rec, strconv.Itoa(x.Ratings[i]))
			}
			rec = append(rec, strconv.Itoa(x.BookingsBooked), strconv.Itoa(x.BookingsArrived), strconv.Itoa(x.BookingsMissed))
			_ = cw.Write(rec)
		}
		cw.Flush()
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"hall": hallID, "from": from, "to": to, "rows": rows})
}

// report gathers a hall's rows for days from … to: closed days from
// central_days, the current day from the hall's entry.
func (s *Server) report(ctx context.Context, hallID, from, to string) ([]ReportRow, error) {
	rows := []ReportRow{}
	days := map[string]map[string]*ServiceAgg{}
	lister, err := s.o.Views.b.Days.ListKeysFiltered(ctx, hallID+".*")
	if err != nil {
		return nil, err
	}
	for k := range lister.Keys() {
		day := strings.TrimPrefix(k, hallID+".")
		if day < from || day > to {
			continue
		}
		e, err := s.o.Views.b.Days.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		var d DayAgg
		if err := json.Unmarshal(e.Value(), &d); err != nil {
			return nil, err
		}
		days[day] = d.Services
	}
	if h, ok := s.o.Views.Hall(hallID); ok && h.Day >= from && h.Day <= to && len(h.Services) > 0 {
		days[h.Day] = h.Services
	}
	for _, day := range slices.Sorted(func(yield func(string) bool) {
		for d := range days {
			if !yield(d) {
				return
			}
		}
	}) {
		svcs := days[day]
		for _, svc := range slices.Sorted(func(yield func(string) bool) {
			for s := range svcs {
				if !yield(s) {
					return
				}
			}
		}) {
			rows = append(rows, row(hallID, day, svc, svcs[svc]))
		}
	}
	return rows, nil
}

// metrics serves the Prometheus text format: the dedupe counters per
// hall (an alert rule fires on any gap or duplicate) and this process's
// counters.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, _ *Staff) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	now := s.o.Now()
	all := s.o.Views.All()
	for _, m := range []struct {
		name, help string
		v          func(*HallState) float64
	}{
		{"hallq_central_hall_gaps_total", "Hall sequence numbers never received (events lost).", func(h *HallState) float64 { return float64(h.Gaps) }},
		{"hallq_central_hall_duplicates_total", "Hall events received again after they were applied, dropped.", func(h *HallState) float64 { return float64(h.Duplicates) }},
		{"hallq_central_hall_bad_msg_ids_total", "Events whose Nats-Msg-Id does not match the event.", func(h *HallState) float64 { return float64(h.BadIDs) }},
		{"hallq_central_hall_superseded_total", "Events of a replaced store epoch, dropped.", func(h *HallState) float64 { return float64(h.Superseded) }},
		{"hallq_central_hall_events_total", "Hall events applied.", func(h *HallState) float64 { return float64(h.Events) }},
		{"hallq_central_hall_lag_seconds", "Now minus the hall time of the hall's last event.", func(h *HallState) float64 {
			if h.LastAt.IsZero() {
				return 0
			}
			return max(0, now.Sub(h.LastAt).Seconds())
		}},
		{"hallq_central_hall_silent", "1 when the hall has windows open and has sent nothing for the silent period.", func(h *HallState) float64 {
			if h.silent(now, s.o.SilentAfter) {
				return 1
			}
			return 0
		}},
	} {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, map[bool]string{true: "counter", false: "gauge"}[strings.HasSuffix(m.name, "_total")])
		for _, h := range all {
			fmt.Fprintf(w, "%s{hall=%q} %g\n", m.name, h.Hall, m.v(h))
		}
	}
	if a := s.o.Applier; a != nil {
		st := a.Stats()
		fmt.Fprintf(w, "# HELP hallq_central_applied_total Hall messages judged and committed by this process.\n# TYPE hallq_central_applied_total counter\nhallq_central_applied_total %d\n", st.Applied)
		fmt.Fprintf(w, "# HELP hallq_central_cas_conflicts_total Hall entries another process had changed first.\n# TYPE hallq_central_cas_conflicts_total counter\nhallq_central_cas_conflicts_total %d\n", st.Conflicts)
		fmt.Fprintf(w, "# HELP hallq_central_partitions Hall partitions this process applies.\n# TYPE hallq_central_partitions gauge\nhallq_central_partitions %d\n", st.Partitions)
	}
}

package workorders

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"hallq/central/platform"
)

// Routes are the work-order routes by ServeMux pattern; auth is asked
// for the staff member on every request (the process's current
// authenticator, platform.Server.Auth):
//
//	GET  /api/v1/staff/workorders?status=&hall=     staff: their halls' orders
//	GET  /api/v1/staff/workorders/alerts            staff: their halls' overdue orders
//	GET  /api/v1/staff/workorders/{id}              staff of the order's hall
//	POST /api/v1/staff/workorders/{id}/followup     staff of the order's hall: a 回访 record
//	POST /api/v1/staff/workorders/{id}/close        staff of the order's hall, after a follow-up
func Routes(s *Service, auth func() platform.Authenticator) map[string]http.Handler {
	h := &api{s: s, auth: auth}
	return map[string]http.Handler{
		"GET /api/v1/staff/workorders":                h.wrap(h.list),
		"GET /api/v1/staff/workorders/alerts":         h.wrap(h.alerts),
		"GET /api/v1/staff/workorders/{id}":           h.wrap(h.one),
		"POST /api/v1/staff/workorders/{id}/followup": h.wrap(h.followUp),
		"POST /api/v1/staff/workorders/{id}/close":    h.wrap(h.close),
	}
}

type api struct {
	s    *Service
	auth func() platform.Authenticator
}

func (h *api) wrap(f func(r *http.Request, who *platform.Staff) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := h.auth()
		if a == nil {
			platform.WriteError(w, http.StatusUnauthorized, platform.CodeUnauthorized, "staff sign-in is not configured on this central")
			return
		}
		who, err := a.Authenticate(r)
		if err != nil {
			msg := "sign in as province staff first"
			if !errors.Is(err, platform.ErrNoCredentials) {
				msg = "the credentials are refused: " + err.Error()
			}
			platform.WriteError(w, http.StatusUnauthorized, platform.CodeUnauthorized, msg)
			return
		}
		v, err := f(r, who)
		var rf *Refusal
		switch {
		case errors.As(err, &rf):
			platform.WriteJSON(w, rf.Status, map[string]any{"error": rf})
		case err != nil:
			h.s.log.Error("workorders api", "method", r.Method, "path", r.URL.Path, "err", err)
			platform.WriteError(w, http.StatusServiceUnavailable, platform.CodeUnavailable, "the work orders cannot be read or written now; try again")
		default:
			platform.WriteJSON(w, http.StatusOK, v)
		}
	})
}

func (h *api) visible(who *platform.Staff, hallFilter string) (func(string) bool, error) {
	if hallFilter != "" && !who.CanSee(hallFilter) {
		return nil, refuse(403, platform.CodeForbidden, ReasonNotYours, "hall", "hall %s is not one of yours", hallFilter)
	}
	return func(hall string) bool { return who.CanSee(hall) && (hallFilter == "" || hall == hallFilter) }, nil
}

func (h *api) list(r *http.Request, who *platform.Staff) (any, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "status" && k != "hall" {
			return nil, refuse(400, platform.CodeInvalid, ReasonBadField, k, "unknown query parameter %q (allowed: status, hall)", k)
		}
	}
	st := q.Get("status")
	if st != "" && st != Open && st != FollowedUp && st != Closed && st != "overdue" {
		return nil, refuse(400, platform.CodeInvalid, ReasonBadField, "status", "status must be open, followed_up, closed or overdue")
	}
	may, err := h.visible(who, q.Get("hall"))
	if err != nil {
		return nil, err
	}
	l, err := h.s.List(r.Context(), may)
	if err != nil {
		return nil, err
	}
	out := []Order{}
	for _, o := range l {
		if st == "" || o.Status == st || st == "overdue" && o.Overdue {
			out = append(out, o)
		}
	}
	return map[string]any{"orders": out, "working_days": h.s.cfg.WorkingDays}, nil
}

// Alert is an overdue order as an alert.
type Alert struct {
	Kind    string `json:"kind"` // "workorder_overdue"
	Hall    string `json:"hall"`
	Order   string `json:"order"`
	Due     string `json:"due"`
	Message string `json:"message"`
}

func (h *api) alerts(r *http.Request, who *platform.Staff) (any, error) {
	l, err := h.s.List(r.Context(), func(hall string) bool { return who.CanSee(hall) })
	if err != nil {
		return nil, err
	}
	out := []Alert{}
	for _, o := range l {
		if o.Overdue {
			out = append(out, Alert{Kind: "workorder_overdue", Hall: o.Hall, Order: o.ID, Due: o.Due,
				Message: "work order " + o.ID + " (ticket " + o.Number + ", score " + strconv.Itoa(o.Score) + ") was due " + o.Due})
		}
	}
	return map[string]any{"alerts": out}, nil
}

func (h *api) mine(ctx context.Context, who *platform.Staff, id string) (Order, error) {
	o, err := h.s.Get(ctx, id)
	if err != nil {
		return Order{}, err
	}
	if !who.CanSee(o.Hall) {
		return Order{}, refuse(403, platform.CodeForbidden, ReasonNotYours, "", "work order %s belongs to hall %s, not one of yours", id, o.Hall)
	}
	return o, nil
}

func (h *api) one(r *http.Request, who *platform.Staff) (any, error) {
	return h.mine(r.Context(), who, r.PathValue("id"))
}

func decode(r *http.Request, v any) error {
	if err := platform.DecodeJSON(r, v); err != nil {
		field := ""
		if f, ok := strings.CutPrefix(err.Error(), "bad JSON body: json: unknown field "); ok {
			field = strings.Trim(f, `"`)
		}
		return refuse(400, platform.CodeInvalid, ReasonBadJSON, field, "%v", err)
	}
	return nil
}

func (h *api) followUp(r *http.Request, who *platform.Staff) (any, error) {
	id := r.PathValue("id")
	if _, err := h.mine(r.Context(), who, id); err != nil {
		return nil, err
	}
	var f FollowUpRequest
	if err := decode(r, &f); err != nil {
		return nil, err
	}
	return h.s.AddFollowUp(r.Context(), Who{Name: who.Name, Role: who.Role}, id, f, r.Header.Get("Idempotency-Key"))
}

func (h *api) close(r *http.Request, who *platform.Staff) (any, error) {
	id := r.PathValue("id")
	if _, err := h.mine(r.Context(), who, id); err != nil {
		return nil, err
	}
	var c CloseRequest
	if err := decode(r, &c); err != nil {
		return nil, err
	}
	return h.s.Close(r.Context(), Who{Name: who.Name, Role: who.Role}, id, c, r.Header.Get("Idempotency-Key"))
}

// Extension wires work orders into a central process: the consumer of
// the halls' ratings and the routes, behind the process's staff
// authenticator (static tokens, or the staff sign-in session once the
// booking extension sets it).
func Extension() platform.Extension { return &extension{} }

type extension struct{ days int }

func (e *extension) Flags(fs *flag.FlagSet) {
	fs.IntVar(&e.days, "workorder-days", DefaultWorkingDays, "working days (on the hall's calendar) to close a work order from a poor rating")
}

func (e *extension) Start(ctx context.Context, p *platform.Process, log *slog.Logger) error {
	s, err := New(ctx, Config{JS: p.JS, Replicas: p.Replicas(), WorkingDays: e.days, Log: log.With("part", "workorders")})
	if err != nil {
		return err
	}
	go func() {
		if err := s.Follow(ctx); err != nil && ctx.Err() == nil {
			log.Error("workorders: following the halls' ratings stopped", "err", err)
		}
	}()
	for pattern, h := range Routes(s, p.API.Auth) {
		p.API.Handle(pattern, h)
	}
	log.Info("work orders from poor ratings served", "working_days", s.cfg.WorkingDays)
	return nil
}

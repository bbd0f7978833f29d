package rating

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"time"

	"hallq/central/platform"
	"hallq/queue-server/hall"
)

const codeConflict = "conflict"

// Level is one of the five levels as the rating page offers it.
type Level struct {
	Score   int                    `json:"score"`
	Label   hall.Text              `json:"label"`
	Low     bool                   `json:"low"` // a reason (an option or a few words) is required
	Options []hall.IndicatorOption `json:"options"`
}

// Levels are the five levels, 5 (very satisfied) first.
func Levels() []Level {
	out := make([]Level, 0, 5)
	for s := 5; s >= 1; s-- {
		out = append(out, Level{Score: s, Label: hall.RatingLabels[s], Low: hall.Low(s), Options: hall.IndicatorOptions(s)})
	}
	return out
}

// Routes are the public rating routes by ServeMux pattern. The ticket id
// (the printed ticket's QR code) is the credential, as for the ticket's
// status: whoever holds the ticket may rate its visit, once.
func Routes(s *Service) map[string]http.Handler {
	return map[string]http.Handler{
		"GET /api/v1/ratings/{ticket}":  http.HandlerFunc(s.serveGet),
		"POST /api/v1/ratings/{ticket}": http.HandlerFunc(s.servePost),
	}
}

func writeErr(w http.ResponseWriter, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) {
		log.Error("rating: store", "err", err)
		e = &Error{Status: http.StatusServiceUnavailable, Code: platform.CodeUnavailable, Message: "the ratings cannot be read or written now; please try again"}
	}
	body := map[string]any{"code": e.Code, "message": e.Message}
	if e.Reason != "" {
		body["reason"] = e.Reason
	}
	if e.Details != nil {
		body["details"] = e.Details
	}
	platform.WriteJSON(w, e.Status, map[string]any{"error": body})
}

func noQuery(r *http.Request) error {
	for k := range r.URL.Query() {
		return refuse(400, platform.CodeInvalid, "", "unknown query parameter %q: this route takes none", k)
	}
	return nil
}

func (s *Service) serveGet(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		writeErr(w, s.c.Log, err)
		return
	}
	rec, err := s.Get(r.Context(), r.PathValue("ticket"))
	if err != nil {
		writeErr(w, s.c.Log, err)
		return
	}
	platform.WriteJSON(w, http.StatusOK, map[string]any{"rating": rec, "levels": Levels()})
}

func (s *Service) servePost(w http.ResponseWriter, r *http.Request) {
	if err := noQuery(r); err != nil {
		writeErr(w, s.c.Log, err)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 128 {
		writeErr(w, s.c.Log, refuse(400, platform.CodeInvalid, "", "Idempotency-Key is longer than 128 characters"))
		return
	}
	var req Request
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		msg := "bad JSON body: want {\"score\":1-5,\"indicators\":[…],\"reason\":\"…\"}"
		if err != nil {
			msg += ": " + err.Error()
		}
		writeErr(w, s.c.Log, refuse(400, platform.CodeInvalid, "", "%s", msg))
		return
	}
	rec, created, err := s.Rate(r.Context(), r.PathValue("ticket"), req, key)
	if err != nil {
		writeErr(w, s.c.Log, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusAccepted // on its way to the hall, which has the last word
	}
	platform.WriteJSON(w, status, map[string]any{"rating": rec})
}

// Extension wires online ratings into a central process: the bucket, the
// consumer of the halls' ratings and the routes.
func Extension() platform.Extension { return ext{} }

type ext struct{}

func (ext) Flags(*flag.FlagSet) {}

func (ext) Start(ctx context.Context, p *platform.Process, log *slog.Logger) error {
	log = log.With("part", "ratings")
	svc, err := New(ctx, Config{JS: p.JS, Views: p.Views, Replicas: p.Replicas(), Log: log})
	if err != nil {
		return err
	}
	go svc.Run(ctx)
	for pattern, h := range Routes(svc) {
		p.API.Handle(pattern, h)
	}
	log.Info("online ratings served")
	return nil
}

// Run follows the halls' ratings until ctx ends, starting again after a
// pause whenever the consumer stops (NATS unreachable).
func (s *Service) Run(ctx context.Context) {
	for ctx.Err() == nil {
		if err := s.Follow(ctx); err != nil && ctx.Err() == nil {
			s.c.Log.Warn("rating: following the halls' ratings stopped; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

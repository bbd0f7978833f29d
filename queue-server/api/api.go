// Package api serves the hall over HTTP: the REST API, the websocket event
// stream and request channel, and the health endpoint. Every REST route and
// websocket request names one operation of a single table (ops.go) that
// says which roles may run it, so authorization is decided in one place.
// It is the only package that imports gorilla/websocket on the server side.
package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// Principal is an authenticated caller.
type Principal struct {
	TokenID string
	Name    string
	Role    string // "" for anonymous
	Window  int    // clerks: the window they are bound to
	Session bool   // the credential is a password session (it may log out)
}

// Observer receives what the API sees, for metrics. All methods may be
// called from any goroutine; a nil Observer is fine.
type Observer interface {
	WSClients(n int)
}

// API serves one hall.
type API struct {
	svc     *hall.Service
	store   *store.Store
	secret  []byte
	log     *slog.Logger
	hub     *hub
	extra   map[string]func() any // health details, by name
	mux     *http.ServeMux
	started time.Time
	version string
	now     func() time.Time
	resend  func(ctx context.Context, first uint64) error
}

// Options configure an API.
type Options struct {
	Service  *hall.Service
	Store    *store.Store
	Secret   []byte // citizen-key secret
	Logger   *slog.Logger
	Observer Observer
	Version  string
	// Pages, when set, serves the web faces (display board, console, …)
	// under the root; the API keeps /api, /ws, /healthz.
	Pages http.Handler
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Health adds named details to /healthz (e.g. forwarding backlog); a
	// detail with a Degraded() bool method that returns true marks the
	// whole hall degraded.
	Health map[string]func() any
	// Resend, when set, posts a dead letter (a batch the central refused,
	// by its first seq) again: the forwarder's Resend.
	Resend func(ctx context.Context, first uint64) error
}

// New builds the API. Call OnCommit from the hall service's commit hook and
// Close when done.
func New(o Options) *API {
	a := &API{svc: o.Service, store: o.Store, secret: o.Secret, log: o.Logger, extra: o.Health,
		started: time.Now(), version: o.Version, now: time.Now, resend: o.Resend}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a.hub = newHub(a, o.Observer)
	a.routes(o.Pages, o.Metrics)
	return a
}

// OnCommit hands committed events to the websocket hub. It never blocks
// for long: slow clients are dropped, not waited for.
func (a *API) OnCommit(events []hall.Event) { a.hub.publish(events) }

// Devices returns the kiosks' last device reports.
func (a *API) Devices() []wire.DeviceHealth { return a.hub.devices() }

// Close disconnects every websocket client.
func (a *API) Close() { a.hub.close() }

// ServeHTTP serves the whole hall site.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) routes(pages, metrics http.Handler) {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", a.healthz)
	if metrics != nil {
		m.Handle("GET /metrics", metrics)
	}
	m.HandleFunc("GET /ws", a.serveWS)
	for _, rt := range restRoutes {
		m.HandleFunc(rt.pattern, a.rest(rt.op))
	}
	m.HandleFunc("GET /api/v1/backup", a.backup)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, hall.Errorf(hall.NotFound, "no API route %s %s", r.Method, r.URL.Path))
	})
	if pages != nil {
		m.Handle("/", securityHeaders(pages))
	}
	a.mux = m
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'")
		h.ServeHTTP(w, r)
	})
}

func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	_, err := a.svc.Seq(r.Context())
	body := map[string]any{"status": "ok", "version": a.version, "uptime_s": int(time.Since(a.started).Seconds())}
	for name, fn := range a.extra {
		v := fn()
		body[name] = v
		if d, ok := v.(interface{ Degraded() bool }); ok && d.Degraded() {
			body["status"] = "degraded" // reads still served; changes refused
		}
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusServiceUnavailable
		body["status"], body["error"] = "unavailable", err.Error()
	}
	writeJSON(w, status, body)
}

// authenticate resolves the bearer token (or the one given in a websocket
// hello). An empty token is the anonymous principal.
func (a *API) authenticate(token string) (Principal, error) {
	if token == "" {
		return Principal{}, nil
	}
	t, err := a.store.LookupToken(token)
	switch {
	case errors.Is(err, store.ErrNoToken):
		return Principal{}, hall.Errorf(hall.Unauthorized, "unknown token")
	case err != nil:
		return Principal{}, hall.Errorf(hall.Unavailable, "cannot check the token: %v", err)
	case t.Revoked:
		return Principal{}, hall.Errorf(hall.Unauthorized, "this token was revoked")
	case !t.Expires.IsZero() && a.now().After(t.Expires):
		return Principal{}, hall.Errorf(hall.Unauthorized, "this token has expired")
	}
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, Window: t.Window, Session: t.Session}, nil
}

// clientIP is the address the request came from (the hall server faces the
// hall LAN directly; no proxy header is trusted).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if v, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	return ""
}

// NewToken creates a random token, stores its hash, and returns the value.
func NewToken(s *store.Store, name, role string, window int, ttl time.Duration) (wire.TokenCreated, error) {
	return newToken(s, store.Token{Name: name, Role: role, Window: window}, ttl)
}

// newToken stores t (name, role, window, session) under a new random value.
func newToken(s *store.Store, t store.Token, ttl time.Duration) (wire.TokenCreated, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return wire.TokenCreated{}, err
	}
	value := "hq_" + hex.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(value))
	t.ID, t.Created = hex.EncodeToString(sum[:6]), time.Now()
	if ttl > 0 {
		t.Expires = t.Created.Add(ttl)
	}
	if err := s.PutToken(value, t); err != nil {
		return wire.TokenCreated{}, err
	}
	return wire.TokenCreated{ID: t.ID, Token: value, Name: t.Name, Role: t.Role}, nil
}

// ---- REST plumbing ----

const maxBody = 64 << 10

func (a *API) rest(opName string) http.HandlerFunc {
	op := ops[opName]
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(bearer(r))
		if err != nil {
			writeError(w, err)
			return
		}
		params := map[string]string{}
		for _, name := range op.pathParams {
			params[name] = r.PathValue(name)
		}
		for k, v := range r.URL.Query() {
			if _, taken := params[k]; !taken && len(v) > 0 {
				params[k] = v[0]
			}
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, hall.Errorf(hall.Invalid, "request body too large (limit %d bytes)", maxBody))
			return
		}
		c := &call{ctx: r.Context(), a: a, p: p, ip: clientIP(r), params: params, body: body, idem: r.Header.Get("Idempotency-Key")}
		status, v, err := a.run(op, c)
		if err != nil {
			writeError(w, err)
			return
		}
		if csv, ok := v.(csvBody); ok {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", csv.name))
			w.WriteHeader(status)
			w.Write(csv.data)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// HTTPStatus maps an error code to its HTTP status.
func HTTPStatus(c hall.Code) int {
	switch c {
	case hall.Invalid:
		return http.StatusBadRequest
	case hall.NotFound:
		return http.StatusNotFound
	case hall.Conflict, hall.Closed:
		return http.StatusConflict
	case hall.QuotaExceeded:
		return http.StatusTooManyRequests
	case hall.Unauthorized:
		return http.StatusUnauthorized
	case hall.Forbidden:
		return http.StatusForbidden
	case hall.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func toWire(err error) *wire.Error {
	var he *hall.Error
	if errors.As(err, &he) {
		return &wire.Error{Code: he.Code, Reason: he.Reason, Message: he.Message}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &wire.Error{Code: hall.Unavailable, Message: "the request was cancelled or timed out"}
	}
	return &wire.Error{Code: hall.Internal, Message: "internal error"}
}

func writeError(w http.ResponseWriter, err error) {
	e := toWire(err)
	if e.Code == hall.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hallq"`)
	}
	writeJSON(w, HTTPStatus(e.Code), wire.ErrorBody{Error: *e})
}

func (a *API) backup(w http.ResponseWriter, r *http.Request) {
	p, err := a.authenticate(bearer(r))
	if err == nil && p.Role != wire.RoleAdmin {
		err = forbidden(p)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=\"hall-%s.db\"", time.Now().Format("20060102-150405")))
	if _, err := a.store.Backup(w); err != nil {
		a.log.Error("backup failed", "err", err)
	}
}

func forbidden(p Principal) error {
	if p.Role == "" {
		return hall.Errorf(hall.Unauthorized, "this needs a token (Authorization: Bearer …)")
	}
	return hall.Errorf(hall.Forbidden, "role %s may not do this", p.Role)
}

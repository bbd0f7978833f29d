// Package api serves the hall over HTTP: the REST API, the websocket event
// stream and request channel, and the health endpoint.
//
// Every operation is one entry of a single table (table, in ops.go): its
// name (what a websocket request names), its REST route, the roles that
// may run it and its handler, side by side. Both the REST routes and the
// websocket resolve from it, so authorization is decided in one place
// (authz.go). The handlers live by resource: tickets.go (tickets,
// check-in, leases, hand-overs), remote.go (remote tickets), windows.go,
// events.go, bookings.go (bookings and the blacklist), tokens.go,
// users.go (accounts, login), reports.go, alerts.go, config.go
// (configuration, the day, backup, dead letters) and devices.go. ws.go is the websocket: the hub owns only its clients and the
// broadcast; the per-address limit of remote tickets (remoteLimiter) and
// the kiosks' device reports (deviceReports) are their own small types.
//
// An internal failure (an error that is no hall.Error, or one that keeps
// what failed underneath as its cause) is logged once, where it becomes a
// response (API.failed), with its cause; the client reads only its code
// and message.
//
// openapi.json is the contract of all of it, served at
// /api/v1/openapi.json; apispec holds the tests to it. An idempotency key
// is bound to its request's fingerprint (operation, target, body), and the
// requests of one websocket connection are applied in the order sent.
// It is the only package that imports gorilla/websocket on the server side.
package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// Principal is an authenticated caller.
type Principal struct {
	TokenID string
	Name    string
	Role    string    // "" for anonymous
	Window  int       // clerks: the window they are bound to
	Expires time.Time // zero: no expiry
	Session bool      // the credential is a password session (it may log out)
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
	keyHash func() hash.Hash // of the citizen key's HMAC
	fpKey   []byte           // HMAC key of request fingerprints, derived from secret
	fpHMACs sync.Pool        // HMACs keyed with fpKey, ready for reuse
	sealKey seal.Key
	auditor Auditor // nil: no audit trail
	joined  bool
	proxies []netip.Prefix
	sockCap int // websockets per credential
	log     *slog.Logger
	hub     *hub
	devices *deviceReports
	remote  *remoteLimiter
	help    *remoteLimiter // helper calls from phones (helper.go)
	logins  *loginGuard
	extra   map[string]func() any // health details, by name
	mux     *http.ServeMux
	started time.Time
	version string
	now     func() time.Time
	resend  func(ctx context.Context, first uint64) error
	// origins are the page origins ("scheme://host:port") allowed to open
	// the websocket; set before serving (SetOrigins), read-only after
	origins  map[string]bool
	upgrader websocket.Upgrader
}

// Options configure an API.
type Options struct {
	Service *hall.Service
	Store   *store.Store
	Secret  []byte // citizen-key secret
	// KeyHash is the hash of the citizen key's HMAC: nil is SHA-256; the
	// 国密 option's is SM3 (internal/gm.NewSM3).
	KeyHash  func() hash.Hash
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

	// SealKey opens the ID numbers kiosks seal to the hall (package seal).
	SealKey seal.Key
	// Joined: the hall forwards to the province platform, whose real-name
	// sign-in replaces typed ID numbers for remote tickets.
	Joined bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the client's address (per-address limits); none: the
	// peer's address is the client's.
	TrustedProxies []netip.Prefix
	// SocketsPerCredential caps the websockets of one token or session
	// (0: DefaultSocketsPerCredential).
	SocketsPerCredential int
	// Origins are the page origins ("https://hall.example:8443") whose
	// pages may open the websocket; see SetOrigins.
	Origins []string
	// Audit, when set, records the audited operations (audit.go) on the
	// hall's audit trail.
	Audit Auditor
}

// SetOrigins sets the page origins allowed to open the websocket, each
// "scheme://host[:port]" as a browser sends it in the Origin header.
// Clients that send no Origin (kiosks, the Go client) are not browsers and
// are not affected. The list is compared with the Origin as sent, never
// with the request's Host header (which a page reached through DNS
// rebinding controls). Call it before serving.
func (a *API) SetOrigins(origins []string) {
	a.origins = map[string]bool{}
	for _, o := range origins {
		if o = normOrigin(o); o != "" {
			a.origins[o] = true
		}
	}
}

// normOrigin lowercases an origin and drops a default port and a trailing
// slash; "" when it is not an http(s) origin.
func normOrigin(o string) string {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(o), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if h, p, err := net.SplitHostPort(host); err == nil && (u.Scheme == "http" && p == "80" || u.Scheme == "https" && p == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return u.Scheme + "://" + host
}

// checkOrigin accepts non-browser clients (no Origin header) and pages of
// the configured origins.
func (a *API) checkOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	return a.origins[normOrigin(o)]
}

// DefaultSocketsPerCredential: enough for every board of a hall sharing
// one display token, far below what slows the hub for everyone.
const DefaultSocketsPerCredential = 32

// New builds the API. Call OnCommit from the hall service's commit hook and
// Close when done.
func New(o Options) *API {
	a := &API{svc: o.Service, store: o.Store, secret: o.Secret, sealKey: o.SealKey, joined: o.Joined, proxies: o.TrustedProxies, sockCap: o.SocketsPerCredential, log: o.Logger, extra: o.Health,
		started: time.Now(), version: o.Version, now: time.Now, resend: o.Resend, auditor: o.Audit}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if a.keyHash = o.KeyHash; a.keyHash == nil {
		a.keyHash = sha256.New
	}
	a.upgrader = upgrader
	a.upgrader.CheckOrigin = a.checkOrigin
	a.SetOrigins(o.Origins)
	m := hmac.New(sha256.New, o.Secret)
	m.Write([]byte("hallq idempotency fingerprint"))
	a.fpKey = m.Sum(nil)
	if a.sockCap <= 0 {
		a.sockCap = DefaultSocketsPerCredential
	}
	a.hub = newHub(a, o.Observer)
	a.devices, a.remote = newDeviceReports(), newRemoteLimiter()
	a.help = &remoteLimiter{table: newAddrTable(maxRemoteAddrs, maxHelpPerIP, time.Hour)}
	a.logins = newLoginGuard(func() time.Time { return a.now() })
	a.routes(o.Pages, o.Metrics)
	return a
}

// OnCommit hands committed events to the websocket hub. It never blocks
// for long: slow clients are dropped, not waited for.
func (a *API) OnCommit(events []hall.Event) { a.hub.publish(events) }

// Devices returns the kiosks' last device reports.
func (a *API) Devices() []wire.DeviceHealth { return a.devices.list() }

// Close disconnects every websocket client.
func (a *API) Close() {
	a.hub.close()
	a.logins.close()
}

// ServeHTTP serves the whole hall site.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) routes(pages, metrics http.Handler) {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", a.healthz)
	if metrics != nil {
		m.Handle("GET /metrics", metrics)
	}
	m.HandleFunc("GET /ws", a.serveWS)
	for _, op := range table {
		if op.serve != nil {
			m.HandleFunc(op.route, func(w http.ResponseWriter, r *http.Request) { op.serve(a, op, w, r) })
		} else {
			m.HandleFunc(op.route, a.rest(op))
		}
	}
	m.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(openapiDoc)
	})
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, "", hall.Errorf(hall.NotFound, "no API route %s %s", r.Method, r.URL.Path))
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

// openapiDoc is the OpenAPI 3.1 document of the REST API and the
// websocket frames: the contract the tests hold the server to
// (queue-server/api/apispec), served at GET /api/v1/openapi.json.
//
//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the OpenAPI document (JSON).
func OpenAPI() []byte { return slices.Clone(openapiDoc) }

// Routes returns every route the API serves ("METHOD /path/{param}"),
// for the test that the OpenAPI document has them all.
func Routes() []string {
	out := []string{"GET /healthz", "GET /metrics", "GET /ws", "GET /api/v1/openapi.json"}
	for _, op := range table {
		out = append(out, op.route)
	}
	return out
}

// ---- idempotency ----

const maxIdemKey = 128

// checkIdemKey refuses keys a client cannot mean: too long, or with
// control characters.
func checkIdemKey(k string) error {
	if len(k) > maxIdemKey {
		return hall.Refusal(hall.Invalid, hall.ReasonBadIdempotencyKey, "Idempotency-Key is longer than %d characters", maxIdemKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] == 0x7f {
			return hall.Refusal(hall.Invalid, hall.ReasonBadIdempotencyKey, "Idempotency-Key contains a control character")
		}
	}
	return nil
}

// fingerprint identifies a request for its idempotency key: the
// operation, its target (path parameters) and its body, with the body's
// JSON in canonical form (so a REST retry and a websocket one, or two
// encoders, agree). It is an HMAC under a key derived from the hall
// secret, because a body may hold an ID number, whose plain hash could be
// reversed by trying every number.
func (a *API) fingerprint(op *operation, c *call) string {
	if c.idem == "" && op.name != "handover" {
		return ""
	}
	// a keyed HMAC is reused (Reset returns it to the keyed state): a new
	// one hashes the key into its pads and allocates both hashes each time
	m, _ := a.fpHMACs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, a.fpKey)
	} else {
		m.Reset()
	}
	defer a.fpHMACs.Put(m)
	m.Write([]byte(op.name))
	for _, p := range op.pathParams {
		m.Write([]byte{0})
		m.Write([]byte(p + "=" + c.params[p]))
	}
	m.Write([]byte{0})
	m.Write(canonicalJSON(c.body))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0])[:16])
}

// canonicalJSON re-encodes a JSON body with sorted keys and no spacing;
// an empty body is empty and malformed bytes are kept as they are. A body
// of plain strings, numbers and literals (what the kiosk's and the pages'
// encoders send) is put in that form in one pass over its bytes, without
// decoding it (canonicalFast): the decode and re-encode were the largest
// part of the issue path's own CPU in the API.
func canonicalJSON(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	if out, ok := canonicalFast(b); ok {
		return out
	}
	return reencodeJSON(b)
}

// reencodeJSON decodes b and encodes it again (sorted keys, no spacing,
// strings escaped as encoding/json escapes them); malformed bytes are
// returned as they are.
func reencodeJSON(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return b
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b
	}
	return out
}

// emptyList turns a nil slice into an empty one of its type, so that an
// empty list is [] on the wire, never null.
func emptyList(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.IsNil() {
		return reflect.MakeSlice(rv.Type(), 0, 0).Interface()
	}
	return v
}

// ---- REST plumbing ----

const maxBody = 64 << 10

func (a *API) rest(op *operation) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(bearer(r))
		if err != nil {
			a.writeError(w, op.name, err)
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
		if m := r.Header.Get("If-Match"); m != "" {
			params["if_match"] = m
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				a.writeError(w, op.name, hall.Errorf(hall.Invalid, "request body too large (limit %d bytes)", maxBody))
			} else { // e.g. sent so slowly that the body deadline passed
				a.writeError(w, op.name, hall.Errorf(hall.Invalid, "the request body did not arrive: %v", err))
			}
			return
		}
		c := &call{ctx: r.Context(), a: a, p: p, ip: a.clientIP(r), params: params, body: body, idem: r.Header.Get("Idempotency-Key")}
		status, v, err := a.run(op, c)
		if err != nil {
			a.writeError(w, op.name, err)
			return
		}
		if csv, ok := v.(csvBody); ok {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", csv.name))
			w.WriteHeader(status)
			w.Write(csv.data)
			return
		}
		if t, ok := v.(tagged); ok {
			w.Header().Set("ETag", `"`+t.etag+`"`)
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
	case hall.Unprocessable:
		return http.StatusUnprocessableEntity
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

// toWire is what a client reads of err: its code, reason, message and
// details; nothing of a cause.
func toWire(err error) *wire.Error {
	var he *hall.Error
	if errors.As(err, &he) {
		return &wire.Error{Code: he.Code, Reason: he.Reason, Message: he.Message, Details: he.Details}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &wire.Error{Code: hall.Unavailable, Message: "the request was cancelled or timed out"}
	}
	return &wire.Error{Code: hall.Internal, Message: "internal error"}
}

// failed is where an error becomes a response, over REST or the
// websocket: an internal failure — an error that is no hall.Error, one of
// code internal, or one that keeps what failed underneath (its cause) — is
// logged here, once, with its cause and the operation; the client reads
// only toWire's answer. A cancelled or timed-out request is no failure of
// the hall's.
func (a *API) failed(op string, err error) *wire.Error {
	if internal(err) {
		a.log.Error("request failed", "op", op, "err", err)
	}
	return toWire(err)
}

func internal(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	he, ok := errors.AsType[*hall.Error](err)
	return !ok || he.Code == hall.Internal || he.Unwrap() != nil
}

// writeError answers a REST request of operation op with err (see failed).
func (a *API) writeError(w http.ResponseWriter, op string, err error) {
	e := a.failed(op, err)
	if e.Code == hall.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hallq"`)
	}
	writeJSON(w, HTTPStatus(e.Code), wire.ErrorBody{Error: *e})
}

func forbidden(p Principal) error {
	if p.Role == "" {
		return hall.Errorf(hall.Unauthorized, "this needs a token (Authorization: Bearer …)")
	}
	return hall.Errorf(hall.Forbidden, "role %s may not do this", p.Role)
}

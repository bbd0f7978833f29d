// Package server wires one hall together — configuration, bbolt store, the
// queue service, the HTTP API with its websocket hub, metrics — and runs
// it. The queue-server command only parses flags and calls Main; tests and
// the demo start a whole hall in-process with Start.
package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"hallq/internal/gm"
	"hallq/internal/tlcp"
	"hallq/queue-server/api"
	"hallq/queue-server/audit"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/metrics"
	"hallq/queue-server/seal"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// Options configure a hall server.
type Options struct {
	DataDir string
	Addr    string // host:port; ":0" picks a free port
	// Config (or else ConfigFile, else the embedded sample hall) is the
	// hall's configuration until one is changed at runtime (PUT
	// /api/v1/config): the stored configuration then wins at every start.
	Config     *hall.Config
	ConfigFile string
	// ConfigReset ignores the stored configuration once: Config/ConfigFile
	// (or the sample) is recorded as a config.changed event by actor
	// "config-file" and becomes the stored configuration.
	ConfigReset bool
	Logger      *slog.Logger
	Clock       hall.Clock
	Version     string
	Pages       http.Handler // the web faces, served at /
	// Forward, when set, sends every event to the central platform (NATS
	// JetStream or an HTTPS sink) and, with NATS, takes bookings and
	// remote tickets in. HallID is filled from the configuration.
	Forward *forward.Config
	// CitizenSecret, when set, replaces the hall's own citizen-key secret:
	// a hall joined to a central platform uses the province's key, so that
	// bookings made online match the keys kiosks derive.
	CitizenSecret []byte
	// TLSCert and TLSKey, when both set, are PEM files: the hall then
	// serves HTTPS and WSS only (see hallq-ca for a hall CA).
	TLSCert, TLSKey string
	// TLCPAddr, when set, is a second listener (host:port) serving the same
	// API over TLCP (GB/T 38636, the 国密 transport; package internal/tlcp)
	// with the sign and encryption certificates of TLCP, which must all be
	// named. Kiosks reach it with "transport": "tlcp"; browsers cannot, so
	// the pages stay on Addr. Its connections have their own caps of Limits.
	TLCPAddr string
	TLCP     tlcp.ServerFiles
	// PersonalRetention is how long tickets keep their citizen key and
	// masked ID number: older ones are purged at start and then daily.
	// 0 means DefaultPersonalRetention; negative keeps them for ever.
	PersonalRetention time.Duration
	// NewHall allows starting a new hall in a data directory that is not
	// empty or over a 0-byte hall.db (-new-hall); without it only an empty
	// directory becomes a new hall.
	NewHall bool
	// Origins are the page origins (scheme://host:port, as browsers send
	// them) allowed to open the websocket. Empty: the hall's own address —
	// every local IP address with the port when listening on all of them,
	// and localhost for a loopback address. A name the hall is reached by
	// (https://hall.example) must be listed.
	Origins []string
	// TrustedProxies are the reverse proxies in front of the hall server
	// whose X-Forwarded-For names the client (for per-address limits); none:
	// no header is believed.
	TrustedProxies []netip.Prefix
	// Limits bound each client (timeouts, connection caps); zero fields
	// take DefaultLimits.
	Limits Limits
	// Crypto is the hall's cryptography: "" or CryptoStandard (HMAC-SHA256
	// citizen keys, NaCl sealing, a SHA-256 audit chain), or CryptoGM, the
	// 国密 option (HMAC-SM3, SM2/SM3/SM4 sealing, an SM3 chain); see
	// docs/security.md. The province must key citizens the same way.
	Crypto string
	// AuditRetention is how long the audit trail (DataDir/audit.log,
	// package audit) keeps its records: 0 means DefaultAuditRetention;
	// negative keeps them for ever.
	AuditRetention time.Duration
}

// DefaultPersonalRetention is how long personal data is kept by default.
const DefaultPersonalRetention = 90 * 24 * time.Hour

// The values of Options.Crypto (-crypto).
const (
	CryptoStandard = "standard"
	CryptoGM       = "gm"
)

// DefaultAuditRetention is how long the audit trail keeps its records by
// default: 180 days, the six months 网络安全法 §21 asks network logs to
// be kept at least.
const DefaultAuditRetention = 180 * 24 * time.Hour

// purgeBatch is how many records one retention transaction goes through.
const purgeBatch = 1000

// Server is a running hall.
type Server struct {
	Addr string // the address actually listened on
	URL  string // http://Addr, or https://Addr with TLS
	// TLCPAddr is the TLCP listener's address (Options.TLCPAddr) and
	// TLCPURL https://TLCPAddr, for a TLCP client; both empty without it.
	TLCPAddr, TLCPURL string
	Service           *hall.Service
	Store             *store.Store
	API               *api.API
	Metrics           *metrics.Metrics
	Config            hall.Config // the configuration the hall started with (Service.Config is the current one)

	Forwarder *forward.Forwarder // nil when not forwarding
	Audit     *audit.Log         // the audit trail
	// AuditForwarder sends the audit trail to the province, with the
	// events (nil when not forwarding).
	AuditForwarder *forward.AuditForwarder
	auditFwd       atomic.Pointer[forward.AuditForwarder] // for the trail's OnWrite, set once the forwarder exists

	http   *http.Server
	ln     net.Listener
	tlcpLn net.Listener // nil without TLCP
	caps   *capListener
	log    *slog.Logger
	done   chan error
	cancel context.CancelFunc // stops the forwarder, the bookings consumer and retention
	bg     sync.WaitGroup
	// purged is closed when the first retention pass after start is done
	purged chan struct{}
}

// BootstrapFile is the name of the first admin token's file in the data dir.
const BootstrapFile = "bootstrap-token"

// AEADSuites are the TLS 1.2 cipher suites the hall offers: forward-secret
// key exchange with authenticated encryption only (no CBC, no RSA key
// exchange). TLS 1.3's suites are all AEAD and not configurable.
var AEADSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Start opens the store, loads the hall and begins serving.
func Start(o Options) (*Server, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg, err := loadConfig(o)
	if err != nil {
		return nil, err
	}
	st, err := store.OpenWith(o.DataDir, store.OpenOptions{NewHall: o.NewHall})
	if err != nil {
		return nil, err
	}
	switch {
	case st.Created():
		log.Info("new hall: a new store was created", "file", st.Path(), "epoch", st.Epoch())
	case st.Restored():
		log.Warn("restored from a backup: a new epoch begins, so the central platform and clients tell its events from the lost store's",
			"file", st.Path(), "epoch", st.Epoch())
	}
	s := &Server{Store: st, log: log, done: make(chan error, 1), Metrics: metrics.New(), purged: make(chan struct{})}
	fail := func(err error) (*Server, error) {
		if s.Service != nil {
			s.Service.Close()
		}
		if s.Audit != nil {
			s.Audit.Close()
		}
		st.Close()
		return nil, err
	}
	secret, err := st.Secret()
	if err != nil {
		return fail(err)
	}
	if len(o.CitizenSecret) > 0 {
		secret = o.CitizenSecret
	}
	gmOn := false
	switch o.Crypto {
	case "", CryptoStandard:
	case CryptoGM:
		gmOn = true
	default:
		return fail(fmt.Errorf("crypto: want %q or %q, got %q", CryptoStandard, CryptoGM, o.Crypto))
	}
	sealKey, err := openSealKey(st, gmOn)
	if err != nil {
		return fail(err)
	}
	if s.Audit, err = openAudit(o, gmOn, func() {
		if f := s.auditFwd.Load(); f != nil {
			f.Notify()
		}
	}); err != nil {
		return fail(err)
	}
	var a *api.API
	onCommit := func(evs []hall.Event) {
		s.Metrics.ObserveEvents(evs)
		if a != nil { // nil only for the -config-reset event, committed before serving
			a.OnCommit(evs)
		}
		if s.Forwarder != nil {
			s.Forwarder.Notify()
		}
	}
	journal := &timedJournal{Store: st, m: s.Metrics}
	s.Service, err = hall.NewService(cfg, journal, o.Clock, func(evs []hall.Event) { onCommit(evs) })
	if err != nil {
		return fail(err)
	}
	if cur := s.Service.Config(); o.ConfigReset {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := s.Service.UpdateConfig(ctx, hall.Op{Actor: "config-file"}, cfg)
		cancel()
		if err != nil {
			return fail(fmt.Errorf("-config-reset: the configuration file cannot replace the stored one: %w", err))
		}
		log.Info("configuration reset from the file; changes made in the dashboard are replaced")
	} else if !reflect.DeepEqual(cur, cfg) {
		log.Info("using the configuration changed in the dashboard; the file's is ignored (-config-reset returns to it)")
	}
	s.Config = s.Service.Config()
	var fc forward.Config
	if o.Forward != nil {
		fc = *o.Forward
		fc.HallID = s.Config.Hall.ID
		fc.EpochOf = st.EpochOf
		if gmOn {
			fc.KeyScheme = forward.KeySchemeSM3
		}
		if s.Forwarder, err = forward.New(fc, st, log.With("part", "forward")); err != nil {
			return fail(err)
		}
		if s.AuditForwarder, err = forward.NewAudit(fc, o.DataDir, s.Audit.Last, log.With("part", "forward-audit")); err != nil {
			return fail(err)
		}
		s.auditFwd.Store(s.AuditForwarder)
	}
	health := map[string]func() any{"outbox": func() any { ob, _ := st.OutboxStats(); return ob }, "storage": journal.health}
	buildHealth(health)
	if s.Forwarder != nil {
		health["forwarding"] = func() any { return s.Forwarder.Stats() }
		health["audit_forwarding"] = func() any { return s.AuditForwarder.Stats() }
	}
	ao := api.Options{Service: s.Service, Store: st, Secret: secret, SealKey: sealKey,
		Joined: len(o.CitizenSecret) > 0 || o.Forward != nil, TrustedProxies: o.TrustedProxies,
		SocketsPerCredential: o.Limits.withDefaults().SocketsPerCredential, Logger: log, Observer: s.Metrics,
		Version: o.Version, Pages: o.Pages, Metrics: s.Metrics.Handler(), Health: health, Audit: s.Audit.Record}
	if s.Forwarder != nil {
		ao.Resend = s.Forwarder.Resend
	}
	if gmOn {
		ao.KeyHash = gm.NewSM3
	}
	a = api.New(ao)
	s.API = a
	s.registerGauges()
	if err := s.bootstrap(o.DataDir); err != nil {
		return fail(err)
	}
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	var tlsConf *tls.Config
	if o.TLSCert != "" || o.TLSKey != "" {
		cert, err := tls.LoadX509KeyPair(o.TLSCert, o.TLSKey)
		if err != nil {
			return fail(fmt.Errorf("TLS certificate: %w", err))
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, CipherSuites: AEADSuites}
	}
	var tlcpSrv *tlcp.Server
	if o.TLCPAddr != "" || !o.TLCP.Empty() {
		if o.TLCPAddr == "" {
			return fail(errors.New("TLCP certificates are given but no TLCP listener address (-tlcp-addr)"))
		}
		if tlcpSrv, err = tlcp.LoadServer(o.TLCP); err != nil {
			return fail(err)
		}
	}
	lim := o.Limits.withDefaults()
	exempt := func(ip netip.Addr) bool {
		for _, p := range o.TrustedProxies {
			if p.Contains(ip) {
				return true
			}
		}
		return false
	}
	s.ln, err = net.Listen("tcp", addr)
	if err != nil {
		return fail(fmt.Errorf("listen on %s: %w", addr, err))
	}
	if tlcpSrv != nil {
		tln, err := net.Listen("tcp", o.TLCPAddr)
		if err != nil {
			s.ln.Close()
			return fail(fmt.Errorf("listen (TLCP) on %s: %w", o.TLCPAddr, err))
		}
		s.TLCPAddr = tln.Addr().String()
		s.TLCPURL = "https://" + s.TLCPAddr
		s.tlcpLn = tlcpSrv.Listener(newCapListener(tln, lim, exempt))
	}
	s.caps = newCapListener(s.ln, lim, exempt)
	s.ln = s.caps
	s.Addr = s.ln.Addr().String()
	s.URL = "http://" + s.Addr
	if tlsConf != nil {
		s.ln = tls.NewListener(s.ln, tlsConf)
		s.URL = "https://" + s.Addr
	}
	origins := o.Origins
	if len(origins) == 0 {
		scheme := "http"
		if tlsConf != nil {
			scheme = "https"
		}
		origins = ownOrigins(s.ln.Addr(), scheme)
	}
	a.SetOrigins(origins)
	s.http = &http.Server{Handler: deadlines(a, lim), ReadHeaderTimeout: lim.HeaderTimeout, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() { s.done <- s.http.Serve(s.ln) }()
	if s.tlcpLn != nil {
		go func() {
			if err := s.http.Serve(s.tlcpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("the TLCP listener stopped", "addr", s.TLCPAddr, "err", err)
			}
		}()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.Forwarder != nil {
		s.background(func() {
			if err := s.Forwarder.Run(ctx); err != nil {
				log.Error("forwarding stopped", "err", err)
			}
		})
		s.background(func() {
			if err := s.AuditForwarder.Run(ctx); err != nil {
				log.Error("forwarding the audit trail stopped", "err", err)
			}
		})
		if fc.NATSURL != "" {
			s.background(func() {
				if err := forward.RunBookings(ctx, fc, s.Service, log.With("part", "bookings")); err != nil && ctx.Err() == nil {
					log.Error("bookings consumer stopped", "err", err)
				}
			})
			s.background(func() {
				if err := forward.RunCatalog(ctx, fc, s.Service, log.With("part", "catalog")); err != nil && ctx.Err() == nil {
					log.Error("catalogue consumer stopped", "err", err)
				}
			})
		}
	}
	if keep := o.PersonalRetention; keep >= 0 {
		if keep == 0 {
			keep = DefaultPersonalRetention
		}
		clock := o.Clock
		if clock == nil {
			clock = hall.SystemClock{}
		}
		s.background(func() { s.retain(ctx, keep, clock, s.Config.Location()) })
	} else {
		close(s.purged)
	}
	log.Info("hall ready", "hall", s.Config.Hall.ID, "addr", s.URL, "tlcp", s.TLCPURL, "data", st.Path())
	return s, nil
}

// ownOrigins are the origins of pages served by this listener: its IP
// address (every local one for an unspecified address) with its port, and
// localhost for a loopback one.
func ownOrigins(addr net.Addr, scheme string) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	ips := []net.IP{tcp.IP}
	if tcp.IP.IsUnspecified() {
		ips = nil
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				ips = append(ips, n.IP)
			}
		}
	}
	port := strconv.Itoa(tcp.Port)
	var out []string
	for _, ip := range ips {
		out = append(out, scheme+"://"+net.JoinHostPort(ip.String(), port))
		if ip.IsLoopback() {
			out = append(out, scheme+"://localhost:"+port)
		}
	}
	return out
}

func loadConfig(o Options) (hall.Config, error) {
	switch {
	case o.Config != nil:
		c := *o.Config
		return c, c.Validate()
	case o.ConfigFile != "":
		return hall.LoadConfig(o.ConfigFile)
	}
	return hall.SampleConfig(), nil
}

// bootstrap creates the first admin token on a hall with no tokens and
// writes it to <data>/bootstrap-token (mode 0600). The log names the file,
// never the token.
func (s *Server) bootstrap(dir string) error {
	n, err := s.Store.TokenCount()
	if err != nil || n > 0 {
		return err
	}
	path := filepath.Join(dir, BootstrapFile)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s exists but the store %s has no tokens: it belongs to another hall (or a lost store) and is never overwritten; "+
			"restore that hall's backup (queue-server restore), or move the file away to start this hall", path, s.Store.Path())
	}
	t, err := api.NewToken(s.Store, "bootstrap-admin", wire.RoleAdmin, 0, 0)
	if err != nil {
		return err
	}
	// never over an existing file: it may be the only admin token of the
	// hall whose store this one replaced
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if s.Store.RevokeToken(t.ID) != nil {
			s.log.Error("the new bootstrap token could not be revoked", "id", t.ID)
		}
		return fmt.Errorf("write bootstrap token: %w (it is never overwritten: move it away if it belongs to a hall that is gone)", err)
	}
	_, err = f.Write([]byte(t.Token + "\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write bootstrap token: %w", err)
	}
	s.log.Info("first start: admin token written", "file", path)
	return nil
}

func (s *Server) registerGauges() {
	m := s.Metrics
	m.ServiceGauges(func() []hall.ServiceView {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		v, _ := s.Service.Services(ctx)
		return v
	})
	m.Gauge("hallq_outbox_backlog", "Events not yet acknowledged by the central platform.", func() float64 {
		ob, _ := s.Store.OutboxStats()
		return float64(ob.Backlog)
	})
	m.KioskGauges(s.API.Devices)
	if f := s.Forwarder; f != nil {
		m.Gauge("hallq_forward_connected", "1 when the central platform is reachable.", func() float64 {
			if f.Stats().Connected {
				return 1
			}
			return 0
		})
		m.Gauge("hallq_forward_dead_letters", "Batches the central refused for good, kept in the store until re-sent (alert when > 0).", func() float64 {
			n, _ := s.Store.DeadLetterCount()
			return float64(n)
		})
		m.Gauge("hallq_forward_errors", "Forwarding errors since start.", func() float64 { return float64(f.Stats().Errors) })
	}
	if f := s.AuditForwarder; f != nil {
		m.Gauge("hallq_audit_forward_backlog", "Audit trail records the central platform has not acknowledged yet.", func() float64 { return float64(f.Stats().Backlog) })
	}
	m.Gauge("hallq_outbox_oldest_age_seconds", "Age of the oldest event not yet forwarded (0 when none).", func() float64 {
		ob, _ := s.Store.OutboxStats()
		if ob.Oldest.IsZero() {
			return 0
		}
		return time.Since(ob.Oldest).Seconds()
	})
}

func (s *Server) background(fn func()) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn()
	}()
}

// retain purges personal data older than keep now and then once a day,
// until ctx ends (Close).
func (s *Server) retain(ctx context.Context, keep time.Duration, clock hall.Clock, loc *time.Location) {
	for first := true; ; first = false {
		s.purgePersonal(ctx, clock.Now().In(loc).Add(-keep))
		if first {
			close(s.purged)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}

// purgePersonal removes the citizen keys and masked IDs of hall days
// before before's date, in batches, stopping early when ctx ends (the
// store's watermarks let the next pass resume).
func (s *Server) purgePersonal(ctx context.Context, before time.Time) {
	total := 0
	for ctx.Err() == nil {
		n, err := s.Store.PurgePersonal(before, purgeBatch)
		if err != nil {
			s.log.Error("retention: purging personal data failed", "err", err)
			return
		}
		total += n
		if n < purgeBatch {
			break
		}
	}
	if total > 0 {
		s.log.Info("retention: personal data purged", "before", before.Format(time.DateOnly), "records", total)
	}
}

// Close stops serving, forwarding, then the service, then the store.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.API.Close()
	err := s.http.Shutdown(ctx)
	s.cancel()
	s.bg.Wait()
	s.Service.Close()
	s.Audit.Close()
	return errors.Join(err, s.Store.Close())
}

// openAudit opens the audit trail in the data directory; a trail that
// does not verify is reported, loudly, and appended to all the same. A
// hall that forwards keeps every record the province has not acknowledged
// (audit.Options.HoldUnforwarded); onWrite wakes the trail's forwarder.
func openAudit(o Options, gmOn bool, onWrite func()) (*audit.Log, error) {
	ret := o.AuditRetention
	if ret == 0 {
		ret = DefaultAuditRetention
	}
	ao := audit.Options{Alg: "sha256", Hash: sha256.New, Retention: ret, HoldUnforwarded: o.Forward != nil, OnWrite: onWrite}
	if gmOn {
		ao.Alg, ao.Hash = "sm3", gm.NewSM3
	}
	if o.Clock != nil {
		ao.Now = o.Clock.Now
	}
	l, err := audit.Open(o.DataDir, ao)
	if err != nil {
		return nil, err
	}
	if p := l.Problem(); p != nil {
		log := o.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Error("the audit trail does not verify: it was changed outside the hall server (queue-server audit verify)", "file", l.Path(), "err", p)
	}
	return l, nil
}

// ConnStats reports how many connections the per-address and total caps
// closed since start, and the most connections one address (other than a
// trusted proxy) held at once.
func (s *Server) ConnStats() (refused, peakPerAddr int) { return s.caps.stats() }

// Wait returns when the HTTP server stops.
func (s *Server) Wait() error { return <-s.done }

// timedJournal measures each group commit for the metrics and remembers
// whether the last one failed (disk full, read-only, I/O error), for
// /healthz.
type timedJournal struct {
	*store.Store
	m *metrics.Metrics

	mu      sync.Mutex
	failing time.Time // when commits began to fail; zero when the last one succeeded
	lastErr string
}

func (j *timedJournal) Commit(evs []hall.Event) error {
	start := time.Now()
	err := j.Store.Commit(evs)
	j.m.ObserveCommit(time.Since(start), len(evs))
	j.mu.Lock()
	switch {
	case err == nil:
		j.failing, j.lastErr = time.Time{}, ""
	case j.failing.IsZero():
		j.failing, j.lastErr = time.Now(), err.Error()
	default:
		j.lastErr = err.Error()
	}
	j.mu.Unlock()
	return err
}

// storageHealth is the "storage" entry of /healthz.
type storageHealth struct {
	Status string    `json:"status"` // "ok", or "degraded": changes are refused (503 unavailable/storage), reads still work
	Error  string    `json:"error,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// Degraded tells /healthz that the hall cannot save changes.
func (h storageHealth) Degraded() bool { return h.Status == "degraded" }

func (j *timedJournal) health() any {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failing.IsZero() {
		return storageHealth{Status: "ok"}
	}
	return storageHealth{Status: "degraded", Error: j.lastErr, Since: j.failing}
}

// openSealKey returns the key pair kiosks seal ID numbers to, made at the
// hall's first start and kept in the store; with the 国密 option its SM2
// pair too (made when the option is first on), which kiosks then get.
func openSealKey(st *store.Store, gmOn bool) (seal.Key, error) {
	b, err := st.SealKey(func() ([]byte, error) {
		k, err := seal.NewKey()
		return k.Bytes(), err
	})
	if err != nil {
		return seal.Key{}, fmt.Errorf("store: the hall's seal key: %w", err)
	}
	k, err := seal.ParseKey(b)
	if err != nil || !gmOn {
		return k, err
	}
	sm, err := st.SealKeySM2(seal.NewSM2Private)
	if err != nil {
		return seal.Key{}, fmt.Errorf("store: the hall's SM2 seal key: %w", err)
	}
	return k.WithSM2(sm)
}

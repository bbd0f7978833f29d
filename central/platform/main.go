package platform

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/queue-server/forward"
)

// Main runs a central process until ctx is cancelled. By default it starts
// an embedded NATS server with JetStream (sync_interval: always, store in
// -data); with -nats it joins existing NATS servers (a cluster) as one of
// any number of central processes sharing the work. args are the
// command-line flags without the program name. Once the API is served it
// logs "central view" with the URL of GET /halls (the real port when
// -http asks for port 0). A cancelled ctx is a clean stop at any point,
// also while starting.
//
// exts are the parts of the platform that live in packages importing this
// one (bookings, calendars, the catalogue: central/booking): their flags
// join the command's, and each starts once the process is up.
func Main(ctx context.Context, args []string, stderr io.Writer, exts ...Extension) error {
	cfg, err := parseFlags(args, stderr, exts)
	if err != nil {
		return err
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	p, err := Start(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil // asked to stop: whatever was being set up stops with it
		}
		return err
	}
	for _, e := range exts {
		if err := e.Start(ctx, p, cfg.Log); err != nil {
			p.Stop()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	cfg.Log.Info("central view", "url", p.URL()+"/halls", "api", p.URL()+"/api/v1/halls")
	select {
	case <-ctx.Done():
		p.Stop()
		return nil
	case err := <-p.errc:
		p.Stop()
		return err
	}
}

// Config is a central process's configuration (the command's flags).
type Config struct {
	DataDir    string // embedded NATS store (when NATSURLs is empty)
	NATSListen string // embedded NATS address, host:port
	NATSURLs   string // comma-separated NATS URLs: join these instead of embedding one
	CredsFile  string
	CA, Cert   string // TLS: the CA to trust, the client certificate
	Key        string // and its key
	HTTP       string // API address

	DuplicateWindow time.Duration
	Views           ViewOptions
	SilentAfter     time.Duration
	SLATarget       time.Duration    // a ticket waiting longer breaches the service level (dash.go); default 30 min
	Now             func() time.Time // the API's clock (tests); default time.Now
	StaffTokens     string           // static staff token file; empty: staff routes answer 401
	// HallSecrets is a JSON file of each hall's HTTPS signing secret
	// ({"420102-01": "<hex>"}, as the hall's -https-sink-secret-file) for the HTTPS ingest of
	// events (POST /api/v1/halls/{id}) and audit records (POST
	// /api/v1/halls/{id}/audit); empty: no such ingest.
	HallSecrets string
	Auth        Authenticator // overrides StaffTokens
	Slots       SlotSource
	Extra       []Route
	Log         *slog.Logger
}

// Extension is a part of the province platform wired into a central
// process from a package that imports this one. Flags registers its
// command-line flags on the command's flag set; Start runs once the
// process's NATS connection, streams and API are up, and adds routes
// (p.API.Handle) and the hall list's free slots (p.API.SetSlots).
type Extension interface {
	Flags(fs *flag.FlagSet)
	Start(ctx context.Context, p *Process, log *slog.Logger) error
}

func parseFlags(args []string, stderr io.Writer, exts []Extension) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.DataDir, "data", ".hallq-central", "JetStream store directory of the embedded NATS server")
	fs.StringVar(&c.NATSListen, "nats-listen", "127.0.0.1:4222", "address of the embedded NATS server")
	fs.StringVar(&c.NATSURLs, "nats", "", "join these NATS servers (comma-separated URLs, a cluster) instead of embedding one")
	fs.StringVar(&c.CredsFile, "nats-creds", "", "NATS credentials file (JWT + nkey) for -nats")
	fs.StringVar(&c.CA, "nats-ca", "", "trust only this CA (PEM) for the NATS servers' certificates")
	fs.StringVar(&c.Cert, "nats-cert", "", "client certificate (PEM) for NATS servers that verify clients")
	fs.StringVar(&c.Key, "nats-key", "", "key of -nats-cert")
	fs.StringVar(&c.HTTP, "http", "127.0.0.1:8090", "address of the HTTP API")
	fs.DurationVar(&c.DuplicateWindow, "duplicate-window", 24*time.Hour, "duplicate window of stream HALLS; must cover the longest re-publish gap")
	fs.IntVar(&c.Views.Replicas, "replicas", 1, "replicas of the streams and KV buckets (the cluster's size, 3 for a 3-node cluster)")
	fs.IntVar(&c.Views.Partitions, "partitions", 16, "hall partitions shared between central processes (the same on every process)")
	fs.DurationVar(&c.Views.TicketTTL, "ticket-ttl", 48*time.Hour, "how long a ticket's public status is kept")
	fs.DurationVar(&c.Views.LeaseTTL, "lease-ttl", 10*time.Second, "a dead process's partitions move to the others after this")
	fs.DurationVar(&c.SilentAfter, "silent-after", 10*time.Minute, "a hall with windows open and no event for this long is alerted as silent")
	fs.DurationVar(&c.SLATarget, "sla-target", DefaultSLATarget, "the province dashboard's service level: a ticket waiting longer is an SLA breach")
	fs.StringVar(&c.StaffTokens, "staff-tokens", "", "static staff token file (JSON, see docs/central.md)")
	fs.StringVar(&c.HallSecrets, "hall-secrets", "", "JSON file of each hall's HTTPS signing secret, for halls forwarding their events and audit trail over HTTPS (-https-sink https://<central>/api/v1/halls/<hall-id>; see docs/central.md)")
	for _, e := range exts {
		e.Flags(fs)
	}
	crypto := fs.String("crypto", "standard", "the province's cryptography: standard (HMAC-SHA256 citizen keys) or gm, the 国密 option (HMAC-SM3); halls must use the same")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	scheme, err := SchemeOfCrypto(*crypto)
	if err != nil {
		return c, err
	}
	c.Views.KeyScheme = scheme
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.NATSURLs == "" && (c.CredsFile != "" || c.CA != "" || c.Cert != "" || c.Key != "") {
		return c, errors.New("-nats-creds, -nats-ca, -nats-cert and -nats-key are for -nats (the embedded server needs none)")
	}
	return c, nil
}

// Process is a running central process.
type Process struct {
	NATS    *natsembed.Server // the embedded server, nil with NATSURLs
	NC      *nats.Conn
	JS      jetstream.JetStream
	Buckets *Buckets
	Applier *Applier
	Audit   *AuditChecker // judges the halls' audit trails (hallaudit.go)
	Views   *Views
	API     *Server

	url       string
	replicas  int
	keyScheme string
	hs        *http.Server
	cancel    context.CancelFunc
	done      chan struct{}
	errc      chan error
}

// Start starts a central process: NATS (embedded or joined), the streams
// and buckets, the applier, the read copy and the HTTP API.
func Start(ctx context.Context, c Config) (_ *Process, err error) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	p := &Process{done: make(chan struct{}), errc: make(chan error, 3), replicas: max(1, c.Views.Replicas), keyScheme: c.Views.KeyScheme}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	url := c.NATSURLs
	opts := []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond), nats.Name("hallq-central")}
	if url == "" {
		host, port, err := net.SplitHostPort(c.NATSListen)
		if err != nil {
			return nil, fmt.Errorf("-nats-listen: %w", err)
		}
		var pn int
		if _, err := fmt.Sscan(port, &pn); err != nil {
			return nil, fmt.Errorf("-nats-listen: bad port %q", port)
		}
		if p.NATS, err = natsembed.Start(natsembed.Options{Dir: c.DataDir, Host: host, Port: pn}); err != nil {
			return nil, err
		}
		url = p.NATS.URL()
		c.Log.Info("embedded NATS server with JetStream", "url", url, "store", c.DataDir)
	} else {
		if c.CredsFile != "" {
			opts = append(opts, nats.UserCredentials(c.CredsFile))
		}
		tc, err := forward.ClientTLS(c.CA, c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		if tc != nil {
			opts = append(opts, nats.Secure(tc))
		}
	}
	if p.NC, err = nats.Connect(url, opts...); err != nil {
		return nil, fmt.Errorf("central: NATS %s: %w", url, err)
	}
	if p.JS, err = jetstream.New(p.NC); err != nil {
		return nil, err
	}
	if err := EnsureStreams(ctx, p.JS, StreamOptions{DuplicateWindow: c.DuplicateWindow, Replicas: c.Views.Replicas}); err != nil {
		return nil, err
	}
	if p.Buckets, err = EnsureBuckets(ctx, p.JS, c.Views); err != nil {
		return nil, err
	}
	auth := c.Auth
	if auth == nil && c.StaffTokens != "" {
		st, err := LoadTokens(c.StaffTokens)
		if err != nil {
			return nil, fmt.Errorf("-staff-tokens: %w", err)
		}
		auth = st
	}
	secrets, err := LoadHallSecrets(c.HallSecrets)
	if err != nil {
		return nil, fmt.Errorf("-hall-secrets: %w", err)
	}
	p.Applier = NewApplier(p.JS, p.Buckets, c.Views, c.Log)
	p.Audit = NewAuditChecker(p.JS, p.Buckets, c.Log)
	p.Views = NewViews(p.Buckets)
	p.API = NewServer(ServerOptions{Views: p.Views, JS: p.JS, HallSecrets: secrets, Auth: auth, Slots: c.Slots, SilentAfter: c.SilentAfter, SLATarget: c.SLATarget, Now: c.Now, Applier: p.Applier, Log: c.Log, Extra: c.Extra})
	ln, err := net.Listen("tcp", c.HTTP)
	if err != nil {
		return nil, fmt.Errorf("-http: %w", err)
	}
	p.url = "http://" + ln.Addr().String()
	p.hs = &http.Server{Handler: p.API, ReadHeaderTimeout: 5 * time.Second}
	rctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		defer close(p.done)
		a := make(chan struct{})
		go func() { defer close(a); p.Views.Run(rctx) }()
		ck := make(chan struct{})
		go func() { defer close(ck); _ = p.Audit.Run(rctx) }()
		_ = p.Applier.Run(rctx)
		<-a
		<-ck
	}()
	go func() {
		if err := p.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			p.errc <- err
		}
	}()
	select { // serve once the read copy holds what JetStream has
	case <-p.Views.Ready():
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		return nil, errors.New("central: the hall views could not be read within 30 s")
	}
	return p, nil
}

// KeyScheme is the province's citizen-key scheme (-crypto), for extensions
// deriving citizen keys.
func (p *Process) KeyScheme() string { return p.keyScheme }

// Replicas is the replica count of the process's streams and buckets (the
// cluster's size), for extensions creating their own.
func (p *Process) Replicas() int { return p.replicas }

// URL is the API's base URL, e.g. http://127.0.0.1:8090.
func (p *Process) URL() string { return p.url }

// Stop stops the process cleanly: its partitions are handed back at once.
func (p *Process) Stop() {
	if p.hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = p.hs.Shutdown(sctx)
		cancel()
	}
	p.close()
}

// Kill stops the process as a crash would: the NATS connection drops
// first, so nothing is handed back and its leases run out (tests).
func (p *Process) Kill() {
	if p.NC != nil {
		p.NC.Close()
	}
	if p.hs != nil {
		p.hs.Close()
	}
	p.close()
}

func (p *Process) close() {
	if p.cancel != nil {
		p.cancel()
		<-p.done
		p.cancel = nil
	}
	if p.NC != nil {
		p.NC.Close()
	}
	if p.NATS != nil {
		p.NATS.Stop()
		p.NATS = nil
	}
}

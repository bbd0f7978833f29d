package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"hallq/queue-server/central"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// The build stamp, set at link time by `make dist`:
//
//	-ldflags "-X hallq/queue-server/server.Version=1.2.0 -X hallq/queue-server/server.Commit=89fc321 -X hallq/queue-server/server.BuildDate=2026-11-28T02:00:00Z"
//
// -version prints all three and /healthz reports them.
var (
	Version   = "dev"
	Commit    = "unknown"
	BuildDate = "unknown"
)

// VersionLine is what -version prints.
func VersionLine() string {
	return fmt.Sprintf("queue-server %s (commit %s, built %s)", Version, Commit, BuildDate)
}

// buildHealth adds the commit and build date to /healthz, next to version.
func buildHealth(health map[string]func() any) {
	health["commit"] = func() any { return Commit }
	health["build_date"] = func() any { return BuildDate }
}

// Main runs the queue-server command with args (without the program name)
// and returns the exit code.
//
// `queue-server backup …` runs the backup command instead (see Backup).
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "backup" {
		return Backup(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("queue-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("HALLQ_DATA", "./hallq-data"), "data directory (env HALLQ_DATA)")
	addr := fs.String("addr", env("HALLQ_ADDR", "127.0.0.1:8080"), "listen address host:port (env HALLQ_ADDR)")
	cfgFile := fs.String("config", env("HALLQ_CONFIG", ""), "hall configuration file; empty = the embedded sample hall (env HALLQ_CONFIG)")
	reset := fs.Bool("config-reset", false, "use the -config file (or the sample hall) instead of the configuration changed in the dashboard, recording it as a config.changed event")
	check := fs.String("check-config", "", "validate a hall configuration file and exit")
	logFormat := fs.String("log", env("HALLQ_LOG", "text"), "log format: text or json (env HALLQ_LOG)")
	allDay := fs.Bool("open-all-day", false, "issue tickets around the clock (demos)")
	demoSpeed := fs.Float64("demo-speed", 1, "run the hall's clock this many times faster than real time, from now (demos: 60 with make demo's load generator, so pages show hall minutes)")
	natsURL := fs.String("nats", env("HALLQ_NATS", ""), "forward to the central platform's NATS JetStream at this URL (env HALLQ_NATS)")
	natsCreds := fs.String("nats-creds", env("HALLQ_NATS_CREDS", ""), "NATS credentials file (env HALLQ_NATS_CREDS)")
	sinkURL := fs.String("https-sink", env("HALLQ_HTTPS_SINK", ""), "forward to this HTTPS endpoint instead of NATS (env HALLQ_HTTPS_SINK)")
	sinkSecret := fs.String("https-sink-secret-file", env("HALLQ_HTTPS_SINK_SECRET_FILE", ""), "file holding the HMAC key that signs HTTPS batches")
	keyFile := fs.String("citizen-key-file", env("HALLQ_CITIZEN_KEY_FILE", ""), "file holding the province's citizen-key secret (hex); default: the hall's own")
	demoCentral := fs.Bool("demo-central", false, "also run a reference central platform in-process (embedded NATS on 127.0.0.1:4222, view on http://127.0.0.1:8090/halls) and forward to it")
	tlsCert := fs.String("tls-cert", env("HALLQ_TLS_CERT", ""), "serve HTTPS/WSS with this PEM certificate (with -tls-key; see hallq-ca) (env HALLQ_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("HALLQ_TLS_KEY", ""), "the PEM key of -tls-cert (env HALLQ_TLS_KEY)")
	retentionFlag := fs.String("personal-retention", env("HALLQ_PERSONAL_RETENTION", "2160h"), "purge citizen keys and masked ID numbers of tickets older than this, at start and daily; a negative value keeps them (env HALLQ_PERSONAL_RETENTION)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	retention, err := time.ParseDuration(*retentionFlag)
	if err != nil || retention == 0 {
		fmt.Fprintf(stderr, "-personal-retention must be a duration like 2160h (a negative one keeps personal data), got %q\n", *retentionFlag)
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, VersionLine())
		return 0
	}
	if *check != "" {
		if _, err := hall.LoadConfig(*check); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, *check+": ok")
		return 0
	}
	var h slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(h)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o := Options{DataDir: *data, Addr: *addr, ConfigFile: *cfgFile, ConfigReset: *reset, Logger: log, Version: Version, Pages: pages(),
		TLSCert: *tlsCert, TLSKey: *tlsKey, PersonalRetention: retention}
	if (*tlsCert == "") != (*tlsKey == "") {
		log.Error("-tls-cert and -tls-key go together")
		return 2
	}
	if *demoSpeed < 1 || *demoSpeed > 3600 {
		log.Error("-demo-speed must be 1 to 3600", "got", *demoSpeed)
		return 2
	}
	if *demoSpeed != 1 {
		o.Clock = fastClock{start: time.Now(), speed: *demoSpeed}
		log.Info("demo: the hall clock runs fast", "speed", *demoSpeed)
	}
	if *demoCentral {
		go func() {
			args := []string{"-data", filepath.Join(*data, "central"), "-nats-listen", "127.0.0.1:4222", "-http", "127.0.0.1:8090"}
			if err := central.Main(ctx, args, stderr); err != nil && ctx.Err() == nil {
				log.Error("demo central stopped", "err", err)
			}
		}()
		*natsURL = "nats://127.0.0.1:4222"
	}
	switch {
	case *natsURL != "" && *sinkURL != "":
		log.Error("choose one of -nats and -https-sink")
		return 2
	case *natsURL != "":
		o.Forward = &forward.Config{NATSURL: *natsURL, CredsFile: *natsCreds}
	case *sinkURL != "":
		secret, err := readSecret(*sinkSecret)
		if err != nil {
			log.Error("-https-sink-secret-file", "err", err)
			return 2
		}
		o.Forward = &forward.Config{HTTPSURL: *sinkURL, HTTPSSecret: secret}
	}
	if *keyFile != "" {
		secret, err := readSecret(*keyFile)
		if err != nil {
			log.Error("-citizen-key-file", "err", err)
			return 2
		}
		o.CitizenSecret = secret
	}
	if *allDay {
		cfg, err := loadConfig(o)
		if err != nil {
			log.Error("cannot start", "err", err)
			return 1
		}
		cfg.OpenAllDay()
		o.Config = &cfg
	}
	s, err := Start(o)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-s.done:
		log.Error("server stopped", "err", err)
	}
	if err := s.Close(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

// readSecret reads a hex-encoded secret of at least 16 bytes from a file.
func readSecret(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("a secret file is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) < 16 {
		return nil, fmt.Errorf("%s must hold at least 32 hex digits", path)
	}
	return secret, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Backup runs `queue-server backup -server URL -token-file F -o FILE`: it
// fetches a consistent copy of a running hall's store (GET /api/v1/backup,
// an admin token), writes it next to FILE under a temporary name, syncs
// it, checks it with store.Verify, and only then renames it to FILE — so
// FILE is either a complete, checked backup or untouched. It returns the
// exit code.
func Backup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("queue-server backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", env("HALLQ_SERVER", "http://127.0.0.1:8080"), "the hall server's URL (env HALLQ_SERVER)")
	tokenFile := fs.String("token-file", "", "file holding an admin token")
	out := fs.String("o", "", "the backup file to write")
	caFile := fs.String("ca", "", "PEM certificate of the hall CA, for a hall serving HTTPS with its own CA")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *tokenFile == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: queue-server backup -server URL -token-file FILE -o FILE")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := backup(ctx, *server, *tokenFile, *caFile, *out)
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d bytes, verified\n", *out, n)
	return 0
}

func backup(ctx context.Context, server, tokenFile, caFile, out string) (int64, error) {
	tok, err := os.ReadFile(tokenFile)
	if err != nil {
		return 0, err
	}
	hc := &http.Client{}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return 0, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return 0, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	}
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(server, "/")+"/api/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb wire.ErrorBody
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
			return 0, fmt.Errorf("%s: %s", resp.Status, eb.Error.Err())
		}
		return 0, fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	dir := filepath.Dir(out)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return 0, err
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, resp.Body)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("receiving the backup: %w", err)
	}
	if err := store.Verify(tmp.Name()); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return 0, err
	}
	done = true
	if d, err := os.Open(dir); err == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return n, nil
}

// fastClock is the hall's clock in a demo: from start it runs speed times
// faster than real time, so a day played by the load generator at that
// speed shows on the pages in hall minutes.
type fastClock struct {
	start time.Time
	speed float64
}

func (c fastClock) Now() time.Time {
	return c.start.Add(time.Duration(float64(time.Since(c.start)) * c.speed))
}

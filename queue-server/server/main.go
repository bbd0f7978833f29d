package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"hallq/internal/gm"
	"hallq/internal/tlcp"
	"hallq/queue-server/api"
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
// `queue-server backup …`, `queue-server check …`, `queue-server restore …`
// and `queue-server audit …` run those commands instead (see Backup, Check,
// Restore, Audit).
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "backup":
			return Backup(args[1:], stdout, stderr)
		case "check":
			return Check(args[1:], stdout, stderr)
		case "restore":
			return Restore(args[1:], stdout, stderr)
		case "audit":
			return Audit(args[1:], stdout, stderr)
		}
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
	natsUser := fs.String("nats-user", env("HALLQ_NATS_USER", ""), "NATS user name, with -nats-password-file (env HALLQ_NATS_USER)")
	natsPassFile := fs.String("nats-password-file", env("HALLQ_NATS_PASSWORD_FILE", ""), "file holding the NATS user's password (env HALLQ_NATS_PASSWORD_FILE)")
	centralCA := fs.String("central-ca", env("HALLQ_CENTRAL_CA", ""), "PEM CA certificate trusted for the central platform (NATS or HTTPS sink) instead of the system's (env HALLQ_CENTRAL_CA)")
	centralCert := fs.String("central-cert", env("HALLQ_CENTRAL_CERT", ""), "PEM client certificate the hall shows the central platform, with -central-key (env HALLQ_CENTRAL_CERT)")
	centralKey := fs.String("central-key", env("HALLQ_CENTRAL_KEY", ""), "the PEM key of -central-cert (env HALLQ_CENTRAL_KEY)")
	sinkURL := fs.String("https-sink", env("HALLQ_HTTPS_SINK", ""), "forward to this HTTPS endpoint instead of NATS (env HALLQ_HTTPS_SINK)")
	auditSink := fs.String("https-audit-sink", env("HALLQ_HTTPS_AUDIT_SINK", ""), "with -https-sink: POST the audit trail's records here, e.g. the central's https://central/api/v1/halls/<hall-id>/audit (default: the -https-sink URL + /audit; env HALLQ_HTTPS_AUDIT_SINK)")
	sinkSecret := fs.String("https-sink-secret-file", env("HALLQ_HTTPS_SINK_SECRET_FILE", ""), "file holding the HMAC key that signs HTTPS batches")
	keyFile := fs.String("citizen-key-file", env("HALLQ_CITIZEN_KEY_FILE", ""), "file holding the province's citizen-key secret (hex); default: the hall's own")
	tlsCert := fs.String("tls-cert", env("HALLQ_TLS_CERT", ""), "serve HTTPS/WSS with this PEM certificate (with -tls-key; see hallq-ca) (env HALLQ_TLS_CERT)")
	tlsKey := fs.String("tls-key", env("HALLQ_TLS_KEY", ""), "the PEM key of -tls-cert (env HALLQ_TLS_KEY)")
	tlcpAddr := fs.String("tlcp-addr", env("HALLQ_TLCP_ADDR", ""), "also serve the API over TLCP (国密, GB/T 38636) on this host:port, for kiosks with \"transport\": \"tlcp\"; needs the four -tlcp-* files (env HALLQ_TLCP_ADDR; docs/security.md)")
	tlcpSignCert := fs.String("tlcp-sign-cert", env("HALLQ_TLCP_SIGN_CERT", ""), "TLCP: the SM2 sign certificate (PEM; hallq-ca issue under an -sm2 CA) (env HALLQ_TLCP_SIGN_CERT)")
	tlcpSignKey := fs.String("tlcp-sign-key", env("HALLQ_TLCP_SIGN_KEY", ""), "TLCP: the key of -tlcp-sign-cert (env HALLQ_TLCP_SIGN_KEY)")
	tlcpEncCert := fs.String("tlcp-enc-cert", env("HALLQ_TLCP_ENC_CERT", ""), "TLCP: the SM2 encryption certificate (hallq-ca issue -enc) (env HALLQ_TLCP_ENC_CERT)")
	tlcpEncKey := fs.String("tlcp-enc-key", env("HALLQ_TLCP_ENC_KEY", ""), "TLCP: the key of -tlcp-enc-cert (env HALLQ_TLCP_ENC_KEY)")
	proxies := fs.String("trusted-proxies", env("HALLQ_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDR prefixes of reverse proxies whose X-Forwarded-For names the client (env HALLQ_TRUSTED_PROXIES)")
	connsPerAddr := fs.String("max-conns-per-addr", env("HALLQ_MAX_CONNS_PER_ADDR", strconv.Itoa(DefaultLimits.ConnsPerAddr)), "open connections one client address may hold; trusted proxies are exempt (env HALLQ_MAX_CONNS_PER_ADDR)")
	cryptoFlag := fs.String("crypto", env("HALLQ_CRYPTO", CryptoStandard), "the hall's cryptography: standard (HMAC-SHA256, NaCl, SHA-256) or gm, the 国密 option (HMAC-SM3 citizen keys, SM2/SM3/SM4 sealing, an SM3 audit chain); the province must use the same (env HALLQ_CRYPTO; docs/security.md)")
	auditRetFlag := fs.String("audit-retention", env("HALLQ_AUDIT_RETENTION", "4320h"), "keep the audit trail's records this long (default 180 days); a negative value keeps them (env HALLQ_AUDIT_RETENTION)")
	retentionFlag := fs.String("personal-retention", env("HALLQ_PERSONAL_RETENTION", "2160h"), "purge citizen keys and masked ID numbers of tickets older than this, at start and daily; a negative value keeps them (env HALLQ_PERSONAL_RETENTION)")
	origins := fs.String("origins", env("HALLQ_ORIGINS", ""), "comma-separated page origins allowed to open the websocket, e.g. https://hall.example:8443; empty: the hall's own IP addresses and port (env HALLQ_ORIGINS)")
	newHall := fs.Bool("new-hall", false, "start a new hall (new secret, numbers from 001) even though the data directory is not empty or holds a 0-byte hall.db; without it only an empty directory becomes a new hall")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	retention, err := time.ParseDuration(*retentionFlag)
	if err != nil || retention == 0 {
		fmt.Fprintf(stderr, "-personal-retention must be a duration like 2160h (a negative one keeps personal data), got %q\n", *retentionFlag)
		return 2
	}
	if *cryptoFlag != CryptoStandard && *cryptoFlag != CryptoGM {
		fmt.Fprintf(stderr, "-crypto must be %s or %s, got %q\n", CryptoStandard, CryptoGM, *cryptoFlag)
		return 2
	}
	auditRet, err := time.ParseDuration(*auditRetFlag)
	if err != nil || auditRet == 0 {
		fmt.Fprintf(stderr, "-audit-retention must be a duration like 4320h (a negative one keeps the trail whole), got %q\n", *auditRetFlag)
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
		TLSCert: *tlsCert, TLSKey: *tlsKey, TLCPAddr: *tlcpAddr,
		TLCP:              tlcp.ServerFiles{SignCert: *tlcpSignCert, SignKey: *tlcpSignKey, EncCert: *tlcpEncCert, EncKey: *tlcpEncKey},
		PersonalRetention: retention, AuditRetention: auditRet, NewHall: *newHall, Crypto: *cryptoFlag}
	if *origins != "" {
		o.Origins = strings.Split(*origins, ",")
	}
	if o.Limits.ConnsPerAddr, err = strconv.Atoi(*connsPerAddr); err != nil || o.Limits.ConnsPerAddr <= 0 {
		log.Error("-max-conns-per-addr must be a positive number", "got", *connsPerAddr)
		return 2
	}
	if o.TrustedProxies, err = api.ParseTrustedProxies(*proxies); err != nil {
		log.Error("-trusted-proxies", "err", err)
		return 2
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		log.Error("-tls-cert and -tls-key go together")
		return 2
	}
	centralTLS, err := forward.ClientTLS(*centralCA, *centralCert, *centralKey)
	if err != nil {
		log.Error("-central-ca/-central-cert/-central-key", "err", err)
		return 2
	}
	var natsPassword string
	if (*natsUser == "") != (*natsPassFile == "") {
		log.Error("-nats-user and -nats-password-file go together")
		return 2
	}
	if *natsPassFile != "" {
		b, err := os.ReadFile(*natsPassFile)
		if err != nil {
			log.Error("-nats-password-file", "err", err)
			return 2
		}
		natsPassword = strings.TrimSpace(string(b))
	}
	if *demoSpeed < 1 || *demoSpeed > 3600 {
		log.Error("-demo-speed must be 1 to 3600", "got", *demoSpeed)
		return 2
	}
	if *demoSpeed != 1 {
		o.Clock = fastClock{start: time.Now(), speed: *demoSpeed}
		log.Info("demo: the hall clock runs fast", "speed", *demoSpeed)
	}
	switch {
	case *natsURL != "" && *sinkURL != "":
		log.Error("choose one of -nats and -https-sink")
		return 2
	case *natsURL != "":
		o.Forward = &forward.Config{NATSURL: *natsURL, CredsFile: *natsCreds, User: *natsUser, Password: natsPassword, TLS: centralTLS}
	case *sinkURL != "":
		secret, err := readSecret(*sinkSecret)
		if err != nil {
			log.Error("-https-sink-secret-file", "err", err)
			return 2
		}
		o.Forward = &forward.Config{HTTPSURL: *sinkURL, AuditHTTPSURL: *auditSink, HTTPSSecret: secret, TLS: centralTLS}
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
		return startFailure(err)
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

// ExitRefusedStore is the exit status when the data directory holds no
// usable hall (a broken or foreign hall.db, files but no hall.db, a store
// from a newer hallq): restarting cannot help, an operator must look, so
// the systemd unit does not restart on it (RestartPreventExitStatus).
// Other start failures (the port taken, a disk briefly full) exit 1 and are
// retried.
const ExitRefusedStore = 3

func startFailure(err error) int {
	if errors.Is(err, store.ErrNotAHall) || errors.Is(err, store.ErrNewerSchema) {
		return ExitRefusedStore
	}
	return 1
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
// it, checks it with store.Verify, puts the board's media files into it
// (GET /api/v1/board/media/{id} for each the backed-up board names,
// store.AddBackupMedia), and only then renames it to FILE — so FILE is
// either a complete, checked backup or untouched. It returns the exit
// code.
func Backup(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("queue-server backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", env("HALLQ_SERVER", "http://127.0.0.1:8080"), "the hall server's URL (env HALLQ_SERVER)")
	tokenFile := fs.String("token-file", "", "file holding an admin token")
	out := fs.String("o", "", "the backup file to write")
	caFile := fs.String("ca", "", "PEM certificate of the hall CA, for a hall serving HTTPS with its own CA")
	keyFile := fs.String("sm4-key-file", "", "encrypt the backup with SM4-GCM (国密) under the key in this file (32 hex digits); restore needs the same file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *tokenFile == "" || *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: queue-server backup -server URL -token-file FILE -o FILE [-sm4-key-file FILE]")
		return 2
	}
	key, err := readSM4Key(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := backup(ctx, *server, *tokenFile, *caFile, *out, key)
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	sealed := ""
	if key != nil {
		sealed = ", encrypted with SM4-GCM"
	}
	fmt.Fprintf(stdout, "%s: %d bytes, verified%s; the store and %d board media files\n", *out, res.size, sealed, res.media)
	for _, m := range res.missing {
		fmt.Fprintf(stdout, "board media %s (%q) was removed from the board while the backup was taken: not in it\n", m.ID, m.Name)
	}
	return 0
}

// backupResult is what backup wrote.
type backupResult struct {
	size    int64 // the backup file's bytes
	media   int   // board media files in it
	missing []hall.Media
}

// readSM4Key reads a backup key file: 32 hex digits (16 bytes), spaces
// around them ignored; "" is no key.
func readSM4Key(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != gm.SM4KeySize {
		return nil, fmt.Errorf("%s must hold an SM4 key: 32 hex digits (e.g. openssl rand -hex 16)", path)
	}
	return key, nil
}

// sealFile replaces the file at path by its SM4 sealed stream (gm.EncryptStream), synced.
func sealFile(path string, key []byte) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sm4.*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = gm.EncryptStream(tmp, in, key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("encrypting the backup: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}

func backup(ctx context.Context, server, tokenFile, caFile, out string, key []byte) (res backupResult, err error) {
	n, err := backupFile(ctx, server, tokenFile, caFile, out, key, &res)
	res.size = n
	return res, err
}

func backupFile(ctx context.Context, server, tokenFile, caFile, out string, key []byte, res *backupResult) (int64, error) {
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
	// marked as a backup, so that a hall started on this file (restored,
	// even by hand) begins a new epoch
	if err := store.MarkRestored(tmp.Name()); err != nil {
		return 0, err
	}
	if err := store.Verify(tmp.Name()); err != nil {
		return 0, err
	}
	// the board's images and videos are files beside the store: the
	// backup carries them (store.AddBackupMedia), fetched as the boards do
	res.media, res.missing, err = store.AddBackupMedia(tmp.Name(), func(m hall.Media) ([]byte, bool, error) {
		return fetchMedia(ctx, hc, server, strings.TrimSpace(string(tok)), m)
	})
	if err != nil {
		return 0, err
	}
	if err := store.Verify(tmp.Name()); err != nil {
		return 0, err
	}
	if key != nil {
		if err := sealFile(tmp.Name(), key); err != nil {
			return 0, err
		}
	}
	if fi, err := os.Stat(tmp.Name()); err == nil {
		n = fi.Size()
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

// fetchMedia downloads one board media file from the hall (GET
// /api/v1/board/media/{id}); ok is false when the hall no longer has it
// (404: removed from the board since the store was copied).
func fetchMedia(ctx context.Context, hc *http.Client, server, tok string, m hall.Media) (data []byte, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(server, "/")+"/api/v1/board/media/"+url.PathEscape(m.ID), nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, false, nil
	default:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb wire.ErrorBody
		if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
			return nil, false, fmt.Errorf("%s: %s", resp.Status, eb.Error.Err())
		}
		return nil, false, fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	data, err = io.ReadAll(io.LimitReader(resp.Body, m.Size+1))
	if err != nil {
		return nil, false, fmt.Errorf("receiving it: %w", err)
	}
	return data, true, nil
}

// Check runs `queue-server check FILE…`: it verifies each hall store file
// (a data directory's hall.db while the hall is stopped, or a backup)
// without serving or changing it, and prints what it holds. It returns 0
// when every file is sound.
func Check(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "usage: queue-server check FILE…  (a hall.db or a backup)")
		return 2
	}
	code := 0
	for _, path := range args {
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			path = filepath.Join(path, store.FileName)
		}
		info, err := store.Inspect(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			code = 1
			continue
		}
		epoch := info.Epoch
		if epoch == "" {
			epoch = `"" (made before epochs)`
		}
		kind := "a hall store"
		if info.Backup {
			kind = "a backup (its next start begins a new epoch)"
		}
		fmt.Fprintf(stdout, "%s: ok, %s: schema %d, %d events (%d forwarded), day %s, epoch %s, %d bytes\n",
			path, kind, info.Schema, info.Seq, info.Forwarded, info.Day, epoch, info.Size)
	}
	return code
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	return head[:n], nil
}

// openSealedBackup decrypts an SM4 backup into a temporary file in dir and
// returns its path.
func openSealedBackup(dir, backup string, key []byte) (string, error) {
	in, err := os.Open(backup)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".hall.db.decrypt.*")
	if err != nil {
		return "", err
	}
	err = gm.DecryptStream(tmp, in, key)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("%s: %w", backup, err)
	}
	return tmp.Name(), nil
}

// Restore runs `queue-server restore -data DIR BACKUP`: with the hall
// stopped, it verifies BACKUP, copies it into DIR as hall.db (the file it
// replaces is kept as hall.db.replaced-<time>), marks it so the hall
// begins a new epoch at its next start, and syncs; the board media the
// backup carries become DIR/board-media (the directory they replace is
// kept as board-media.replaced-<time>). It returns the exit code.
func Restore(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("queue-server restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("HALLQ_DATA", "./hallq-data"), "the hall's data directory (env HALLQ_DATA)")
	keyFile := fs.String("sm4-key-file", "", "the SM4 key file the backup was encrypted with (queue-server backup -sm4-key-file)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: queue-server restore -data DIR [-sm4-key-file FILE] BACKUP-FILE  (with the hall stopped)")
		return 2
	}
	key, err := readSM4Key(*keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "restore:", err)
		return 2
	}
	res, err := restore(*data, fs.Arg(0), time.Now(), key)
	if err != nil {
		fmt.Fprintln(stderr, "restore:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s restored into %s; start the hall: it begins a new epoch\n", fs.Arg(0), filepath.Join(*data, store.FileName))
	if res.replaced != "" {
		fmt.Fprintf(stdout, "the file it replaced is kept as %s\n", res.replaced)
	}
	media := filepath.Join(*data, mediaDirName)
	switch {
	case res.media:
		fmt.Fprintf(stdout, "the board's media restored into %s\n", media)
		if res.mediaReplaced != "" {
			fmt.Fprintf(stdout, "the media directory it replaced is kept as %s\n", res.mediaReplaced)
		}
	default:
		fmt.Fprintf(stdout, "the backup carries no board media (an older backup, or a raw copy): %s is left as it was\n", media)
	}
	for _, m := range res.missing {
		fmt.Fprintf(stdout, "board media %s (%q) has no file: the boards skip it; upload it again or remove it on the dashboard\n", m.ID, m.Name)
	}
	return 0
}

// mediaDirName is the board media's directory in the data directory
// (queue-server/api/board.go).
const mediaDirName = "board-media"

// restoreResult is what restore did.
type restoreResult struct {
	replaced      string       // the hall.db it replaced, renamed to this
	media         bool         // the backup carried the board's media, now in <data>/board-media
	mediaReplaced string       // the media directory it replaced, renamed to this
	missing       []hall.Media // media the restored board names that have no file
}

func restore(dir, backup string, now time.Time, key []byte) (res restoreResult, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	if head, err := readHead(backup); err != nil {
		return res, err
	} else if gm.IsStream(head) {
		if key == nil {
			return res, fmt.Errorf("%s is encrypted with SM4: give the key file it was made with (-sm4-key-file)", backup)
		}
		plain, err := openSealedBackup(dir, backup, key)
		if err != nil {
			return res, err
		}
		defer os.Remove(plain)
		backup = plain
	}
	if err := store.Verify(backup); err != nil {
		return res, err
	}
	dst := filepath.Join(dir, store.FileName)
	if fi, err := os.Stat(dst); err == nil && fi.Size() > 0 {
		// a running hall holds the file's lock: refuse rather than pull the
		// file from under it
		if inUse(dst) {
			return res, fmt.Errorf("%s is in use: stop the hall first", dst)
		}
	}
	in, err := os.Open(backup)
	if err != nil {
		return res, err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".hall.db.restore.*")
	if err != nil {
		return res, err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, in)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	if err := store.MarkRestored(tmp.Name()); err != nil {
		return res, err
	}
	// the board's media out of the copy, into a directory beside the one
	// the hall serves them from
	mediaTmp, err := os.MkdirTemp(dir, "."+mediaDirName+".restore.*")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(mediaTmp) // gone once renamed, or on any failure
	res.media, res.missing, err = store.ExtractBackupMedia(tmp.Name(), mediaTmp)
	if err != nil {
		return res, err
	}
	if err := store.Verify(tmp.Name()); err != nil {
		return res, err
	}
	stamp := now.Format("20060102-150405")
	if _, err := os.Stat(dst); err == nil {
		res.replaced = dst + ".replaced-" + stamp
		if err := os.Rename(dst, res.replaced); err != nil {
			return res, err
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return res, err
	}
	mediaDir := filepath.Join(dir, mediaDirName)
	if res.media {
		if _, err := os.Stat(mediaDir); err == nil {
			res.mediaReplaced = mediaDir + ".replaced-" + stamp
			if err := os.Rename(mediaDir, res.mediaReplaced); err != nil {
				return res, fmt.Errorf("the store is restored, its board media not: %w", err)
			}
		}
		if err := os.Rename(mediaTmp, mediaDir); err != nil {
			return res, fmt.Errorf("the store is restored, its board media not: %w", err)
		}
	} else {
		// an older backup: the files in place serve the media it names (an
		// id names one file for good)
		named, err := store.BoardMedia(dst)
		if err != nil {
			return res, err
		}
		for _, m := range named {
			if _, err := os.Stat(filepath.Join(mediaDir, m.ID)); err != nil {
				res.missing = append(res.missing, m)
			}
		}
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return res, nil
}

// inUse reports whether a process holds the bbolt lock on path.
func inUse(path string) bool {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
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

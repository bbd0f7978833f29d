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
)

// Main runs the reference central platform until ctx is cancelled: an
// embedded NATS server with JetStream (or an existing one with -nats), the
// streams, the multi-hall view and GET /halls. args are the command-line
// flags without the program name. Once the view is served it logs
// "central view" with its URL (the real port when -http asks for port 0).
// A cancelled ctx is a clean stop at any point, also while starting.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	if err := run(ctx, args, stderr); err != nil && ctx.Err() == nil {
		return err
	}
	return nil // done, or asked to stop: whatever was being set up stops with it
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("central", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", ".hallq-central", "JetStream store directory of the embedded NATS server")
	natsAddr := fs.String("nats-listen", "127.0.0.1:4222", "address of the embedded NATS server")
	natsURL := fs.String("nats", "", "use this NATS server instead of an embedded one")
	httpAddr := fs.String("http", "127.0.0.1:8090", "address of the JSON view (GET /halls)")
	crypto := fs.String("crypto", "standard", "the province's cryptography: standard (HMAC-SHA256 citizen keys) or gm, the 国密 option (HMAC-SM3); halls must use the same")
	dup := fs.Duration("duplicate-window", 24*time.Hour, "duplicate window of stream HALLS; must cover the longest re-publish gap")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	scheme, err := SchemeOfCrypto(*crypto)
	if err != nil {
		return err
	}
	url := *natsURL
	if url == "" {
		host, port, err := net.SplitHostPort(*natsAddr)
		if err != nil {
			return fmt.Errorf("-nats-listen: %w", err)
		}
		var p int
		if _, err := fmt.Sscan(port, &p); err != nil {
			return fmt.Errorf("-nats-listen: bad port %q", port)
		}
		srv, err := natsembed.Start(natsembed.Options{Dir: *dir, Host: host, Port: p})
		if err != nil {
			return err
		}
		defer srv.Stop()
		url = srv.URL()
		log.Info("embedded NATS server with JetStream", "url", url, "store", *dir)
	}
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.Name("hallq-central"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := EnsureStreams(ctx, js, StreamOptions{DuplicateWindow: *dup}); err != nil {
		return err
	}
	view := NewView(log)
	view.KeyScheme = scheme
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("-http: %w", err)
	}
	hs := &http.Server{Handler: view.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- view.Run(ctx, js) }()
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	log.Info("central view", "url", "http://"+ln.Addr().String()+"/halls")
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			hs.Close()
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return hs.Shutdown(sctx)
}

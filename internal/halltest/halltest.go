// Package halltest starts whole halls for tests, in the style of
// nats-server's test.RunServer: RunHall gives a real queue-server (bbolt in
// a temp dir, HTTP and websocket on a random loopback port, the sample
// hall unless told otherwise) on a fake clock in the hall's time zone,
// with an admin client, closed when the test ends. Web, kiosk, API and
// tool tests share it instead of each wiring server.Start again.
//
// The server's own package tests cannot import it (it imports the
// server); they share the fake clock of internal/testclock with everyone.
package halltest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/internal/testclock"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
)

// Options shape a test hall; the zero value is the sample hall at 10:00 on
// testclock's working day, in a fresh temp dir, logging nowhere.
type Options struct {
	Dir     string       // data directory; default t.TempDir()
	Config  *hall.Config // default hall.SampleConfig()
	OpenAll bool         // issue tickets around the clock (Config.OpenAllDay)
	Clock   hall.Clock   // default: a testclock at testclock.At(10, 0)
	Real    bool         // the wall clock instead of a fake one (Clock nil)
	Logger  *slog.Logger // default: discard
	Pages   http.Handler // the web faces, served at /
	Tweak   func(*server.Options)
}

// Hall is a running test hall.
type Hall struct {
	*server.Server
	T     testing.TB
	Dir   string
	Clock *testclock.Clock // nil when Options.Clock or Real chose another
	Admin *client.Client   // holds the bootstrap admin token
	Token string           // the bootstrap admin token
	opts  server.Options
}

// RunHall starts a hall and closes it when the test ends.
func RunHall(t testing.TB, o Options) *Hall {
	t.Helper()
	h := &Hall{T: t, Dir: o.Dir}
	if h.Dir == "" {
		h.Dir = t.TempDir()
	}
	cfg := hall.SampleConfig()
	if o.Config != nil {
		cfg = *o.Config
	}
	if o.OpenAll {
		cfg.OpenAllDay()
	}
	clk := o.Clock
	if clk == nil && !o.Real {
		h.Clock = testclock.New(testclock.At(10, 0))
		clk = h.Clock
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h.opts = server.Options{DataDir: h.Dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: clk, Logger: log, Pages: o.Pages}
	if o.Tweak != nil {
		o.Tweak(&h.opts)
	}
	h.start()
	tok, err := os.ReadFile(filepath.Join(h.Dir, server.BootstrapFile))
	if err != nil {
		t.Fatalf("halltest: the bootstrap token: %v", err)
	}
	h.Token = strings.TrimSpace(string(tok))
	h.Admin = client.New(h.URL, h.Token)
	return h
}

func (h *Hall) start() {
	h.T.Helper()
	s, err := server.Start(h.opts)
	if err != nil {
		h.T.Fatalf("halltest: start the hall: %v", err)
	}
	h.Server = s
	h.T.Cleanup(func() { s.Close() })
}

// Restart closes the hall and starts it again on the same address and data.
func (h *Hall) Restart() {
	h.T.Helper()
	h.Stop()
	h.Start()
}

// Stop closes the hall, as a power cut or an upgrade would, keeping its
// address and data for Start: clients see it unreachable meanwhile.
func (h *Hall) Stop() {
	h.T.Helper()
	h.opts.Addr = h.Addr
	if err := h.Close(); err != nil {
		h.T.Fatalf("halltest: close: %v", err)
	}
}

// Start starts a stopped hall again on the same address and data.
func (h *Hall) Start() {
	h.T.Helper()
	h.start()
}

// TokenFile is the path of the bootstrap admin token file.
func (h *Hall) TokenFile() string { return filepath.Join(h.Dir, server.BootstrapFile) }

// As returns a client with a new token of role named name (clerks are
// bound to window; 0 for other roles).
func (h *Hall) As(role, name string, window int) *client.Client {
	h.T.Helper()
	tk, err := h.Admin.CreateToken(context.Background(), wire.TokenRequest{Name: name, Role: role, Window: window})
	if err != nil {
		h.T.Fatalf("halltest: a %s token: %v", role, err)
	}
	return client.New(h.URL, tk.Token)
}

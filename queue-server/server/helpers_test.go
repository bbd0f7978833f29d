package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/internal/testclock"
	"hallq/queue-server/api/apispec"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

type clock = testclock.Clock

type testHall struct {
	*Server
	t      *testing.T
	dir    string
	clock  *clock
	admin  *client.Client
	reset  bool         // start with -config-reset
	cfg    *hall.Config // the configuration; the sample hall's when nil
	crypto string       // Options.Crypto
}

// MustHall starts a whole hall on a random loopback port with bbolt in a
// temp dir and a clock at 10:00 hall time.
func MustHall(t *testing.T) *testHall { t.Helper(); return mustHallWith(t, nil, "") }

// mustHallWith is MustHall with the configuration cfg (the sample hall's
// when nil) and Options.Crypto.
func mustHallWith(t *testing.T, cfg *hall.Config, crypto string) *testHall {
	t.Helper()
	h := &testHall{t: t, dir: t.TempDir(), clock: testclock.New(testclock.At(10, 0)), cfg: cfg, crypto: crypto}
	h.start("127.0.0.1:0")
	tok, err := os.ReadFile(filepath.Join(h.dir, BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	h.admin = client.New(h.URL, strings.TrimSpace(string(tok)))
	h.admin.HTTP = apispec.Client(t) // every exchange is held to the OpenAPI document
	return h
}

func (h *testHall) start(addr string) {
	h.t.Helper()
	cfg := hall.SampleConfig()
	if h.cfg != nil {
		cfg = *h.cfg
	}
	s, err := Start(Options{DataDir: h.dir, Addr: addr, Config: &cfg, ConfigReset: h.reset, Crypto: h.crypto, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		h.t.Fatal(err)
	}
	h.Server = s
	h.t.Cleanup(func() { s.Close() })
}

// restart closes the server and starts it again on the same address and data.
func (h *testHall) restart() {
	h.t.Helper()
	addr := h.Addr
	h.Close()
	h.start(addr)
}

// as returns a client with a new token of role (clerks bound to window).
func (h *testHall) as(role string, window int) *client.Client {
	h.t.Helper()
	name := role
	if window > 0 {
		name = role + "-" + string(rune('0'+window))
	}
	tk, err := h.admin.CreateToken(context.Background(), wire.TokenRequest{Name: name, Role: role, Window: window})
	if err != nil {
		h.t.Fatal(err)
	}
	c := client.New(h.URL, tk.Token)
	c.HTTP = h.admin.HTTP
	return c
}

const key1 = "1111111111111111111111111111111111111111111111111111111111111111"

package app

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/internal/halltest"
	"hallq/kiosk/outbox"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
)

// testLogs keeps every log line the servers and kiosks of this package's
// tests write (at debug level), so the privacy test can scan them.
var testLogs syncBuffer

var quiet = slog.New(slog.NewTextHandler(&testLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf...)
}

// hallFixture is a whole hall (internal/halltest) on the sample hall at
// 10:00, logging into testLogs.
type hallFixture struct {
	*halltest.Hall
	t testing.TB
}

func MustServer(t testing.TB) *hallFixture { t.Helper(); return mustServerWith(t, nil) }

// mustServerWith starts a server on the sample hall as edit changes it.
func mustServerWith(t testing.TB, edit func(*hall.Config)) *hallFixture {
	t.Helper()
	return mustServerCrypto(t, edit, "")
}

// mustServerCrypto is mustServerWith with server.Options.Crypto.
func mustServerCrypto(t testing.TB, edit func(*hall.Config), crypto string) *hallFixture {
	t.Helper()
	cfg := hall.SampleConfig()
	if edit != nil {
		edit(&cfg)
	}
	return &hallFixture{Hall: halltest.RunHall(t, halltest.Options{Config: &cfg, Logger: quiet,
		Tweak: func(o *server.Options) { o.Crypto = crypto }}), t: t}
}

func (h *hallFixture) kioskToken(name string) string {
	h.t.Helper()
	tk, err := h.Admin.CreateToken(context.Background(), wire.TokenRequest{Name: name, Role: wire.RoleKiosk})
	if err != nil {
		h.t.Fatal(err)
	}
	return tk.Token
}

type kioskFixture struct {
	dir, token string
	out        *outbox.Store
	core       *Core
}

func (h *hallFixture) MustKiosk(name string, leaseSize int) *kioskFixture {
	h.t.Helper()
	k := &kioskFixture{dir: h.t.TempDir(), token: h.kioskToken(name)}
	h.open(k, leaseSize)
	return k
}

func (h *hallFixture) open(k *kioskFixture, leaseSize int) {
	h.t.Helper()
	out, err := outbox.Open(k.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { out.Close() })
	k.out = out
	core, err := NewCore(CoreConfig{Server: "http://" + h.Addr, Token: k.token, LeaseSize: leaseSize, Logger: quiet, Now: h.Clock.Now}, out)
	if err != nil {
		h.t.Fatal(err)
	}
	k.core = core
	// the figures a connection would bring, for the lease top-up
	if svcs, err := k.core.cl.Services(context.Background()); err == nil {
		k.core.services = svcs
	}
}

func TestOnlineIssueGoesThroughServer(t *testing.T) {
	h := MustServer(t)
	k := h.MustKiosk("kiosk-1", 10)
	ctx := context.Background()
	tk, err := k.core.Issue(ctx, "E", nil, hall.WalkIn)
	if err != nil || tk.Offline || tk.Number != "E001" || !strings.HasSuffix(tk.StatusURL, "/t/"+tk.ID) {
		t.Fatalf("online issue: %v %+v", err, tk)
	}
	_, err = k.core.Issue(ctx, "D", nil, hall.WalkIn)
	if hall.ErrorReason(err) != "id_required" {
		t.Fatalf("a server refusal must reach the citizen, not turn into an offline ticket: %v", err)
	}
}

// TestPartitionLosesNothing: the server goes away, two kiosks issue 50
// tickets offline between them, one kiosk restarts on the way, the server
// comes back: every ticket is on the server, no number twice, and the queue
// is in issue order.
func TestPartitionLosesNothing(t *testing.T) {
	h := MustServer(t)
	ctx := context.Background()
	k1, k2 := h.MustKiosk("kiosk-1", 30), h.MustKiosk("kiosk-2", 30)
	for _, k := range []*kioskFixture{k1, k2} {
		if err := k.core.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	online, err := k1.core.Issue(ctx, "E", nil, hall.WalkIn)
	if err != nil {
		t.Fatal(err)
	}
	h.Stop()
	var issued []Ticket
	for i := range 50 {
		h.Clock.Advance(20 * time.Second)
		k := []*kioskFixture{k1, k2}[i%2]
		if i == 25 { // kiosk 1 restarts while offline
			k1.out.Close()
			h.open(k1, 30)
		}
		tk, err := k.core.Issue(ctx, "E", nil, hall.WalkIn)
		if err != nil {
			t.Fatalf("offline issue %d: %v", i, err)
		}
		if !tk.Offline {
			t.Fatalf("ticket %d not offline", i)
		}
		issued = append(issued, tk)
	}
	h.Start()
	for _, k := range []*kioskFixture{k1, k2} {
		if err := k.core.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if n := k.core.Pending(); n != 0 {
			t.Fatalf("%d offline tickets still pending", n)
		}
	}
	all, err := h.Admin.Tickets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	numbers := map[string]bool{}
	byID := map[string]hall.TicketView{}
	for _, tv := range all {
		if numbers[tv.Number] {
			t.Fatalf("number %s twice", tv.Number)
		}
		numbers[tv.Number] = true
		byID[tv.ID] = tv
	}
	for _, tk := range issued {
		got, ok := byID[tk.ID]
		if !ok || got.Number != tk.Number || !got.Offline {
			t.Fatalf("offline ticket %s lost or changed: %+v", tk.Number, got)
		}
	}
	if len(all) != 51 {
		t.Fatalf("server holds %d tickets, want 51", len(all))
	}
	// the queue (one class, one service) is in issue order
	q, _ := h.Admin.Tickets(ctx)
	waiting := slices.DeleteFunc(q, func(tv hall.TicketView) bool { return tv.Status != hall.Waiting })
	if waiting[0].ID != online.ID {
		t.Fatalf("the online ticket issued first is not first: %s", waiting[0].Number)
	}
	for i := 1; i < len(waiting); i++ {
		if waiting[i].IssuedAt.Before(waiting[i-1].IssuedAt) {
			t.Fatalf("queue not in issue order at %d: %s after %s", i, waiting[i].Number, waiting[i-1].Number)
		}
	}
	t.Logf("%d offline tickets from 2 kiosks (one restarted): all on the server, 0 duplicate numbers", len(issued))
}

func TestLeasesRunOutThenTicketsUnavailable(t *testing.T) {
	h := MustServer(t)
	ctx := context.Background()
	k := h.MustKiosk("kiosk-1", 2)
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	for i := range 2 {
		if _, err := k.core.Issue(ctx, "E", nil, hall.WalkIn); err != nil {
			t.Fatalf("ticket %d: %v", i, err)
		}
	}
	if _, err := k.core.Issue(ctx, "E", nil, hall.WalkIn); err != ErrTicketsUnavailable {
		t.Fatalf("after the lease: %v", err)
	}
}

// A manager removes a service while the kiosk holds a lease for it: the
// server releases the lease, and the kiosk drops its copy at the next sync,
// so it cannot print numbers that lapsed.
func TestRemovedServiceLeaseIsDropped(t *testing.T) {
	h := MustServer(t)
	ctx := context.Background()
	k := h.MustKiosk("kiosk-1", 5)
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if free := k.core.LeasedFree(); free["E"] != 5 {
		t.Fatalf("leased before the change: %v", free)
	}
	cfg := h.Server.Service.Config()
	cfg.Services = slices.DeleteFunc(cfg.Services, func(s hall.ServiceConfig) bool { return s.Code == "E" })
	for i := range cfg.Windows {
		cfg.Windows[i].Services = slices.DeleteFunc(cfg.Windows[i].Services, func(s string) bool { return s == "E" })
	}
	cfg.Windows = slices.DeleteFunc(cfg.Windows, func(w hall.WindowConfig) bool { return len(w.Services) == 0 })
	if _, err := h.Admin.Do(ctx, "PUT", "/api/v1/config", "", cfg, nil); err != nil {
		t.Fatalf("removing service E with the kiosk's lease out: %v", err)
	}
	svcs, err := k.core.cl.Services(ctx) // what the next services frame brings
	if err != nil {
		t.Fatal(err)
	}
	k.core.mu.Lock()
	k.core.services = svcs
	k.core.mu.Unlock()
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if free := k.core.LeasedFree(); free["E"] != 0 || free["A"] != 5 {
		t.Fatalf("leased after E was removed: %v, want no E and the others kept", free)
	}
}

// An offline ticket the server can never take (the kiosk was cut off over
// night: its lease was yesterday's) is set aside once, with the reason, and
// counted in the device report — not retried and logged every half minute.
func TestOfflineTicketRefusedForGoodIsSetAside(t *testing.T) {
	h := MustServer(t)
	ctx := context.Background()
	k := h.MustKiosk("kiosk-1", 5)
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	h.Stop()
	late, err := k.core.Issue(ctx, "E", nil, hall.WalkIn)
	if err != nil || !late.Offline {
		t.Fatalf("offline issue: %v %+v", err, late)
	}
	h.Clock.Advance(24 * time.Hour) // back the next morning
	h.Start()
	for range 2 {
		if err := k.core.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		aside, err := k.out.Aside(time.Time{})
		if err != nil || len(aside) != 1 || aside[0].Ticket.ID != late.ID || !strings.Contains(aside[0].Reason, "unknown_lease") {
			t.Fatalf("set aside: %v %+v, want %s with the server's reason", err, aside, late.Number)
		}
		if n := k.core.Pending(); n != 0 {
			t.Fatalf("%d tickets still pending", n)
		}
	}
	k.core.ReportDevices(ctx, k.core.DeviceReport(wire.DeviceHealth{Reader: "ok", Printer: "ok", Scanner: "ok"}))
	var devs []wire.DeviceHealth
	if _, err := h.Admin.Do(ctx, "GET", "/api/v1/devices", "", nil, &devs); err != nil || len(devs) != 1 || devs[0].SetAside != 1 || devs[0].Pending != 0 {
		t.Fatalf("devices: %v %+v, want one kiosk with 1 set aside", err, devs)
	}
	// counted the day it was set aside (its citizen may be in the hall), kept a week
	h.Clock.Advance(24 * time.Hour)
	if n := k.core.SetAside(); n != 0 {
		t.Errorf("the next day %d tickets count as set aside, want 0", n)
	}
	if aside, _ := k.out.Aside(time.Time{}); len(aside) != 1 {
		t.Errorf("the record is gone after a day: %+v", aside)
	}
	h.Clock.Advance(7 * 24 * time.Hour)
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if aside, _ := k.out.Aside(time.Time{}); len(aside) != 0 {
		t.Errorf("a record older than a week is kept: %+v", aside)
	}
}

func TestLostAnswerLeavesNoPhantom(t *testing.T) {
	h := MustServer(t)
	ctx := context.Background()
	k := h.MustKiosk("kiosk-1", 5)
	k.core.Sync(ctx)
	// the server took the ticket but the kiosk never heard back
	r := hall.IssueRequest{Service: "E"}
	phantom, err := k.core.cl.Issue(ctx, "lost-answer", r)
	if err != nil {
		t.Fatal(err)
	}
	k.out.AddDoubt("lost-answer", r)
	if err := k.core.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := h.Admin.Ticket(ctx, phantom.ID)
	if got.Status != hall.Cancelled {
		t.Fatalf("phantom ticket left %s", got.Status)
	}
	if d, _ := k.out.Doubts(); len(d) != 0 {
		t.Fatal("doubt not cleared")
	}
}

package bridge

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"hallq/devices/sim"
	"hallq/kiosk/app"
	"hallq/kiosk/outbox"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
	ui "hallq/ui/kiosk"
)

// clock is the hall's clock, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// screenRig is the whole kiosk with its real screens in a headless Fyne
// window: a real hall server, the device simulators, the drivers, the
// core, the flow, this bridge and the UI. The test goroutine is the UI's
// thread: views from the flow queue up and pump applies them.
type screenRig struct {
	t      *testing.T
	admin  *client.Client
	clock  *clock
	sims   *sim.Devices
	win    fyne.Window
	screen *ui.UI
	views  chan ui.View
	exited chan struct{}
}

func mustScreens(t *testing.T) *screenRig {
	t.Helper()
	test.NewTempApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	srv, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tok, _ := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	admin := client.New(srv.URL, strings.TrimSpace(string(tok)))
	kt, err := admin.CreateToken(ctx, wire.TokenRequest{Name: "kiosk-1", Role: wire.RoleKiosk})
	if err != nil {
		t.Fatal(err)
	}
	out, err := outbox.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	core, err := app.NewCore(app.CoreConfig{Server: srv.URL, Token: kt.Token, LeaseSize: 5, Logger: quiet, Now: clk.Now}, out)
	if err != nil {
		t.Fatal(err)
	}
	sims, err := sim.StartAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sims.Close() })
	// ReplyTime: the simulators share a loaded machine; their speed is not under test here
	devs, err := app.OpenDevices(app.DeviceConfig{Reader: sims.IDCard.Path(), Printer: sims.Printer.Path(), Scanner: sims.Scanner.Path(), ReplyTime: "5s"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devs.Close() })
	r := &screenRig{t: t, admin: admin, clock: clk, sims: sims, views: make(chan ui.View, 256), exited: make(chan struct{}, 1)}
	reader, printer, scanner := devs.Parts()
	flow := app.NewFlow(core, reader, printer, scanner, app.FlowConfig{Poll: 50 * time.Millisecond, AdminPIN: "2468"},
		func(v app.View) { r.views <- View(v) })
	go core.Run(ctx, flow.Refresh)
	for deadline := time.Now().Add(15 * time.Second); !core.Online() || len(core.Services()) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("kiosk never online")
		}
	}
	r.win = test.NewWindow(nil)
	t.Cleanup(r.win.Close)
	r.win.Resize(fyne.NewSize(1080, 1920))
	r.screen = ui.New(r.win, New(flow, core, func() { r.exited <- struct{}{} }))
	go flow.Run(ctx)
	r.waitFor("请选择要办理的业务")
	return r
}

// pump applies the views the flow has sent so far.
func (r *screenRig) pump() {
	for {
		select {
		case v := <-r.views:
			r.screen.Show(v)
			r.win.Resize(fyne.NewSize(1080, 1920))
		default:
			return
		}
	}
}

func (r *screenRig) texts() []string {
	var out []string
	walk(r.win.Canvas().Content(), func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Text:
			out = append(out, x.Text)
		case *widget.RichText:
			out = append(out, x.String())
		}
	})
	return out
}

func (r *screenRig) shows(s string) bool {
	return slices.ContainsFunc(r.texts(), func(t string) bool { return strings.Contains(t, s) })
}

// waitFor applies views until the screen shows s.
func (r *screenRig) waitFor(s string) {
	r.t.Helper()
	timeout := time.After(15 * time.Second)
	for r.pump(); !r.shows(s); r.pump() {
		select {
		case v := <-r.views:
			r.screen.Show(v)
			r.win.Resize(fyne.NewSize(1080, 1920))
		case <-timeout:
			r.t.Fatalf("screen never showed %q; it shows %q", s, r.texts())
		}
	}
}

// idleUntil lets the hall's time pass, a minute at a time, until the
// screen shows s (the flow learns of a tap asynchronously, so a single
// jump could come before it).
func (r *screenRig) idleUntil(s string) {
	r.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !r.shows(s); {
		if time.Now().After(deadline) {
			r.t.Fatalf("screen never showed %q after idling; it shows %q", s, r.texts())
		}
		r.clock.Advance(time.Minute)
		select {
		case v := <-r.views:
			r.screen.Show(v)
			r.win.Resize(fyne.NewSize(1080, 1920))
		case <-time.After(2 * time.Second): // the flow checks its timers every second
		}
		r.pump()
	}
}

// waitGone applies views until the screen no longer shows s.
func (r *screenRig) waitGone(s string) {
	r.t.Helper()
	timeout := time.After(15 * time.Second)
	for r.pump(); r.shows(s); r.pump() {
		select {
		case v := <-r.views:
			r.screen.Show(v)
			r.win.Resize(fyne.NewSize(1080, 1920))
		case <-timeout:
			r.t.Fatalf("screen still shows %q", s)
		}
	}
}

// tap taps the innermost tappable object showing label.
func (r *screenRig) tap(label string) {
	r.t.Helper()
	r.pump()
	var target fyne.Tappable
	walk(r.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if tp, ok := o.(fyne.Tappable); ok && slices.ContainsFunc(texts(o), func(s string) bool { return strings.Contains(s, label) }) {
			target = tp
		}
	})
	if target == nil {
		r.t.Fatalf("nothing to tap shows %q; screen shows %q", label, r.texts())
	}
	test.Tap(target)
}

func texts(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Text:
			out = append(out, x.Text)
		case *widget.RichText:
			out = append(out, x.String())
		}
	})
	return out
}

func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, visit)
		}
	}
}

// waitPages waits until the printer simulator has decoded n pages.
func (r *screenRig) waitPages(n int) []sim.Page {
	r.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if p := r.sims.Printer.Printed(); len(p) >= n {
			return p
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%d pages printed, want %d", len(r.sims.Printer.Printed()), n)
		}
	}
}

func (r *screenRig) tickets() []hall.TicketView {
	r.t.Helper()
	ts, err := r.admin.Tickets(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return ts
}

// TestScreensDriveTheRealKiosk presses the kiosk's buttons on its real
// screens and checks each effect on the hall server (and the printer).
func TestScreensDriveTheRealKiosk(t *testing.T) {
	r := mustScreens(t)

	// a tile without ID: a ticket on the server, printed
	r.tap("综合咨询")
	r.waitFor("您的号码")
	ts := r.tickets()
	if len(ts) != 1 || !r.shows(ts[0].Number) || ts[0].PrintFailed {
		t.Fatalf("server tickets %+v; screen %q", ts, r.texts())
	}
	r.waitPages(1)
	r.tap("完成")
	r.waitFor("请选择要办理的业务")

	// the card first, then the tile: the ticket comes without a second wait
	r.sims.IDCard.Place(sim.SampleResident)
	r.waitFor("已放好身份证")
	r.tap("户政")
	r.waitFor("请取回您的身份证")
	ts = r.tickets()
	if i := slices.IndexFunc(ts, func(t hall.TicketView) bool { return t.Service == "A" }); len(ts) != 2 || i < 0 ||
		ts[i].MaskedID != sim.SampleResident.Number.Masked() || !r.shows(ts[i].Number) {
		t.Fatalf("card-first ticket %+v", ts)
	}
	r.sims.IDCard.Remove()
	r.waitGone("请取回您的身份证")
	r.tap("完成")
	r.waitFor("请选择要办理的业务")

	// the appointment tile, cancel
	r.tap("我有预约")
	r.waitFor("请刷身份证或扫描预约二维码")
	r.tap("取消")
	r.waitFor("请选择要办理的业务")

	// an unknown booking: refusal, walk-in instead leads home
	r.tap("我有预约")
	r.waitFor("请刷身份证或扫描预约二维码")
	r.sims.Scanner.Scan("BK-404")
	r.waitFor("没有找到您的预约")
	r.tap("改取普通号")
	r.waitFor("请选择要办理的业务")

	// a service needing a card, nobody there: still there? continue
	r.tap("出入境")
	r.waitFor("请将身份证放在读卡区")
	r.clock.Advance(time.Minute)
	r.waitFor("您还在吗？")
	r.tap("继续办理")
	r.waitFor("请将身份证放在读卡区")
	r.tap("取消")
	r.waitFor("请选择要办理的业务")
	if n := len(r.tickets()); n != 2 {
		t.Fatalf("cancelled steps issued tickets: %d", n)
	}

	// English, then idle on home: the next visitor gets Chinese again
	r.tap("English")
	r.waitFor("Choose a service")
	r.idleUntil("长辈模式") // the Chinese switch labels

	// the hidden gesture, the PIN, the service screen and exit
	for range 5 {
		r.tap("江岸区公安政务服务中心")
	}
	r.waitFor("请输入管理密码")
	for _, d := range "2468" {
		r.tap(string(d))
	}
	r.tap("确定")
	r.waitFor("维护模式")
	r.waitFor("已连接")
	r.tap("退出自助机")
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		t.Fatal("exit did not reach the kiosk")
	}
}

// The per-ID limit on screen: the tickets held, and a reprint that prints
// again without issuing.
func TestScreensReprintAHeldTicket(t *testing.T) {
	r := mustScreens(t)
	r.sims.IDCard.Place(sim.SampleResident)
	r.waitFor("已放好身份证")
	for range 2 { // 户政 allows two a day per ID card
		r.tap("户政")
		r.waitFor("请取回您的身份证")
		r.tap("完成")
		r.waitFor("读卡区还有身份证") // the card stays for the next tile
	}
	r.tap("户政")
	r.waitFor("您今天已经取过该业务的号了")
	held := r.tickets()
	slices.SortFunc(held, func(a, b hall.TicketView) int { return strings.Compare(a.Number, b.Number) })
	pages := len(r.sims.Printer.Printed())
	r.tap("补打号票 " + held[0].Number)
	r.waitFor("补打号票")
	r.waitFor(held[0].Number)
	if n := len(r.tickets()); n != 2 {
		t.Fatalf("a reprint issued a ticket: %d on the server", n)
	}
	if got := r.waitPages(pages + 1); !strings.Contains(got[len(got)-1].Text(), "补打") {
		t.Fatalf("reprint:\n%s", got[len(got)-1].Text())
	}
}

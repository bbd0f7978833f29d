// Package demo starts a whole hall on one machine for `make run`: the
// queue-server with the sample hall (open around the clock) and its web
// faces, a stand-in central platform, the kiosk's three devices simulated on
// pseudo-terminals, and a kiosk configuration wired to them.
package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"hallq/central/platform"
	"hallq/devices/sim"
	"hallq/kiosk/app"
	"hallq/queue-server/client"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
	"hallq/ui/web"
)

// Hall is a running demo hall.
type Hall struct {
	Server  *server.Server
	Devices *sim.Devices
	Kiosk   app.Config
	Admin   string // the admin token
	Display string // a display token, for the board link (never the admin token)
}

// Options place the demo.
type Options struct {
	DataDir string
	Addr    string // hall server, e.g. 127.0.0.1:8080
	Central bool   // also run the stand-in central (NATS on 127.0.0.1:4222, view on :8090)
	Logger  *slog.Logger
}

// Start starts the hall, the central and the simulators.
func Start(ctx context.Context, o Options) (*Hall, error) {
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	so := server.Options{DataDir: filepath.Join(o.DataDir, "hall"), Addr: o.Addr, Config: &cfg, Logger: o.Logger, Pages: web.Handler()}
	if o.Central {
		go func() {
			args := []string{"-data", filepath.Join(o.DataDir, "central"), "-nats-listen", "127.0.0.1:4222", "-http", "127.0.0.1:8090"}
			if err := platform.Main(ctx, args, io.Discard); err != nil && ctx.Err() == nil {
				o.Logger.Error("demo central", "err", err)
			}
		}()
		so.Forward = &forward.Config{NATSURL: "nats://127.0.0.1:4222"}
	}
	srv, err := server.Start(so)
	if err != nil {
		return nil, err
	}
	tok, err := os.ReadFile(filepath.Join(so.DataDir, server.BootstrapFile))
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("the demo needs the bootstrap token (a fresh data dir): %w", err)
	}
	admin := strings.TrimSpace(string(tok))
	kt, err := client.New(srv.URL, admin).CreateToken(ctx, wire.TokenRequest{Name: fmt.Sprintf("kiosk-demo-%d", time.Now().Unix()), Role: wire.RoleKiosk})
	if err != nil {
		srv.Close()
		return nil, err
	}
	dt, err := client.New(srv.URL, admin).CreateToken(ctx, wire.TokenRequest{Name: fmt.Sprintf("board-demo-%d", time.Now().Unix()), Role: wire.RoleDisplay})
	if err != nil {
		srv.Close()
		return nil, err
	}
	if err := bookSample(ctx, srv, admin); err != nil {
		srv.Close()
		return nil, err
	}
	// the devices at a hall's line rates (the kiosk is configured to match),
	// behind stable links so "unplug"/"plug" at the console come back
	devs, err := sim.Start(ctx, sim.HallConfig().WithLinks(filepath.Join(o.DataDir, "devices")))
	if err != nil {
		srv.Close()
		return nil, err
	}
	full := false // a window scaled to the screen (fills an xvfb-run 1080x1920 screen)
	k := app.Config{Server: srv.URL, Token: kt.Token, DataDir: filepath.Join(o.DataDir, "kiosk"), AdminPIN: "2468", Fullscreen: &full,
		Devices: app.DeviceConfig{Reader: devs.IDCard.Path(), Printer: devs.Printer.Path(), Scanner: devs.Scanner.Path(),
			ReaderBaud: devs.IDCard.Baud(), PrinterBaud: devs.Printer.Baud(), ScannerBaud: devs.Scanner.Baud()}}
	if err := k.Validate(); err != nil {
		devs.Close()
		srv.Close()
		return nil, err
	}
	return &Hall{Server: srv, Devices: devs, Kiosk: k, Admin: admin, Display: dt.Token}, nil
}

// bookSample books a booking online for the sample citizen (the card
// the simulator places with "card"): booking BK-1, service B, a slot that
// starts in ten minutes — so "scan BK-1" or the card at "I have an
// appointment" checks in.
func bookSample(ctx context.Context, srv *server.Server, admin string) error {
	secret, err := srv.Store.Secret()
	if err != nil {
		return err
	}
	slot := time.Now().Add(10 * time.Minute).Truncate(time.Minute)
	b := hall.Booking{ID: "BK-1", CitizenKey: sim.SampleResident.Number.Key(secret), MaskedID: sim.SampleResident.Number.Masked(),
		Service: "B", SlotStart: slot, SlotEnd: slot.Add(30 * time.Minute)}
	_, err = client.New(srv.URL, admin).Do(ctx, "POST", "/api/v1/bookings", "", b, nil)
	return err
}

// Console reads device commands (place a card, scan a code, paper out …)
// from in until ctx ends.
func (h *Hall) Console(ctx context.Context, in io.Reader, out io.Writer) {
	tickets := filepath.Join(h.Kiosk.DataDir, "tickets") // each printed ticket as a PNG
	if err := os.MkdirAll(tickets, 0o755); err != nil {
		tickets = ""
	} else {
		fmt.Fprintf(out, "printed tickets are saved as PNG in %s\n", tickets)
	}
	sim.Console(ctx, h.Devices, in, out, tickets, 576)
}

// Close stops everything.
func (h *Hall) Close() {
	h.Devices.Close()
	h.Server.Close()
}

// Banner tells a newcomer what runs where.
func (h *Hall) Banner(w io.Writer, central bool) {
	u := h.Server.URL
	fmt.Fprintf(w, `
hallq demo hall is running
  hall board      %[1]s/display?token=%[3]s   (a display token: it can only show the board)
  clerk console   %[1]s/clerk          (sign in with a clerk token; create one on the dashboard)
  dashboard       %[1]s/dashboard      (sign in with the admin token below)
  admin token     %[2]s
`, u, h.Admin, h.Display)
	if central {
		fmt.Fprintln(w, "  central view    http://127.0.0.1:8090/halls")
	}
	fmt.Fprintf(w, `  devices         idcard %s, printer %s, scanner %s
  kiosk service screen PIN: 2468 (tap the hall name 5 times)

Type device commands here: "card" (place an ID card), "card elderly", "card expired",
"remove", "scan BK-1" (the QR code of the sample citizen's online booking), "paper out",
"paper in", "help".
`, h.Devices.IDCard.Path(), h.Devices.Printer.Path(), h.Devices.Scanner.Path())
}

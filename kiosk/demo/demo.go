// Package demo starts a whole hall on one machine for `make run`: the
// queue-server with the sample hall (open around the clock) and its web
// faces, a stand-in central platform, the kiosk's three devices simulated on
// pseudo-terminals, and a kiosk configuration wired to them. With Central
// it runs the province too: a central with bookings, calendars and the
// catalogue on an embedded NATS server, a stand-in OIDC provider, and a
// seeded calendar, catalogue and bookings of the sample citizen for today.
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

	"hallq/central/parts"
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

	// With Central:
	CentralURL  string   // the central's API, e.g. http://127.0.0.1:8090
	IdentityURL string   // the stand-in OIDC provider (issuer)
	Staff       string   // a province admin's ID token for the central API
	Bookings    []string // the sample citizen's bookings at the central, to scan
	idp         *identity
	zone        *time.Location // the hall's
}

// Options place the demo.
type Options struct {
	DataDir string
	Addr    string // hall server, e.g. 127.0.0.1:8080
	Central bool   // also run the stand-in central and the stand-in identity provider
	Logger  *slog.Logger
	// With Central: where the central's NATS (default 127.0.0.1:4222), its
	// HTTP API (127.0.0.1:8090) and the stand-in OIDC provider
	// (127.0.0.1:8091) listen.
	NATSAddr, CentralAddr, IdentityAddr string
	// TimeZone, when set, replaces the sample hall's zone (Asia/Shanghai),
	// for the hall and its calendar at the central (an IANA name).
	TimeZone string
}

// Start starts the hall, the central and the simulators.
func Start(ctx context.Context, o Options) (*Hall, error) {
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	if o.TimeZone != "" {
		cfg.Hall.TimeZone = o.TimeZone
	}
	zone, err := time.LoadLocation(cfg.Hall.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("demo: time zone %q: %w", cfg.Hall.TimeZone, err)
	}
	so := server.Options{DataDir: filepath.Join(o.DataDir, "hall"), Addr: o.Addr, Config: &cfg, Logger: o.Logger, Pages: web.Handler()}
	var idp *identity
	centralURL := ""
	if o.Central {
		natsAddr, httpAddr, idAddr := or(o.NATSAddr, "127.0.0.1:4222"), or(o.CentralAddr, "127.0.0.1:8090"), or(o.IdentityAddr, "127.0.0.1:8091")
		keyFile, key, err := provinceKey(o.DataDir)
		if err != nil {
			return nil, err
		}
		if idp, err = startIdentity(idAddr, cfg.Hall.ID); err != nil {
			return nil, err
		}
		// the hall derives the same citizen keys as the central, so a
		// booking made online is found by the card at the kiosk
		so.CitizenSecret = key
		// the central closes booking an hour before a slot: the demo hall
		// takes check-ins up to two hours early, so a booking made at start
		// checks in at once
		cfg.Rules.CheckInBefore = hall.Duration(2 * time.Hour)
		centralURL = "http://" + httpAddr
		go func() {
			args := []string{"-data", filepath.Join(o.DataDir, "central"), "-nats-listen", natsAddr, "-http", httpAddr,
				"-province-key", keyFile, "-oidc-issuer", idp.Issuer, "-oidc-client-id", clientID, "-public-url", centralURL}
			if err := platform.Main(ctx, args, io.Discard, parts.Extensions()...); err != nil && ctx.Err() == nil {
				o.Logger.Error("demo central", "err", err)
			}
		}()
		so.Forward = &forward.Config{NATSURL: "nats://" + natsAddr}
	}
	srv, err := server.Start(so)
	if err != nil {
		if idp != nil {
			idp.Close()
		}
		return nil, err
	}
	h := &Hall{Server: srv, CentralURL: centralURL, idp: idp, zone: zone}
	fail := func(err error) (*Hall, error) { h.Close(); return nil, err }
	tok, err := os.ReadFile(filepath.Join(so.DataDir, server.BootstrapFile))
	if err != nil {
		return fail(fmt.Errorf("the demo needs the bootstrap token (a fresh data dir): %w", err))
	}
	h.Admin = strings.TrimSpace(string(tok))
	kt, err := client.New(srv.URL, h.Admin).CreateToken(ctx, wire.TokenRequest{Name: fmt.Sprintf("kiosk-demo-%d", time.Now().Unix()), Role: wire.RoleKiosk})
	if err != nil {
		return fail(err)
	}
	dt, err := client.New(srv.URL, h.Admin).CreateToken(ctx, wire.TokenRequest{Name: fmt.Sprintf("board-demo-%d", time.Now().Unix()), Role: wire.RoleDisplay})
	if err != nil {
		return fail(err)
	}
	h.Display = dt.Token
	if o.Central {
		h.IdentityURL, h.Staff = idp.Issuer, idp.staff()
		if h.Bookings, err = seedProvince(ctx, centralURL, idp, cfg); err != nil {
			return fail(err)
		}
	} else if err := bookSample(ctx, srv, h.Admin); err != nil { // the hall alone books locally
		return fail(err)
	}
	// the devices at a hall's line rates (the kiosk is configured to match),
	// behind stable links so "unplug"/"plug" at the console come back
	devs, err := sim.Start(ctx, sim.HallConfig().WithLinks(filepath.Join(o.DataDir, "devices")))
	if err != nil {
		return fail(err)
	}
	h.Devices = devs
	full := false // a window scaled to the screen (fills an xvfb-run 1080x1920 screen)
	h.Kiosk = app.Config{Server: srv.URL, Token: kt.Token, DataDir: filepath.Join(o.DataDir, "kiosk"), AdminPIN: "2468", Fullscreen: &full,
		Devices: app.DeviceConfig{Reader: devs.IDCard.Path(), Printer: devs.Printer.Path(), Scanner: devs.Scanner.Path(),
			ReaderBaud: devs.IDCard.Baud(), PrinterBaud: devs.Printer.Baud(), ScannerBaud: devs.Scanner.Baud()}}
	if err := h.Kiosk.Validate(); err != nil {
		return fail(err)
	}
	return h, nil
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// bookSample books, at a hall without the central, a booking for the sample citizen (the card
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
	if h.Devices != nil {
		h.Devices.Close()
	}
	h.Server.Close()
	if h.idp != nil {
		h.idp.Close()
	}
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
	scan := "BK-1"
	if central && h.CentralURL != "" {
		scan = "bk…"
		c := h.CentralURL
		fmt.Fprintf(w, `
the province (a stand-in central with its embedded NATS)
  central view    %[1]s/halls
  hall list       %[1]s/api/v1/halls      (with the next free booking slots)
  catalogue       %[1]s/api/v1/catalog    (published to the hall: %[2]s/api/v1/matters)
  bookings        %[1]s/api/v1/staff/halls/%[3]s/bookings?day=%[4]s   (send the staff token)
  citizen portal  %[1]s/             (book, my bookings; sign in through the stand-in provider
                  with any valid ID number — the sample citizen 张三's, whose bookings are
                  seeded, is sim.SampleResident in devices/sim)
  province        %[1]s/province     (staff sign-in on the same page: "province" is a province
                  admin, "supervisor" supervises %[3]s)
  staff token     %[8]s
                  (province admin, for the central API: Authorization: Bearer …)
`, c, u, hall.SampleConfig().Hall.ID, time.Now().In(h.zone).Format("2006-01-02"), h.IdentityURL, clientID,
			"", h.Staff)
		if len(h.Bookings) > 0 {
			scan = h.Bookings[0]
			fmt.Fprintf(w, "  sample citizen's bookings (张三, the \"card\" of the console; scan one): %s\n\n", strings.Join(h.Bookings, ", "))
		}
	}
	fmt.Fprintf(w, `  devices         idcard %s, printer %s, scanner %s
  kiosk service screen PIN: 2468 (tap the hall name 5 times)

Type device commands here: "card" (place an ID card), "card elderly", "card expired",
"remove", "scan %s" (the QR code of the sample citizen's online booking; or the card at
"I have an appointment"), "paper out", "paper in", "help".
`, h.Devices.IDCard.Path(), h.Devices.Printer.Path(), h.Devices.Scanner.Path(), scan)
}

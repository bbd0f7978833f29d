// Command hall-demo runs a whole hall on one machine (what `make run`
// starts): the queue-server with its web faces, a stand-in central with
// bookings, calendars, the catalogue and a stand-in identity provider (all
// seeded), the kiosk's devices on pseudo-terminals and the kiosk window
// wired to them.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata"

	"hallq/kiosk/demo"
	"hallq/kiosk/window"
)

func main() {
	data := flag.String("data", ".hallq-data", "data directory of the demo (hall, central, kiosk)")
	addr := flag.String("addr", "127.0.0.1:8080", "hall server address")
	noCentral := flag.Bool("no-central", false, "do not run the stand-in central platform")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := demo.Start(ctx, demo.Options{DataDir: *data, Addr: *addr, Central: !*noCentral, Logger: log})
	if err != nil {
		log.Error("demo", "err", err)
		os.Exit(1)
	}
	defer h.Close()
	h.Banner(os.Stdout, !*noCentral)
	go h.Console(ctx, os.Stdin, os.Stdout)
	if !window.HasDisplay() {
		os.Stdout.WriteString("\nNo display here, so no kiosk window: the hall, its web pages and the simulated devices run.\n" +
			"For the kiosk window too: `xvfb-run -s \"-screen 0 1080x1920x24\" make run` (make deps installs Xvfb),\n" +
			"or run on a desktop. Press Ctrl-C to stop.\n")
		<-ctx.Done()
		return
	}
	if err := window.Run(ctx, h.Kiosk, "demo", log); err != nil {
		log.Error("kiosk window", "err", err)
	}
}

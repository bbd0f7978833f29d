// Command kiosk runs a self-service terminal of a service hall: a
// fullscreen touch UI driving an ID-card reader, a ticket printer and a QR
// scanner, connected to the hall's queue-server. See docs/kiosk.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata"

	_ "hallq/ui/kiosk/locale" // before Fyne reads the locale

	"hallq/kiosk/app"
	"hallq/kiosk/window"
)

// Version is stamped at build time.
var Version = "dev"

func main() {
	cfgPath := flag.String("config", "/etc/hallq/kiosk.json", "kiosk configuration file")
	check := flag.String("check-config", "", "validate a kiosk configuration file and exit")
	version := flag.Bool("version", false, "print the version and exit")
	enroll := flag.String("enroll", "", "write the -config file from an enrolment file (server, token, hall CA) and exit")
	flag.Parse()
	switch {
	case *enroll != "":
		if err := app.Enroll(*enroll, *cfgPath); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("enrolled:", *cfgPath)
		return
	case *version:
		fmt.Println("kiosk", Version)
		return
	case *check != "":
		if _, err := app.LoadConfig(*check); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(*check + ": ok")
		return
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := app.LoadConfig(*cfgPath)
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(2)
	}
	if !window.HasDisplay() {
		log.Error("no display: run the kiosk in a graphical session (or under Xvfb: xvfb-run kiosk -config …)")
		os.Exit(2)
	}
	window.RaiseTimerSlack() // may re-execute the kiosk, once
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := window.Run(ctx, cfg, Version, log); err != nil {
		log.Error("kiosk", "err", err)
		os.Exit(1)
	}
}

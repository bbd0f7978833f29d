package server

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"hallq/queue-server/hall"
)

// Version is stamped at build time (-ldflags "-X hallq/queue-server/server.Version=…").
var Version = "dev"

// Main runs the queue-server command with args (without the program name)
// and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("queue-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", env("HALLQ_DATA", "./hallq-data"), "data directory (env HALLQ_DATA)")
	addr := fs.String("addr", env("HALLQ_ADDR", "127.0.0.1:8080"), "listen address host:port (env HALLQ_ADDR)")
	cfgFile := fs.String("config", env("HALLQ_CONFIG", ""), "hall configuration file; empty = the embedded sample hall (env HALLQ_CONFIG)")
	check := fs.String("check-config", "", "validate a hall configuration file and exit")
	logFormat := fs.String("log", env("HALLQ_LOG", "text"), "log format: text or json (env HALLQ_LOG)")
	allDay := fs.Bool("open-all-day", false, "issue tickets around the clock (demos)")
	version := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *version {
		fmt.Fprintln(stdout, "queue-server", Version)
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
	o := Options{DataDir: *data, Addr: *addr, ConfigFile: *cfgFile, Logger: log, Version: Version, Pages: pages()}
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
		return 1
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

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Command central runs the reference central platform: an embedded NATS
// server with JetStream, the HALLS and CENTRAL streams, and a JSON view of
// every hall at GET /halls. See docs/central.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the calendars' zones load on machines without a zoneinfo database

	"hallq/central/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := platform.Main(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "central:", err)
		os.Exit(1)
	}
}

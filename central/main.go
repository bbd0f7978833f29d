// Command central runs a process of the province platform: by default
// with an embedded NATS server with JetStream (-data), or joined to a NATS
// cluster (-nats URLs, -nats-creds, -nats-ca/-nats-cert/-nats-key) as one
// of any number of processes; it applies every hall's events into the
// durable views in JetStream and serves the API (-http); with
// -province-key it serves bookings, calendars and the catalogue too
// (hallq/central/booking), and the rest of the platform's parts
// (hallq/central/parts: the pages, notifications, work orders, online
// ratings). The wiring is in hallq/central/platform and the parts; see
// docs/central.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the calendars' zones load on machines without a zoneinfo database

	"hallq/central/parts"
	"hallq/central/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := platform.Main(ctx, os.Args[1:], os.Stderr, parts.Extensions()...); err != nil {
		fmt.Fprintln(os.Stderr, "central:", err)
		os.Exit(1)
	}
}

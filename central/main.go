// Command central runs a process of the province platform: by default
// with an embedded NATS server with JetStream (-data), or joined to a NATS
// cluster (-nats URLs, -nats-creds, -nats-ca/-nats-cert/-nats-key) as one
// of any number of processes; it applies every hall's events into the
// durable views in JetStream and serves the API (-http); with
// -province-key it serves bookings, calendars and the catalogue too
// (hallq/central/booking), and the citizen portal and province dashboard
// pages (hallq/central/pages); work orders from the halls' poor ratings
// (hallq/central/workorders). The wiring is in hallq/central/platform and the
// booking extension; see docs/central.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the calendars' zones load on machines without a zoneinfo database

	"hallq/central/booking"
	"hallq/central/notify"
	"hallq/central/pages"
	"hallq/central/platform"
	"hallq/central/rating"
	"hallq/central/workorders"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bk := booking.Extension()
	if err := platform.Main(ctx, os.Args[1:], os.Stderr, bk, pages.Extension(), notify.Extension(booking.AuthenticatorOf(bk)), workorders.Extension(), rating.Extension()); err != nil {
		fmt.Fprintln(os.Stderr, "central:", err)
		os.Exit(1)
	}
}

// Command devsim runs the kiosk's three serial devices (ID-card reader,
// ticket printer, code scanner) as simulators on pseudo-terminals, prints
// their paths, and takes commands on stdin (type help).
//
//	go run ./devices/cmd/devsim [-tickets DIR] [-paper 576|384]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"hallq/devices/sim"
)

func main() {
	tickets := flag.String("tickets", "", "save printed tickets as PNG in this directory")
	paper := flag.Int("paper", 576, "paper width in dots for PNG tickets (576 = 80 mm, 384 = 58 mm)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *tickets, *paper); err != nil {
		fmt.Fprintln(os.Stderr, "devsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, tickets string, paper int) error {
	if tickets != "" {
		if err := os.MkdirAll(tickets, 0o755); err != nil {
			return err
		}
	}
	d, err := sim.StartAll(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	return sim.Console(ctx, d, os.Stdin, os.Stdout, tickets, paper)
}

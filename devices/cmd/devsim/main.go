// Command devsim runs the kiosk's three serial devices (ID-card reader,
// ticket printer, code scanner) as simulators on pseudo-terminals, prints
// their paths, and takes commands on stdin (type help): place, swap and
// spoil cards, inject reader and printer faults, unplug and plug devices.
//
//	go run ./devices/cmd/devsim [-tickets DIR] [-paper 576|384] [-links DIR]
//	    [-reader-baud 115200] [-printer-baud 9600] [-scanner-baud 9600]
//	    [-card-time 700ms] [-print-rate 2000]
//
// The devices run at a hall's line rates by default (-reader-baud 0 and so
// on for instant terminals); configure the kiosk with the same rates.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"hallq/devices/sim"
)

func main() {
	hall := sim.HallConfig()
	tickets := flag.String("tickets", "", "save printed tickets as PNG in this directory")
	paper := flag.Int("paper", 576, "paper width in dots for PNG tickets (576 = 80 mm, 384 = 58 mm)")
	links := flag.String("links", "", "keep stable links DIR/idcard, DIR/printer, DIR/scanner (unplug/plug keep the path)")
	flag.IntVar(&hall.IDCard.Baud, "reader-baud", hall.IDCard.Baud, "reader line rate (0: instant)")
	flag.IntVar(&hall.Printer.Baud, "printer-baud", hall.Printer.Baud, "printer line rate (0: instant)")
	flag.IntVar(&hall.Scanner.Baud, "scanner-baud", hall.Scanner.Baud, "scanner line rate (0: instant)")
	flag.DurationVar(&hall.IDCard.ReadTime, "card-time", hall.IDCard.ReadTime, "the reader's time to read a card")
	flag.IntVar(&hall.Printer.PrintRate, "print-rate", hall.Printer.PrintRate, "bytes a second the printer prints (0: at once)")
	flag.Parse()
	if *links != "" {
		hall = hall.WithLinks(*links)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, hall, *tickets, *paper); err != nil {
		fmt.Fprintln(os.Stderr, "devsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c sim.Config, tickets string, paper int) error {
	if tickets != "" {
		if err := os.MkdirAll(tickets, 0o755); err != nil {
			return err
		}
	}
	d, err := sim.Start(ctx, c)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Printf("line rates: reader %d, printer %d, scanner %d baud; card read %v\n",
		c.IDCard.Baud, c.Printer.Baud, c.Scanner.Baud, c.IDCard.ReadTime.Round(time.Millisecond))
	return sim.Console(ctx, d, os.Stdin, os.Stdout, tickets, paper)
}

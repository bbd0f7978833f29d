package escpos_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// A kiosk prints a ticket and treats any error as "the citizen has no ticket".
func ExamplePrinter_Print() {
	printer, _ := sim.NewPrinter(sim.PrinterOptions{}) // the real device in production
	defer printer.Close()
	port, err := serialport.Open(serialport.PrinterConfig(printer.Path()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()
	p := escpos.NewPrinter(port, escpos.Generic80, escpos.Options{})
	defer p.Close()

	err = p.Print(context.Background(), escpos.Ticket{
		HallName: "政务服务中心", ServiceZH: "户政", ServiceEN: "Household registration",
		Number: "A023", Ahead: 3, EstimatedWait: 9 * time.Minute,
		StatusURL: "https://hall.example/t/a023", MaskedID: "4201**********1234",
	})
	if err != nil {
		fmt.Println("not printed:", escpos.Code(err)) // void or show the ticket on screen
		return
	}
	page := <-printer.Pages() // the simulator decodes the ESC/POS bytes back
	for _, line := range strings.Split(page.Text(), "\n") {
		if line != "" {
			fmt.Println(line)
		}
	}
	// Output:
	// 政务服务中心
	// 户政
	// Household registration
	// A023
	// 前面还有 3 人 / 3 ahead
	// 预计等候约 9 分钟 / about 9 min
	// [QR https://hall.example/t/a023]
	// 扫码查看进度 Scan for status
	// 证件 ID 4201**********1234
	// 当日有效 · 过号请到服务台
	// Valid today only. Missed your call? Ask at the desk.
	// --- cut ---
}

// Check the printer between jobs to warn staff early.
func ExamplePrinter_Status() {
	printer, _ := sim.NewPrinter(sim.PrinterOptions{})
	defer printer.Close()
	printer.SetPaper(sim.PaperLow)
	port, _ := serialport.Open(serialport.PrinterConfig(printer.Path()))
	defer port.Close()
	p := escpos.NewPrinter(port, escpos.Generic58, escpos.Options{})
	defer p.Close()

	st, err := p.Status(context.Background())
	fmt.Println(st, err, st.Err())
	// Output: online, paper low <nil> <nil>
}

// A printer at 9600 baud that confirms jobs with GS r: the driver waits for
// the job to cross the wire and print before it says the ticket is out, and
// a ticket torn off by the paper running out is reported as not printed.
func ExampleModel_confirm() {
	printer, _ := sim.NewPrinter(sim.PrinterOptions{Baud: 9600})
	defer printer.Close()
	port, err := serialport.Open(serialport.Config{Path: printer.Path(), Baud: 9600})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()
	model := escpos.Generic80
	model.PrintTime = 500 * time.Millisecond // this printer's own time to print a ticket
	p := escpos.NewPrinter(port, model, escpos.Options{Baud: 9600})
	defer p.Close()

	t := escpos.Ticket{HallName: "政务服务中心", Number: "A023", StatusURL: "https://hall.example/t/a023"}
	fmt.Println(model.Confirm, p.Print(context.Background(), t))
	printer.RunOutAfter(40) // the paper ends a few lines into the next ticket
	err = p.Print(context.Background(), t)
	fmt.Println(escpos.Code(err), errors.Is(err, escpos.ErrPaperOut))
	// Output:
	// GS r 1 <nil>
	// print_failed true
}

package app

import (
	"fmt"
	"io"
	"time"

	"hallq/devices/escpos"
	"hallq/devices/idcard"
	"hallq/devices/scanner"
	"hallq/devices/serialport"
)

// DeviceConfig names the kiosk's serial devices; an empty path means the
// kiosk has no such device.
type DeviceConfig struct {
	Reader       string `json:"reader"`        // e.g. /dev/hallq-idcard, COM3
	ReaderBaud   int    `json:"reader_baud"`   // default 115200; the drivers time their waits by these rates
	Printer      string `json:"printer"`       // e.g. /dev/hallq-printer
	PrinterBaud  int    `json:"printer_baud"`  // default 115200
	PrinterModel string `json:"printer_model"` // a key of escpos.Models; default generic-80
	Scanner      string `json:"scanner"`       // e.g. /dev/hallq-scanner
	ScannerBaud  int    `json:"scanner_baud"`  // default 9600
	// ReplyTime is how long the reader and the printer may take to start
	// answering a request once it has crossed the wire (a Go duration,
	// 50ms–10s; default 300ms, the drivers'): raise it for a slow device
	// or a kiosk PC too busy to read the answer at once.
	ReplyTime string `json:"reply_time"`
}

// replyTime is ReplyTime as the drivers take it (0: their default).
func (c DeviceConfig) replyTime() time.Duration {
	d, _ := time.ParseDuration(c.ReplyTime)
	return d
}

// idleRead is how long a read on a silent port waits before the port
// checks that its device path still exists. Every driver keeps one read
// pending on its port all day; at the serial package's default (100 ms)
// the three ports of an idle kiosk woke it 30 times a second for nothing
// (issue #21, the idle kiosk's CPU). A longer wait notices no departure
// later: an unplugged device hangs its terminal up, which ends the pending
// read at once (serialport's TestAHangupEndsAPendingReadAtOnce); only a
// path removed under a terminal that stays up is noticed by the check, now
// within a second. The drivers time their exchanges by their own
// deadlines, not by this wait.
const idleRead = time.Second

func validReplyTime(s string) bool {
	d, err := time.ParseDuration(s)
	return s == "" || err == nil && d >= 50*time.Millisecond && d <= 10*time.Second
}

// Devices are the opened drivers (nil when absent) and their ports.
type Devices struct {
	Reader  *idcard.Reader
	Printer *escpos.Printer
	Scanner *scanner.Scanner
	closers []io.Closer
}

// OpenDevices opens every configured device through reconnecting ports:
// a device unplugged later is reopened by itself when it returns.
func OpenDevices(c DeviceConfig) (*Devices, error) {
	d := &Devices{}
	// port opens cfg at the configured baud (or the device's default) and
	// returns the baud it was set to: the drivers derive their timeouts
	// from it.
	port := func(cfg serialport.Config, baud int) (*serialport.Reconnecting, int) {
		if baud != 0 {
			cfg.Baud = baud
		}
		cfg.ReadTimeout = idleRead
		p := serialport.OpenReconnecting(cfg)
		d.closers = append(d.closers, p)
		return p, cfg.Baud
	}
	if c.Reader != "" {
		p, baud := port(serialport.IDCardConfig(c.Reader), c.ReaderBaud)
		d.Reader = idcard.NewReader(p, idcard.Options{Baud: baud, ReplyTime: c.replyTime()})
	}
	if c.Printer != "" {
		name := c.PrinterModel
		if name == "" {
			name = "generic-80"
		}
		m, ok := escpos.Models[name]
		if !ok {
			d.Close()
			return nil, fmt.Errorf("unknown printer model %q", name)
		}
		p, baud := port(serialport.PrinterConfig(c.Printer), c.PrinterBaud)
		d.Printer = escpos.NewPrinter(p, m, escpos.Options{Baud: baud, ReplyTime: c.replyTime()})
	}
	if c.Scanner != "" {
		p, baud := port(serialport.ScannerConfig(c.Scanner), c.ScannerBaud)
		d.Scanner = scanner.NewScanner(p, scanner.Config{Baud: baud})
	}
	return d, nil
}

// Close stops the drivers and closes the ports.
func (d *Devices) Close() error {
	if d.Reader != nil {
		d.Reader.Close()
	}
	if d.Scanner != nil {
		d.Scanner.Close()
	}
	for _, c := range d.closers {
		c.Close()
	}
	return nil
}

// Parts returns the devices as the flow's interfaces (nil when absent).
func (d *Devices) Parts() (CardReader, TicketPrinter, CodeScanner) {
	var r CardReader
	var p TicketPrinter
	var s CodeScanner
	if d.Reader != nil {
		r = d.Reader
	}
	if d.Printer != nil {
		p = d.Printer
	}
	if d.Scanner != nil {
		s = d.Scanner
	}
	return r, p, s
}

func validModel(name string) bool {
	_, ok := escpos.Models[name]
	return ok
}

// ValidBaud reports whether b is a line rate the devices are sold with
// (0: the device's default).
func ValidBaud(b int) bool {
	switch b {
	case 0, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200:
		return true
	}
	return false
}

package app

import (
	"fmt"
	"io"

	"hallq/devices/escpos"
	"hallq/devices/idcard"
	"hallq/devices/scanner"
	"hallq/devices/serialport"
)

// DeviceConfig names the kiosk's serial devices; an empty path means the
// kiosk has no such device.
type DeviceConfig struct {
	Reader       string `json:"reader"`        // e.g. /dev/hallq-idcard, COM3
	ReaderBaud   int    `json:"reader_baud"`   // default 115200
	Printer      string `json:"printer"`       // e.g. /dev/hallq-printer
	PrinterBaud  int    `json:"printer_baud"`  // default 115200
	PrinterModel string `json:"printer_model"` // a key of escpos.Models; default generic-80
	Scanner      string `json:"scanner"`       // e.g. /dev/hallq-scanner
	ScannerBaud  int    `json:"scanner_baud"`  // default 9600
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
	port := func(cfg serialport.Config, baud int) *serialport.Reconnecting {
		if baud != 0 {
			cfg.Baud = baud
		}
		p := serialport.OpenReconnecting(cfg)
		d.closers = append(d.closers, p)
		return p
	}
	if c.Reader != "" {
		d.Reader = idcard.NewReader(port(serialport.IDCardConfig(c.Reader), c.ReaderBaud), idcard.Options{})
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
		d.Printer = escpos.NewPrinter(port(serialport.PrinterConfig(c.Printer), c.PrinterBaud), m, escpos.Options{})
	}
	if c.Scanner != "" {
		d.Scanner = scanner.NewScanner(port(serialport.ScannerConfig(c.Scanner), c.ScannerBaud), scanner.Config{})
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

package sim

import (
	"context"
	"errors"
	"path/filepath"
	"time"
)

// Devices are the three simulators of one kiosk.
type Devices struct {
	IDCard  *IDCard
	Printer *Printer
	Scanner *Scanner
}

// Config sets up the three simulators; the zero value runs them unpaced
// (bytes cross the terminals at once, which no real line does).
type Config struct {
	IDCard  IDCardOptions
	Printer PrinterOptions
	Scanner ScannerOptions
}

// HallConfig is a kiosk's devices as a hall has them: the reader at 115200
// taking 0.7 s to read a card, the printer and scanner at 9600, the printer
// printing about 2 KB a second (80 mm ticket text, QR and cut in about 1 s).
// The kiosk must be configured with the same rates.
func HallConfig() Config {
	return Config{
		IDCard:  IDCardOptions{Baud: 115200, ReadTime: 700 * time.Millisecond},
		Printer: PrinterOptions{Baud: 9600, PrintRate: 2000},
		Scanner: ScannerOptions{Baud: 9600},
	}
}

// WithLinks keeps stable links dir/idcard, dir/printer and dir/scanner
// pointing at the terminals, so a device unplugged and plugged back (console
// "unplug" / "plug") comes back at the same path.
func (c Config) WithLinks(dir string) Config {
	c.IDCard.Link = filepath.Join(dir, "idcard")
	c.Printer.Link = filepath.Join(dir, "printer")
	c.Scanner.Link = filepath.Join(dir, "scanner")
	return c
}

// StartAll starts the three simulators unpaced (Start with a zero Config).
func StartAll(ctx context.Context) (*Devices, error) { return Start(ctx, Config{}) }

// Start starts the ID-card reader, printer and scanner simulators; they
// stop when ctx ends or Close is called. Open IDCard.Path(), Printer.Path()
// and Scanner.Path() with serialport, at the configured baud rates.
func Start(ctx context.Context, c Config) (*Devices, error) {
	var d Devices
	var err error
	if d.IDCard, err = NewIDCard(c.IDCard); err != nil {
		return nil, err
	}
	if d.Printer, err = NewPrinter(c.Printer); err != nil {
		d.Close()
		return nil, err
	}
	if d.Scanner, err = NewScanner(c.Scanner); err != nil {
		d.Close()
		return nil, err
	}
	go func() {
		<-ctx.Done()
		d.Close()
	}()
	return &d, nil
}

// Close stops all three simulators.
func (d *Devices) Close() error {
	var errs []error
	if d.IDCard != nil {
		errs = append(errs, d.IDCard.Close())
	}
	if d.Printer != nil {
		errs = append(errs, d.Printer.Close())
	}
	if d.Scanner != nil {
		errs = append(errs, d.Scanner.Close())
	}
	return errors.Join(errs...)
}

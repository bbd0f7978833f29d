package sim

import (
	"context"
	"errors"
)

// Devices are the three simulators of one kiosk.
type Devices struct {
	IDCard  *IDCard
	Printer *Printer
	Scanner *Scanner
}

// StartAll starts the ID-card reader, printer and scanner simulators; they
// stop when ctx ends or Close is called. Open IDCard.Path(), Printer.Path()
// and Scanner.Path() with serialport.
func StartAll(ctx context.Context) (*Devices, error) {
	var d Devices
	var err error
	if d.IDCard, err = NewIDCard(IDCardOptions{}); err != nil {
		return nil, err
	}
	if d.Printer, err = NewPrinter(PrinterOptions{}); err != nil {
		d.Close()
		return nil, err
	}
	if d.Scanner, err = NewScanner(ScannerOptions{}); err != nil {
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

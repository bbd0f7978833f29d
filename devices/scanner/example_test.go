package scanner_test

import (
	"context"
	"fmt"
	"time"

	"hallq/devices/scanner"
	"hallq/devices/serialport"
	"hallq/devices/sim"
)

// A kiosk waits for an appointment QR code.
func ExampleScanner_Scan() {
	dev, _ := sim.NewScanner(sim.ScannerOptions{Suffix: "\r\n"}) // the real device in production
	defer dev.Close()
	port, err := serialport.Open(serialport.ScannerConfig(dev.Path()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer port.Close()
	s := scanner.NewScanner(port, scanner.Config{Suffix: "\r\n", MaxLen: 512})
	defer s.Close()

	dev.Scan("https://hall.example/appt/8842")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	code, err := s.Scan(ctx)
	fmt.Println(code, err)
	// Output: https://hall.example/appt/8842 <nil>
}

//go:build !linux

package serialport

import "github.com/tarm/serial"

// pollable is the serial library's port itself off Linux.
func pollable(line *serial.Port, c Config) (Port, error) { return line, nil }

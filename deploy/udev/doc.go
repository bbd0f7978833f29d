// Package udev holds the kiosk's udev rules (99-hallq-devices.rules) and the
// test that keeps them sound; it has no code.
package udev

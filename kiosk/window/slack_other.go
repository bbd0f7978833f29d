//go:build !linux

package window

// RaiseTimerSlack does nothing here: timer slack is Linux's.
func RaiseTimerSlack() {}

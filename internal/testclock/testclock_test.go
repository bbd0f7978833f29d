package testclock

import (
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	c := New(At(9, 0))
	c.Advance(90 * time.Minute)
	if got := c.Now(); !got.Equal(At(10, 30)) || got.Location() != Zone {
		t.Fatalf("Now = %v", got)
	}
	c.Set(At(23, 59))
	if c.Now().Hour() != 23 {
		t.Fatalf("Set: %v", c.Now())
	}
	if _, off := At(0, 0).Zone(); off != 8*3600 {
		t.Fatalf("zone offset %d", off)
	}
}

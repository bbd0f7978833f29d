package devicecode

import (
	"errors"
	"fmt"
	"testing"
)

type statusErr struct{}

func (statusErr) Error() string { return "sw3 0x80" }
func (statusErr) Code() string  { return "no_card" }

func TestCode(t *testing.T) {
	gone := New("device_gone", "reader disconnected")
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{gone, "device_gone"},
		{fmt.Errorf("read: %w", gone), "device_gone"},
		{fmt.Errorf("read: %w", statusErr{}), "no_card"}, // any error with a Code method
		{errors.New("plain"), "unknown"},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if !errors.Is(fmt.Errorf("x: %w", gone), gone) || gone.Error() != "reader disconnected" {
		t.Error("a wrapped device error is not itself")
	}
}

package app

import (
	"testing"

	"hallq/queue-server/hall"
)

// After a manager closes the day, the kiosk tells the citizen the hall is
// closed, not that a device failed.
func TestDayClosedIsTheHallClosed(t *testing.T) {
	err := hall.Refusal(hall.Closed, "day_closed", "the hall has closed today's service")
	if got, _ := refusalOf(err); got != RefuseClosed {
		t.Fatalf("day_closed refusal shown as %q, want %q", got, RefuseClosed)
	}
}

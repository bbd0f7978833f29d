package hall

import (
	"testing"
	"time"
)

// A citizen is elderly from the hall's calendar day of their birthday: the
// age used to come from day-of-year numbers, so someone born after 29
// February of a leap year was a year younger on their birthday.
func TestAgeClassOnTheBirthday(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	birth := time.Date(1964, 3, 1, 0, 0, 0, 0, time.UTC) // 1964 is a leap year
	if got := AgeClassOf(birth, time.Date(2024, 3, 1, 9, 0, 0, 0, cst), 60); got != AgeElderly {
		t.Errorf("on the 60th birthday: %q, want elderly", got)
	}
	if got := AgeClassOf(birth, time.Date(2024, 2, 29, 9, 0, 0, 0, cst), 60); got != AgeAdult {
		t.Errorf("the day before: %q, want adult", got)
	}
	if got := AgeClassOf(time.Date(2008, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 9, 0, 0, 0, cst), 60); got != AgeAdult {
		t.Errorf("on the 18th birthday (31 December): %q, want adult", got)
	}
}

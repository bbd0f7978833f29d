package calendar

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const sample = `{"zone":"Asia/Shanghai",
 "weekly":{"mon":[{"from":"08:30","to":"12:00"},{"from":"13:30","to":"17:30"}],
           "tue":[{"from":"08:30","to":"12:00"},{"from":"13:30","to":"17:30"}],
           "sat":[{"from":"09:00","to":"12:00"}]},
 "holidays":["2027-01-01"],
 "workdays":["2027-02-07"],
 "closures":[{"day":"2027-03-02","reason":{"zh":"系统升级","en":"system upgrade"}}],
 "booking_only":[{"service":"B","weekday":"tue","from":"08:30","to":"10:00"}]}`

func load(t *testing.T) *Calendar {
	t.Helper()
	var c Calendar
	if err := json.Unmarshal([]byte(sample), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestOpenAtFollowsHoursHolidaysWorkdaysAndClosures(t *testing.T) {
	c := load(t)
	sh := c.Location()
	at := func(s string) time.Time {
		tt, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	for _, tc := range []struct {
		when string
		open bool
	}{
		{"2027-01-04 08:29", false}, // Monday before opening
		{"2027-01-04 08:30", true},
		{"2027-01-04 11:59", true},
		{"2027-01-04 12:00", false}, // lunch break
		{"2027-01-04 13:30", true},
		{"2027-01-04 17:30", false}, // closing is excluded
		{"2027-01-01 10:00", false}, // holiday (a Friday)
		{"2027-02-07 10:00", true},  // Sunday made a working day: Monday's hours
		{"2027-02-07 16:00", true},
		{"2027-02-14 10:00", false}, // an ordinary Sunday
		{"2027-01-09 10:00", true},  // Saturday morning hours
		{"2027-01-09 14:00", false},
		{"2027-03-02 10:00", false}, // closure (a Tuesday)
	} {
		if got := c.OpenAt(at(tc.when)); got != tc.open {
			t.Errorf("OpenAt(%s) = %v, want %v", tc.when, got, tc.open)
		}
	}
	// The same instant seen from UTC is still judged in the hall's zone.
	if !c.OpenAt(at("2027-01-04 09:00").UTC()) {
		t.Error("a UTC instant of 09:00 Shanghai time should be open")
	}
	if cl, ok := c.Closed(at("2027-03-02 00:00")); !ok || cl.Reason.EN != "system upgrade" {
		t.Errorf("Closed = %+v, %v", cl, ok)
	}
	iv := c.Intervals(at("2027-01-04 00:00"))
	if len(iv) != 2 || iv[1].From.Format("15:04") != "13:30" || iv[0].To.Location() != sh {
		t.Errorf("Intervals = %v", iv)
	}
	if !c.BookingOnlyAt("B", at("2027-01-05 09:00")) || c.BookingOnlyAt("B", at("2027-01-05 10:00")) ||
		c.BookingOnlyAt("A", at("2027-01-05 09:00")) || c.BookingOnlyAt("B", at("2027-03-02 09:00")) {
		t.Error("booking-only hours: B on Tuesday 08:30-10:00 only, and not on a closed day")
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{`"zone":"Mars/Base"`, "zone"},
		{`"weekly":{"monday":[]}`, "monday"},
		{`"weekly":{"mon":[{"from":"12:00","to":"08:00"}]}`, "ends before"},
		{`"weekly":{"mon":[{"from":"8:30","to":"12:00"}]}`, "HH:MM"},
		{`"weekly":{"mon":[{"from":"10:00","to":"12:00"},{"from":"09:00","to":"09:30"}]}`, "out of order"},
		{`"holidays":["2027-13-01"]`, "holidays"},
		{`"closures":[{"day":"2027-03-02","reason":{"zh":""}}]`, "reason"},
		{`"booking_only":[{"service":"b","weekday":"tue","from":"08:30","to":"10:00"}]`, "capital"},
	} {
		var c Calendar
		js := `{"zone":"Asia/Shanghai",` + tc.edit + `}`
		if strings.HasPrefix(tc.edit, `"zone"`) {
			js = `{` + tc.edit + `}`
		}
		if err := json.Unmarshal([]byte(js), &c); err != nil {
			t.Fatal(err)
		}
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want it to mention %q", tc.edit, err, tc.want)
		}
	}
}

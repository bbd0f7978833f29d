package hall

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"hallq/internal/calendar"
	"hallq/internal/catalog"
)

// hallCalendar: weekdays 08:30-12:00 and 13:30-17:30, Saturday morning,
// 1 Dec 2026 (a Tuesday) closed for a system upgrade, 28 Nov (Saturday) a
// holiday, 29 Nov (Sunday) a make-up working day, and service B booking-only
// on Fridays 08:30-10:00.
func hallCalendar() *calendar.Calendar {
	day := []calendar.Span{{From: "08:30", To: "12:00"}, {From: "13:30", To: "17:30"}}
	return &calendar.Calendar{
		Weekly:      map[string][]calendar.Span{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": {{From: "09:00", To: "12:00"}}},
		Holidays:    []string{"2026-11-28"},
		Workdays:    []string{"2026-11-29"},
		Closures:    []calendar.Closure{{Day: "2026-12-01", Reason: catalog.Text{ZH: "系统升级", EN: "system upgrade"}}},
		BookingOnly: []calendar.BookingOnly{{Service: "B", Weekday: "fri", From: "08:30", To: "10:00"}},
	}
}

// withCalendar gives the sample hall the calendar; services keep no hours
// of their own except A, which stops issuing 30 minutes before closing.
func withCalendar(c *Config) {
	c.Calendar = hallCalendar()
	c.Calendar.Zone = c.Hall.TimeZone
	for i := range c.Services {
		c.Services[i].Hours = Hours{}
	}
	c.Services[0].Hours = Hours{StopBefore: Duration(30 * time.Minute)}
}

func serviceView(t *testing.T, f *fixture, code string) ServiceView {
	t.Helper()
	vs, err := f.svc.Services(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		if v.Code == code {
			return v
		}
	}
	t.Fatalf("no service %s", code)
	return ServiceView{}
}

func TestCalendarDecidesIssuingHours(t *testing.T) {
	f := MustHall(t, withCalendar)
	d := func(day, hh, mm int) time.Time { return time.Date(2026, 11, day, hh, mm, 0, 0, shanghai) }
	for i, tc := range []struct {
		when    time.Time
		service string
		why     Reason
	}{
		{d(27, 8, 29), "A", ReasonClosed},
		{d(27, 8, 30), "A", ""},
		{d(27, 12, 0), "A", ReasonLunch},
		{d(27, 13, 29), "A", ReasonLunch},
		{d(27, 13, 30), "A", ""},
		{d(27, 16, 59), "A", ""},
		{d(27, 17, 0), "A", ReasonIssuingStopped}, // A's stop_before: 30 minutes before the day's end
		{d(27, 17, 0), "C", ""},                   // C has no stop_before
		{d(27, 17, 30), "C", ReasonClosed},
		{d(27, 9, 0), "B", ReasonBookingOnly},
		{d(27, 10, 0), "B", ""},
		{d(28, 10, 0), "A", ReasonHoliday}, // a Saturday made a holiday
		{d(29, 15, 0), "A", ""},            // a Sunday made a working day: Monday's hours
		{d(30, 15, 0), "A", ""},            // an ordinary Monday
		{time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai), "A", ReasonClosure},
		{time.Date(2026, 12, 6, 10, 0, 0, 0, shanghai), "A", ReasonClosed}, // an ordinary Sunday
	} {
		f.clock.Set(tc.when)
		_, err := f.svc.Issue(f.ctx, Op{Actor: "kiosk-1"}, IssueRequest{Service: tc.service, CitizenKey: fmt.Sprintf("%064d", i)})
		v := serviceView(t, f, tc.service)
		if tc.why == "" {
			if err != nil || !v.Issuing {
				t.Errorf("%s %s: issue: %v, view issuing=%v not_issuing=%q; want issuing", tc.when.Format("01-02 15:04"), tc.service, err, v.Issuing, v.NotIssuing)
			}
			continue
		}
		if ErrorCode(err) != Closed || ReasonOf(err) != tc.why || v.NotIssuing != string(tc.why) || v.Issuing {
			t.Errorf("%s %s: issue: %v, view not_issuing=%q; want closed/%s", tc.when.Format("01-02 15:04"), tc.service, err, v.NotIssuing, tc.why)
		}
	}
}

func TestCalendarClosureReasonReachesKioskAndBoard(t *testing.T) {
	f := MustHall(t, withCalendar)
	f.clock.Set(time.Date(2026, 12, 1, 10, 0, 0, 0, shanghai))
	_, err := f.svc.Issue(f.ctx, Op{Actor: "kiosk-1"}, IssueRequest{Service: "A"})
	wantCode(t, err, Closed, string(ReasonClosure))
	if d := ErrorDetails(err); d == nil || d.Closure == nil || d.Closure.ZH != "系统升级" || d.Hours != nil {
		t.Errorf("details = %+v, want the closure's reason and no hours", d)
	}
	o, err := f.svc.Overview(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if o.Closure == nil || o.Closure.EN != "system upgrade" {
		t.Errorf("overview closure = %v", o.Closure)
	}
	if v := serviceView(t, f, "C"); v.Closure == nil || v.Closure.ZH != "系统升级" {
		t.Errorf("service closure = %v", v.Closure)
	}
	f.clock.Set(at(10, 0))
	if o, _ := f.svc.Overview(f.ctx); o.Closure != nil {
		t.Errorf("an open day shows closure %v", o.Closure)
	}
	// Today's hours come from the calendar's spans for a service without its own.
	if h := serviceView(t, f, "C").Hours; h == nil || *h != (Hours{Open: "08:30", LunchStart: "12:00", LunchEnd: "13:30", Close: "17:30"}) {
		t.Errorf("hours = %+v", h)
	}
}

func TestBookingOnlyRefusesWalkInsButChecksInBookings(t *testing.T) {
	f := MustHall(t, withCalendar)
	f.clock.Set(at(9, 0))
	key := strings.Repeat("b", 64)
	if _, err := f.svc.UpsertBooking(f.ctx, Op{Actor: "central"}, Booking{ID: "bk1", CitizenKey: key, Service: "B", SlotStart: at(9, 0), SlotEnd: at(9, 30), Status: BookingBooked}); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []Channel{WalkIn, Remote} {
		_, err := f.svc.Issue(f.ctx, Op{Actor: "kiosk-1"}, IssueRequest{Service: "B", Channel: ch, CitizenKey: key})
		wantCode(t, err, Closed, string(ReasonBookingOnly))
	}
	tk, err := f.svc.CheckIn(f.ctx, Op{Actor: "kiosk-1"}, CheckIn{Booking: "bk1"})
	if err != nil || tk.Service != "B" || tk.Channel != Appointment {
		t.Fatalf("check-in in booking-only hours: %+v, %v", tk, err)
	}
	f.issue("A") // other services take walk-ins as usual
}

func TestCalendarConfigErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"zone", func(c *Config) { c.Calendar.Zone = "Europe/Berlin" }, `calendar.zone: "Europe/Berlin" differs from hall.time_zone "Asia/Shanghai"`},
		{"span", func(c *Config) { c.Calendar.Weekly["mon"] = []calendar.Span{{From: "12:00", To: "08:00"}} }, "calendar: calendar: weekly.mon: span 12:00-08:00 ends before it starts"},
		{"service", func(c *Config) { c.Calendar.BookingOnly[0].Service = "Z" }, `calendar.booking_only[0].service: unknown service "Z"`},
		{"closure", func(c *Config) { c.Calendar.Closures[0].Reason.ZH = "" }, "needs a reason"},
		{"stop", func(c *Config) { c.Services[0].Hours.StopBefore = Duration(-time.Minute) }, "services[0].hours.stop_before: must be 0 to 12h"},
		{"no calendar", func(c *Config) { c.Calendar = nil }, "services[1].hours: open: want HH:MM"}, // without a calendar a service needs its hours
	} {
		c := SampleConfig()
		withCalendar(&c)
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Validate() = %v, want %q", tc.name, err, tc.want)
		}
	}
	c := SampleConfig()
	withCalendar(&c)
	c.Calendar.Zone = ""
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(b)
	if err != nil {
		t.Fatalf("a calendar without a zone takes the hall's: %v", err)
	}
	if got.Calendar.Zone != "Asia/Shanghai" {
		t.Errorf("zone = %q", got.Calendar.Zone)
	}
	cl := got.Clone()
	cl.Calendar.Weekly["mon"][0].From = "07:00"
	if got.Calendar.Weekly["mon"][0].From != "08:30" {
		t.Error("Clone shares the calendar")
	}
}

// The day's figures span the calendar's hours when services have none.
func TestFiguresSpanTheCalendarsDay(t *testing.T) {
	c := SampleConfig()
	withCalendar(&c)
	d := Summarize(c, "2026-11-27", nil) // a Friday: 08:30-12:00, 13:30-17:30
	if d.Open != "08:30" || d.Close != "17:30" {
		t.Errorf("figures span %s-%s, want 08:30-17:30", d.Open, d.Close)
	}
	if d := Summarize(c, "2026-11-28", nil); d.Open != "08:00" || d.Close != "18:00" { // a holiday: the default span
		t.Errorf("holiday figures span %s-%s", d.Open, d.Close)
	}
}

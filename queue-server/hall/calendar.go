package hall

import (
	"fmt"
	"slices"
	"time"

	"hallq/internal/calendar"
)

// The hall calendar at the hall (Config.Calendar, docs/config.md): when a
// configuration carries one, it decides when tickets are issued — weekly
// spans (a lunch break is the gap between two), statutory holidays, make-up
// working days (调休), special closures with the reason told to citizens,
// and booking-only hours per service. A service's own hours stay valid:
// without a calendar they alone decide, as before; with one they may be
// left out (the calendar decides alone), hold only stop_before (issuing
// stops that long before the day's last span ends), or narrow the
// calendar's hours further.

// validateCalendar checks the calendar against the rest of the
// configuration: its own rules (calendar.Validate), the hall's time zone,
// and the services its booking-only hours name.
func (c *Config) validateCalendar(bad func(key, format string, args ...any)) {
	cal := c.Calendar
	if cal == nil {
		return
	}
	if cal.Zone != c.Hall.TimeZone {
		bad("calendar.zone", "%q differs from hall.time_zone %q (leave it out to use the hall's)", cal.Zone, c.Hall.TimeZone)
		return
	}
	if err := cal.Validate(); err != nil {
		bad("calendar", "%v", err)
		return
	}
	for i, b := range cal.BookingOnly {
		if _, ok := c.service(b.Service); !ok {
			bad(fmt.Sprintf("calendar.booking_only[%d].service", i), "unknown service %q", b.Service)
		}
	}
}

// cloneCalendar is a deep copy of cal (nil stays nil).
func cloneCalendar(cal *calendar.Calendar) *calendar.Calendar {
	if cal == nil {
		return nil
	}
	c := *cal
	c.Weekly = make(map[string][]calendar.Span, len(cal.Weekly))
	for k, v := range cal.Weekly {
		c.Weekly[k] = slices.Clone(v)
	}
	c.Holidays, c.Workdays = slices.Clone(cal.Holidays), slices.Clone(cal.Workdays)
	c.Closures, c.BookingOnly = slices.Clone(cal.Closures), slices.Clone(cal.BookingOnly)
	return &c
}

// onlyStopBefore reports whether h gives no hours of its own (at most
// stop_before), which a service may do when the hall has a calendar.
func (h Hours) onlyStopBefore() bool {
	return h.Open == "" && h.Close == "" && h.LunchStart == "" && h.LunchEnd == ""
}

// closure is today's special closure of the hall's calendar, if any.
func (st *state) closure(now time.Time) *Text {
	if st.cfg.Calendar == nil {
		return nil
	}
	if cl, ok := st.cfg.Calendar.Closed(now); ok {
		return &Text{ZH: cl.Reason.ZH, EN: cl.Reason.EN}
	}
	return nil
}

// issueState says whether service sc issues walk-in tickets at now: "" when
// it does, else why not — closed, lunch, issuing_stopped, holiday, closure
// (with the closure's reason) or booking_only. Checked-in bookings are not
// walk-ins: booking-only hours do not stop them.
func (st *state) issueState(sc *ServiceConfig, now time.Time) (Reason, *Text) {
	cal := st.cfg.Calendar
	if cal == nil {
		return Reason(sc.Hours.IssueState(now.In(st.loc))), nil
	}
	if cl := st.closure(now); cl != nil {
		return ReasonClosure, cl
	}
	if slices.Contains(cal.Holidays, cal.Day(now)) {
		return ReasonHoliday, nil
	}
	if !cal.OpenAt(now) {
		iv := cal.Intervals(now)
		if len(iv) > 1 && !now.Before(iv[0].To) && now.Before(iv[len(iv)-1].From) {
			return ReasonLunch, nil
		}
		return ReasonClosed, nil
	}
	if sc.Hours.onlyStopBefore() {
		iv := cal.Intervals(now)
		if sb := sc.Hours.StopBefore.D(); sb > 0 && !now.Before(iv[len(iv)-1].To.Add(-sb)) {
			return ReasonIssuingStopped, nil
		}
	} else if why := sc.Hours.IssueState(now.In(st.loc)); why != "" {
		return Reason(why), nil
	}
	if cal.BookingOnlyAt(sc.Code, now) {
		return ReasonBookingOnly, nil
	}
	return "", nil
}

// hoursToday are service sc's hours on the civil day of now as kiosks show
// them: its own when it has them, else the calendar's spans of the day (the
// gap between the first two as lunch); nil on a day the hall is closed.
func (st *state) hoursToday(sc *ServiceConfig, now time.Time) *Hours {
	if !sc.Hours.onlyStopBefore() {
		h := sc.Hours
		return &h
	}
	if st.cfg.Calendar == nil {
		return nil
	}
	iv := st.cfg.Calendar.Intervals(now)
	if len(iv) == 0 {
		return nil
	}
	h := Hours{Open: iv[0].From.Format("15:04"), Close: iv[len(iv)-1].To.Format("15:04"), StopBefore: sc.Hours.StopBefore}
	if len(iv) > 1 {
		h.LunchStart, h.LunchEnd = iv[0].To.Format("15:04"), iv[1].From.Format("15:04")
	}
	return &h
}

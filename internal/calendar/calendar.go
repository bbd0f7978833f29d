// Package calendar is a hall's opening calendar as the hall and the
// province share it: weekly opening hours per weekday (a lunch break is the
// gap between two spans), statutory holidays, make-up working days (调休),
// special closures with the reason told to citizens, and booking-only hours
// per service. The central cuts booking slots from it; the hall server
// issues tickets only while it is open.
//
// Times are civil times in the calendar's own zone; nothing here reads the
// machine's clock or zone. It imports only the standard library (and the
// bilingual text type of internal/catalog), so the hall domain and the
// central both use it.
package calendar

import (
	"fmt"
	"slices"
	"time"

	"hallq/internal/catalog"
)

// Span is one opening span of a day, "HH:MM" to "HH:MM" (To excluded).
type Span struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Closure is a special closure of one day.
type Closure struct {
	Day    string       `json:"day"` // YYYY-MM-DD
	Reason catalog.Text `json:"reason"`
}

// BookingOnly is a weekly span in which a service serves checked-in
// bookings only.
type BookingOnly struct {
	Service string `json:"service"`
	Weekday string `json:"weekday"` // mon … sun
	From    string `json:"from"`
	To      string `json:"to"`
}

// Calendar is a hall's opening calendar.
type Calendar struct {
	Zone        string            `json:"zone"`         // IANA zone, e.g. Asia/Shanghai
	Weekly      map[string][]Span `json:"weekly"`       // mon … sun → spans in order
	Holidays    []string          `json:"holidays"`     // closed all day
	Workdays    []string          `json:"workdays"`     // 调休: open although a weekend day
	Closures    []Closure         `json:"closures"`     // special closures
	BookingOnly []BookingOnly     `json:"booking_only"` // booking-only hours
	loc         *time.Location    `json:"-"`
}

// Interval is one open interval of a civil day.
type Interval struct{ From, To time.Time }

// Weekdays are the keys of Weekly, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func weekdayKey(d time.Weekday) string { return Weekdays[(int(d)+6)%7] }

const dayLayout = "2006-01-02"

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil || len(hhmm) != 5 {
		return 0, fmt.Errorf("%q is not a time HH:MM", hhmm)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func checkSpan(from, to string) error {
	f, err := minutes(from)
	if err != nil {
		return err
	}
	t, err := minutes(to)
	if err != nil {
		return err
	}
	if t <= f {
		return fmt.Errorf("span %s-%s ends before it starts", from, to)
	}
	return nil
}

// Validate reports the first thing wrong with the calendar, naming the field.
func (c *Calendar) Validate() error {
	loc, err := time.LoadLocation(c.Zone)
	if err != nil || c.Zone == "" {
		return fmt.Errorf("calendar: zone %q is not a known time zone", c.Zone)
	}
	for key, spans := range c.Weekly {
		if !slices.Contains(Weekdays, key) {
			return fmt.Errorf("calendar: weekly: %q is not one of mon … sun", key)
		}
		prev := -1
		for _, s := range spans {
			if err := checkSpan(s.From, s.To); err != nil {
				return fmt.Errorf("calendar: weekly.%s: %v", key, err)
			}
			f, _ := minutes(s.From)
			if f < prev {
				return fmt.Errorf("calendar: weekly.%s: spans overlap or are out of order at %s", key, s.From)
			}
			prev, _ = minutes(s.To)
		}
	}
	for field, days := range map[string][]string{"holidays": c.Holidays, "workdays": c.Workdays} {
		for _, d := range days {
			if _, err := time.Parse(dayLayout, d); err != nil {
				return fmt.Errorf("calendar: %s: %q is not a day YYYY-MM-DD", field, d)
			}
		}
	}
	for _, cl := range c.Closures {
		if _, err := time.Parse(dayLayout, cl.Day); err != nil {
			return fmt.Errorf("calendar: closures: %q is not a day YYYY-MM-DD", cl.Day)
		}
		if cl.Reason.ZH == "" {
			return fmt.Errorf("calendar: closures: %s needs a reason (reason.zh) to tell citizens", cl.Day)
		}
	}
	for _, b := range c.BookingOnly {
		if len(b.Service) != 1 || b.Service[0] < 'A' || b.Service[0] > 'Z' {
			return fmt.Errorf("calendar: booking_only: service %q is not one capital letter", b.Service)
		}
		if !slices.Contains(Weekdays, b.Weekday) {
			return fmt.Errorf("calendar: booking_only: %q is not one of mon … sun", b.Weekday)
		}
		if err := checkSpan(b.From, b.To); err != nil {
			return fmt.Errorf("calendar: booking_only %s %s: %v", b.Service, b.Weekday, err)
		}
	}
	c.loc = loc
	return nil
}

// Location is the calendar's zone (UTC until Validate has succeeded).
func (c *Calendar) Location() *time.Location {
	if c.loc == nil {
		if loc, err := time.LoadLocation(c.Zone); err == nil && c.Zone != "" {
			c.loc = loc
		} else {
			return time.UTC
		}
	}
	return c.loc
}

// Day is the civil day of t in the calendar's zone, as YYYY-MM-DD.
func (c *Calendar) Day(t time.Time) string { return t.In(c.Location()).Format(dayLayout) }

// Closed reports whether the civil day of t is a special closure, and why.
func (c *Calendar) Closed(t time.Time) (Closure, bool) {
	day := c.Day(t)
	for _, cl := range c.Closures {
		if cl.Day == day {
			return cl, true
		}
	}
	return Closure{}, false
}

// spans are the opening spans of the civil day of t: none on a holiday or
// a closure; on a make-up working day the day's own weekday hours, or
// Monday's when that weekday has none.
func (c *Calendar) spans(t time.Time) []Span {
	day := c.Day(t)
	if slices.Contains(c.Holidays, day) {
		return nil
	}
	if _, closed := c.Closed(t); closed {
		return nil
	}
	spans := c.Weekly[weekdayKey(t.In(c.Location()).Weekday())]
	if len(spans) == 0 && slices.Contains(c.Workdays, day) {
		spans = c.Weekly["mon"]
	}
	return spans
}

func at(day time.Time, hhmm string, loc *time.Location) time.Time {
	m, _ := minutes(hhmm)
	y, mo, d := day.In(loc).Date()
	return time.Date(y, mo, d, m/60, m%60, 0, 0, loc)
}

// Intervals are the open intervals of the civil day of day, in order.
func (c *Calendar) Intervals(day time.Time) []Interval {
	loc := c.Location()
	var out []Interval
	for _, s := range c.spans(day) {
		out = append(out, Interval{From: at(day, s.From, loc), To: at(day, s.To, loc)})
	}
	return out
}

// OpenAt reports whether the hall is open at t.
func (c *Calendar) OpenAt(t time.Time) bool {
	for _, iv := range c.Intervals(t) {
		if !t.Before(iv.From) && t.Before(iv.To) {
			return true
		}
	}
	return false
}

// BookingOnlyAt reports whether service serves checked-in bookings only at
// t (and the hall is open).
func (c *Calendar) BookingOnlyAt(service string, t time.Time) bool {
	if !c.OpenAt(t) {
		return false
	}
	lt := t.In(c.Location())
	now := lt.Hour()*60 + lt.Minute()
	for _, b := range c.BookingOnly {
		if b.Service != service || b.Weekday != weekdayKey(lt.Weekday()) {
			continue
		}
		f, _ := minutes(b.From)
		to, _ := minutes(b.To)
		if now >= f && now < to {
			return true
		}
	}
	return false
}

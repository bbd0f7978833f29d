package booking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"hallq/central/calendars"
)

// ICS is the booking as an iCalendar object (RFC 5545): one VEVENT at the
// slot, in the hall's zone (DTSTART;TZID=…, with the zone's VTIMEZONE for
// the slot's year), named by the matter and the hall in Chinese and
// English, with the booking id for the kiosk and where to go. A cancelled
// booking is STATUS:CANCELLED, so a calendar that imports it again drops
// the event (same UID).
func (s *Service) ICS(ctx context.Context, b Booking) ([]byte, error) {
	h, err := s.Halls.Get(ctx, b.Hall)
	if err != nil && !errors.Is(err, calendars.ErrUnknownHall) {
		return nil, err
	}
	zone := h.Calendar.Zone
	loc := h.Calendar.Location()
	if zone == "" || loc == nil {
		zone, loc = "UTC", time.UTC
	}
	hallName := h.Name.ZH
	if h.Name.EN != "" && h.Name.EN != h.Name.ZH {
		hallName += " / " + h.Name.EN
	}
	if hallName == "" {
		hallName = b.Hall
	}
	what, where := "业务 "+b.Service, ""
	if b.Matter != "" {
		if c, err := s.Catalog.Current(ctx); err == nil {
			for _, m := range c.Matters {
				if m.Code == b.Matter {
					what = m.Name.ZH
					if m.Name.EN != "" {
						what += " / " + m.Name.EN
					}
					if m.Where != nil {
						where = m.Where.ZH
						if m.Where.EN != "" {
							where += " / " + m.Where.EN
						}
					}
				}
			}
		}
	}
	status := "CONFIRMED"
	if b.Status == Cancelled {
		status = "CANCELLED"
	}
	desc := "预约号 Booking: " + b.ID + "\n" +
		"请带齐材料，按预约时间到大厅，在自助机刷身份证或扫描预约二维码取号。\n" +
		"Bring the materials and come at the booked time; at the hall's kiosk, swipe your ID card or scan the booking QR code."
	if where != "" {
		desc += "\n" + where
	}
	local := func(t time.Time) string { return t.In(loc).Format("20060102T150405") }
	var out bytes.Buffer
	line := func(s string) { out.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//hallq//province portal//ZH")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	vtimezone(line, zone, loc, b.SlotStart.In(loc).Year())
	line("BEGIN:VEVENT")
	line("UID:" + b.ID + "@hallq")
	line("DTSTAMP:" + b.UpdatedAt.UTC().Format("20060102T150405Z"))
	line("DTSTART;TZID=" + zone + ":" + local(b.SlotStart))
	line("DTEND;TZID=" + zone + ":" + local(b.SlotEnd))
	line("SUMMARY:" + icsText("网上预约 Booking: "+what+" — "+hallName))
	line("LOCATION:" + icsText(hallName))
	line("DESCRIPTION:" + icsText(desc))
	line("STATUS:" + status)
	if status == "CONFIRMED" {
		line("BEGIN:VALARM")
		line("ACTION:DISPLAY")
		line("TRIGGER:-PT1H")
		line("DESCRIPTION:" + icsText("一小时后到大厅办事 · Your hall booking is in one hour"))
		line("END:VALARM")
	}
	line("END:VEVENT")
	line("END:VCALENDAR")
	return out.Bytes(), nil
}

// vtimezone writes the zone's offsets during year: one STANDARD or
// DAYLIGHT part per period, starting at each change of offset (a zone
// without changes, as Asia/Shanghai, has one STANDARD part).
func vtimezone(line func(string), zone string, loc *time.Location, year int) {
	line("BEGIN:VTIMEZONE")
	line("TZID:" + zone)
	// each part starts at a local time read on the offset before it
	part := func(at time.Time, from int) {
		kind := "STANDARD"
		if at.IsDST() {
			kind = "DAYLIGHT"
		}
		name, to := at.Zone()
		line("BEGIN:" + kind)
		line("DTSTART:" + at.In(time.FixedZone("", from)).Format("20060102T150405"))
		line("TZOFFSETFROM:" + offset(from))
		line("TZOFFSETTO:" + offset(to))
		line("TZNAME:" + icsText(name))
		line("END:" + kind)
	}
	start := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	_, off := start.Zone()
	part(start, off)
	for t := start; t.Year() == year; t = t.Add(time.Hour) {
		if _, o := t.Zone(); o != off {
			part(t, off)
			off = o
		}
	}
	line("END:VTIMEZONE")
}

func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec/60%60)
}

// icsText escapes a TEXT value (RFC 5545 3.3.11).
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(s)
}

// fold ends a content line with CRLF, folding it at 75 octets without
// splitting a UTF-8 character (RFC 5545 3.1).
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		l := len(string(r))
		if n+l > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += l
	}
	b.WriteString("\r\n")
	return b.String()
}

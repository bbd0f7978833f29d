package booking_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/central/booking"
	"hallq/central/platform"
	"hallq/internal/testclock"
)

// The portal's module of booking codes is what go generate writes now.
func TestPortalCodesAreCurrent(t *testing.T) {
	js, err := os.ReadFile(filepath.Join("../..", booking.CodesFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js, booking.CodesJS()) {
		t.Errorf("%s is stale: run go generate ./queue-server/wire", booking.CodesFile)
	}
	for _, r := range booking.Reasons {
		if !bytes.Contains(js, []byte("'"+string(r)+"'")) {
			t.Errorf("reason %s is not in %s", r, booking.CodesFile)
		}
	}
	for _, r := range platform.StaffRoles {
		if !bytes.Contains(js, []byte("'"+r+"'")) {
			t.Errorf("staff role %s is not in %s", r, booking.CodesFile)
		}
	}
}

// unfold parses an iCalendar object into its content lines (RFC 5545
// 3.1: CRLF line ends, a line starting with a space continues the last),
// failing on a bare LF or a line longer than 75 octets.
func unfold(t *testing.T, b []byte) []string {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Fatalf("lines must end with CRLF: %q", s)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line longer than 75 octets: %q", l)
		}
		if strings.HasPrefix(l, " ") && len(out) > 0 {
			out[len(out)-1] += l[1:]
			continue
		}
		out = append(out, l)
	}
	return out
}

// prop finds the value of the first property name (with its parameters)
// inside component comp.
func prop(lines []string, comp, name string) (params, value string, ok bool) {
	in := false
	for _, l := range lines {
		switch l {
		case "BEGIN:" + comp:
			in = true
			continue
		case "END:" + comp:
			in = false
		}
		k, v, _ := strings.Cut(l, ":")
		n, p, _ := strings.Cut(k, ";")
		if in && n == name {
			return p, v, true
		}
	}
	return "", "", false
}

// A booking's .ics is an RFC 5545 event at the slot's wall time in the
// hall's zone (TZID with its VTIMEZONE), named by the matter and hall,
// with the booking id; a cancelled booking's is STATUS:CANCELLED; another
// citizen's booking is not found.
func TestBookingAsICalendar(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	w.MustDo(http.StatusOK, "PUT", "/api/v1/staff/catalog", w.Admin(), map[string]any{"base_version": 0, "matters": []map[string]any{{
		"code": "passport", "name": map[string]string{"zh": "普通护照申领", "en": "Applying for a passport"}, "services": []string{"B"},
		"booking": "allowed", "materials": []map[string]any{{"name": map[string]string{"zh": "居民身份证"}, "original": true}},
		"where": map[string]string{"zh": "出入境窗口, 二楼", "en": "Exit-entry; first floor"}}}}, "", nil)
	var res booking.Result
	w.MustDo(http.StatusCreated, "POST", "/api/v1/bookings", w.Citizen(1),
		booking.Request{Hall: "h1", Service: "B", SlotStart: monday(9, 30), Matter: "passport"}, "k1", &res)

	req, _ := http.NewRequest("GET", w.Insts[0].URL+"/api/v1/bookings/"+res.Booking.ID+".ics", nil)
	req.Header.Set("Authorization", "Bearer "+w.Citizen(1))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), res.Booking.ID+".ics") {
		t.Fatalf("%d %v: %s", resp.StatusCode, resp.Header, body.String())
	}
	lines := unfold(t, body.Bytes())
	if lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Fatalf("not one VCALENDAR: %q", lines)
	}
	for _, want := range [][3]string{
		{"VCALENDAR", "VERSION", "2.0"},
		{"VTIMEZONE", "TZID", "Asia/Shanghai"},
		{"STANDARD", "TZOFFSETTO", "+0800"},
		{"VEVENT", "UID", res.Booking.ID + "@hallq"},
		{"VEVENT", "STATUS", "CONFIRMED"},
	} {
		if _, v, ok := prop(lines, want[0], want[1]); !ok || v != want[2] {
			t.Errorf("%s %s = %q, want %q", want[0], want[1], v, want[2])
		}
	}
	// the hall's wall time, not UTC: 09:30 in Shanghai is 01:30Z
	for name, want := range map[string]string{"DTSTART": "20261130T093000", "DTEND": "20261130T100000"} {
		p, v, _ := prop(lines, "VEVENT", name)
		if p != "TZID=Asia/Shanghai" || v != want {
			t.Errorf("%s;%s:%s, want TZID=Asia/Shanghai:%s", name, p, v, want)
		}
		loc, _ := time.LoadLocation(strings.TrimPrefix(p, "TZID="))
		if at, err := time.ParseInLocation("20060102T150405", v, loc); err != nil || !at.Equal(map[string]time.Time{"DTSTART": monday(9, 30), "DTEND": monday(10, 0)}[name]) {
			t.Errorf("%s reads as %v (%v)", name, at, err)
		}
	}
	_, sum, _ := prop(lines, "VEVENT", "SUMMARY")
	_, desc, _ := prop(lines, "VEVENT", "DESCRIPTION")
	if !strings.Contains(sum, "普通护照申领") || !strings.Contains(sum, "测试大厅") || !strings.Contains(desc, res.Booking.ID) ||
		!strings.Contains(desc, `出入境窗口\, 二楼`) || !strings.Contains(desc, `Exit-entry\; first floor`) {
		t.Errorf("summary %q description %q", sum, desc)
	}

	w.MustRefuse(http.StatusNotFound, booking.ReasonUnknownBooking, "GET", "/api/v1/bookings/"+res.Booking.ID+".ics", w.Citizen(2), nil)
	w.MustDo(http.StatusOK, "POST", "/api/v1/bookings/"+res.Booking.ID+"/cancel", w.Citizen(1), nil, "", nil)
	req.Header.Set("Authorization", "Bearer "+w.Citizen(1))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body.Reset()
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if _, v, _ := prop(unfold(t, body.Bytes()), "VEVENT", "STATUS"); v != "CANCELLED" {
		t.Errorf("a cancelled booking's event has STATUS %q", v)
	}
}

// The halls taking bookings are listed publicly with their names and
// services; with ?service= only those offering it, with its next free
// slots; an unknown parameter is refused by name.
func TestBookingHalls(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	h2 := sampleHall("h2")
	h2.Name.ZH, h2.Capacity = "第二大厅", map[string]int{"A": 1}
	w.MustHall(h2)
	var all struct{ Halls []booking.BookingHall }
	w.MustDo(http.StatusOK, "GET", "/api/v1/booking-halls", "", nil, "", &all)
	if len(all.Halls) != 2 || all.Halls[0].ID != "h1" || strings.Join(all.Halls[0].Services, ",") != "A,B" || all.Halls[1].Name.ZH != "第二大厅" ||
		all.Halls[0].Zone != "Asia/Shanghai" || all.Halls[0].NextSlots != nil {
		t.Fatalf("%+v", all)
	}
	var b struct{ Halls []booking.BookingHall }
	w.MustDo(http.StatusOK, "GET", "/api/v1/booking-halls?service=B", "", nil, "", &b)
	// Friday 09:00: the first bookable slot is 10:00 (the booking cut-off is an hour)
	if len(b.Halls) != 1 || b.Halls[0].ID != "h1" || len(b.Halls[0].NextSlots) != 3 || !b.Halls[0].NextSlots[0].Start.Equal(testclock.At(10, 0)) {
		t.Fatalf("%+v", b)
	}
	raw, _ := json.Marshal(b.Halls[0].NextSlots[0])
	if !strings.Contains(string(raw), "+08:00") {
		t.Errorf("a slot's time is not in the hall's zone: %s", raw)
	}
	w.MustRefuse(http.StatusBadRequest, booking.ReasonBadField, "GET", "/api/v1/booking-halls?day=x", "", nil)
}

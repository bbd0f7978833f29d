package calendars_test

import (
	"testing"
	"time"

	"hallq/central/calendars"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
)

var cst = time.FixedZone("CST", 8*3600)

func hall() calendars.Hall {
	day := []calendar.Span{{From: "08:30", To: "12:00"}, {From: "13:30", To: "17:15"}}
	return calendars.Hall{ID: "h1", Name: catalog.Text{ZH: "大厅"}, SlotMinutes: 45, Capacity: map[string]int{"B": 3},
		Calendar: calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{"mon": day, "fri": day},
			Holidays: []string{"2026-11-30"}, Workdays: []string{"2026-11-29"},
			Closures: []calendar.Closure{{Day: "2026-12-04", Reason: catalog.Text{ZH: "停电"}}}}}
}

func TestSlotsAreCutWithinEachSpan(t *testing.T) {
	h := hall()
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 11, 27, 10, 0, 0, 0, cst)
	var got []string
	for _, s := range h.Slots("B", fri) {
		got = append(got, s.Start.In(cst).Format("15:04")+"-"+s.End.In(cst).Format("15:04"))
		if s.Capacity != 3 {
			t.Fatalf("capacity %d", s.Capacity)
		}
	}
	// 08:30–12:00 holds four 45-minute slots (the fifth would cross noon);
	// 13:30–17:15 holds five.
	want := []string{"08:30-09:15", "09:15-10:00", "10:00-10:45", "10:45-11:30", "13:30-14:15", "14:15-15:00", "15:00-15:45", "15:45-16:30", "16:30-17:15"}
	if len(got) != len(want) {
		t.Fatalf("slots %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slots %v, want %v", got, want)
		}
	}
	if _, ok := h.SlotAt("B", time.Date(2026, 11, 27, 11, 30, 0, 0, cst)); ok {
		t.Fatal("a slot crossing noon")
	}
	if len(h.Slots("A", fri)) != 0 {
		t.Fatal("slots of a service that is not bookable")
	}
	for day, n := range map[int]int{29: 9, 30: 0} { // 调休 Sunday opens as a Monday; the holiday Monday is closed
		if got := len(h.Slots("B", time.Date(2026, 11, day, 12, 0, 0, 0, cst))); got != n {
			t.Fatalf("Nov %d: %d slots, want %d", day, got, n)
		}
	}
	if got := len(h.Slots("B", time.Date(2026, 12, 4, 12, 0, 0, 0, cst))); got != 0 {
		t.Fatalf("a closure has %d slots", got)
	}
}

func TestHallValidationNamesTheField(t *testing.T) {
	for name, f := range map[string]func(*calendars.Hall){
		"id":           func(h *calendars.Hall) { h.ID = "a.b" },
		"name.zh":      func(h *calendars.Hall) { h.Name.ZH = "" },
		"zone":         func(h *calendars.Hall) { h.Calendar.Zone = "Mars/Olympus" },
		"slot_minutes": func(h *calendars.Hall) { h.SlotMinutes = 1 },
		"capacity":     func(h *calendars.Hall) { h.Capacity = map[string]int{"b": 1} },
		"capacity.B":   func(h *calendars.Hall) { h.Capacity = map[string]int{"B": -1} },
	} {
		h := hall()
		f(&h)
		err := h.Validate()
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		if want := map[string]string{"name.zh": "name.zh", "zone": "zone", "slot_minutes": "slot_minutes", "capacity": "capacity", "capacity.B": "capacity.B", "id": "id"}[name]; !contains(err.Error(), want) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

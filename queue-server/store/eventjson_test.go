package store

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"hallq/queue-server/hall"
)

// fillRandom sets every exported field reachable from v (found by
// reflection, so a field added later is filled too) to a random value, or
// leaves it zero (nil, empty) a third of the time, so each omitempty and
// omitzero is seen both ways.
func fillRandom(r *rand.Rand, v reflect.Value, depth int) {
	if depth > 6 || r.IntN(3) == 0 {
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		zones := []*time.Location{time.UTC, cst, time.FixedZone("", 5*3600+45*60), time.FixedZone("", -(3*3600 + 30*60 + 15)), time.FixedZone("", 25*3600), time.FixedZone("", 24*3600+30*60), time.FixedZone("", -24*3600)}
		years := []int{2026, 2026, 2026, 1, 9999, 10000, -1}
		t := time.Date(years[r.IntN(len(years))], time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), []int{0, 500_000_000, 123_456_789, 1000}[r.IntN(4)], zones[r.IntN(len(zones))])
		v.Set(reflect.ValueOf(t))
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := []string{"a", "A001", "2026-12-01", "walk_in", "中文窗口", "<b>&", `q"uote`, `back\slash`, "line\nbreak", "\x00\x1f", "\xff\xfe", "\u2028\u2029", "emoji 🎫", "tab\t", "a<b", "a>b", "a&b", "x\u2029", "\x7f", "\x1f", "é\xc3"}
		v.SetString(s[r.IntN(len(s))])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt([]int64{1, -1, 7, 1 << 31, -1 << 40, 5}[r.IntN(6)] % (1 << (v.Type().Bits() - 1)))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint([]uint64{1, 255, 1 << 33}[r.IntN(3)] % (1 << (v.Type().Bits() - 1)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0.5, 1e21, 123.25, -3}[r.IntN(4)])
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillRandom(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := r.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillRandom(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fillRandom(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range r.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fillRandom(r, k, depth+1)
			fillRandom(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(r, v.Field(i), depth+1)
			}
		}
	}
}

// TestAppendEventIsJSONMarshal: the store's own encoding of an event is
// json.Marshal's, byte for byte (what is forwarded is read back from it),
// and refuses what json.Marshal refuses.
func TestAppendEventIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var ev hall.Event
		fillRandom(r, reflect.ValueOf(&ev).Elem(), 0)
		if i%4 == 0 { // most events: a ticket, maybe a window and a counter, plain times
			ev = hall.Event{Seq: ev.Seq, Type: hall.EvTicketIssued, At: time.Date(2026, 12, 1, 9, 30, 0, 123000000, cst), Day: "2026-12-01", Ticket: ev.Ticket, Window: ev.Window, Counter: ev.Counter}
		}
		want, werr := json.Marshal(&ev)
		got, gerr := marshalEvent(&ev)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n json.Marshal %s (%v)\n marshalEvent %s (%v)", i, want, werr, got, gerr)
		}
	}
}

// The fill reaches every field: an event with all of them set encodes
// each of its parts' fields (a field the fill missed would never be
// compared).
func TestFillRandomReachesEveryField(t *testing.T) {
	seen := map[string]bool{}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		var ev hall.Event
		fillRandom(r, reflect.ValueOf(&ev).Elem(), 0)
		raw, err := json.Marshal(&ev)
		if err != nil {
			continue
		}
		var parts map[string]map[string]json.RawMessage
		var top map[string]json.RawMessage
		json.Unmarshal(raw, &top)
		for k := range top {
			seen[k] = true
		}
		json.Unmarshal(raw, &parts)
		for _, p := range []string{"ticket", "window"} {
			for k := range parts[p] {
				seen[p+"."+k] = true
			}
		}
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[hall.Event](), reflect.TypeFor[hall.Ticket](), reflect.TypeFor[hall.Window]()} {
		prefix := map[string]string{"Event": "", "Ticket": "ticket.", "Window": "window."}[typ.Name()]
		for i := range typ.NumField() {
			name, _, _ := bytes.Cut([]byte(typ.Field(i).Tag.Get("json")), []byte(","))
			if string(name) == "-" {
				continue
			}
			if !seen[prefix+string(name)] {
				t.Errorf("the random events never set %s%s", prefix, name)
			}
		}
	}
}

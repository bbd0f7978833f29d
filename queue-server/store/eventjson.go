package store

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"hallq/queue-server/hall"
)

// Every committed event is encoded once, by the committer, inside the
// transaction that holds the hall's lock on its file: encoding/json's
// reflection (and its re-compaction of each time.Time's own encoding) was
// the largest single part of a commit's CPU. appendEvent writes the same
// bytes as json.Marshal for the event, the ticket, the window and the
// counter by hand; every other part (rarer, and larger: configuration,
// catalogue, bookings, leases, summaries, ratings, matters) and any string
// encoding/json would escape are handed to json.Marshal, whose bytes are
// what the struct's encoding holds for them. TestAppendEventIsJSONMarshal
// holds the two to the same bytes for events with every field set or
// left zero, found by reflection, so a field added to these types and not
// here fails it.

// errTime is a time json.Marshal refuses (the caller falls back to it for
// the error).
var errTime = errors.New("a time outside RFC 3339")

// marshalEvent returns the event's JSON, exactly as json.Marshal(ev).
func marshalEvent(ev *hall.Event) ([]byte, error) {
	b, err := appendEvent(make([]byte, 0, 1024), ev)
	if err != nil {
		return json.Marshal(ev)
	}
	return b, nil
}

func appendEvent(b []byte, ev *hall.Event) ([]byte, error) {
	var err error
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, ev.Type)
	b = append(b, `,"at":`...)
	if b, err = appendTime(b, ev.At); err != nil {
		return nil, err
	}
	b = append(b, `,"day":`...)
	b = appendString(b, ev.Day)
	if ev.Actor != "" {
		b = append(b, `,"actor":`...)
		b = appendString(b, ev.Actor)
	}
	if ev.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, ev.Reason)
	}
	if ev.Ticket != nil {
		b = append(b, `,"ticket":`...)
		if b, err = appendTicket(b, ev.Ticket); err != nil {
			return nil, err
		}
	}
	if ev.Window != nil {
		b = append(b, `,"window":`...)
		if b, err = appendWindow(b, ev.Window); err != nil {
			return nil, err
		}
	}
	if c := ev.Counter; c != nil {
		b = append(b, `,"counter":{"day":`...)
		b = appendString(b, c.Day)
		b = append(b, `,"service":`...)
		b = appendString(b, c.Service)
		b = append(b, `,"last":`...)
		b = strconv.AppendInt(b, int64(c.Last), 10)
		b = append(b, '}')
	}
	for _, f := range [...]struct {
		name string
		set  bool
		v    any
	}{
		{"lease", ev.Lease != nil, ev.Lease},
		{"booking", ev.Booking != nil, ev.Booking},
		{"blacklist", ev.Blacklist != nil, ev.Blacklist},
		{"summary", ev.Summary != nil, ev.Summary},
		{"config", ev.Config != nil, ev.Config},
		{"help", ev.Help != nil, ev.Help},
		{"catalog", ev.Catalog != nil, ev.Catalog},
	} {
		if f.set {
			if b, err = appendMarshal(append(append(append(b, ",\""...), f.name...), "\":"...), f.v); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

func appendTicket(b []byte, t *hall.Ticket) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"number":`...)
	b = appendString(b, t.Number)
	b = append(b, `,"service":`...)
	b = appendString(b, t.Service)
	b = append(b, `,"day":`...)
	b = appendString(b, t.Day)
	b = append(b, `,"channel":`...)
	b = appendString(b, string(t.Channel))
	b = append(b, `,"status":`...)
	b = appendString(b, string(t.Status))
	b = appendOptString(b, `,"citizen_key":`, t.CitizenKey)
	b = appendOptString(b, `,"masked_id":`, t.MaskedID)
	b = appendOptString(b, `,"age_class":`, string(t.AgeClass))
	b = append(b, `,"issued_at":`...)
	if b, err = appendTime(b, t.IssuedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"queued_at":`...)
	if b, err = appendTime(b, t.QueuedAt); err != nil {
		return nil, err
	}
	for _, f := range [...]struct {
		name string
		t    time.Time
	}{{`,"called_at":`, t.CalledAt}, {`,"started_at":`, t.StartedAt}, {`,"finished_at":`, t.FinishedAt}, {`,"parked_at":`, t.ParkedAt}} {
		if !f.t.IsZero() {
			if b, err = appendTime(append(b, f.name...), f.t); err != nil {
				return nil, err
			}
		}
	}
	b = appendOptInt(b, `,"window":`, t.Window)
	b = appendOptInt(b, `,"target_window":`, t.TargetWindow)
	b = appendOptInt(b, `,"recalls":`, t.Recalls)
	b = appendOptBool(b, `,"transferred":`, t.Transferred)
	b = appendOptString(b, `,"from_service":`, t.FromService)
	b = appendOptString(b, `,"booking":`, t.Booking)
	b = appendOptString(b, `,"kiosk":`, t.Kiosk)
	b = appendOptBool(b, `,"offline":`, t.Offline)
	b = appendOptBool(b, `,"print_failed":`, t.PrintFailed)
	b = appendOptString(b, `,"previous_number":`, t.PreviousNumber)
	b = appendOptString(b, `,"clerk":`, t.Clerk)
	if t.Rating != nil {
		if b, err = appendMarshal(append(b, `,"rating":`...), t.Rating); err != nil {
			return nil, err
		}
	}
	b = appendOptBool(b, `,"postponed":`, t.Postponed)
	if len(t.Matters) > 0 {
		if b, err = appendMarshal(append(b, `,"matters":`...), t.Matters); err != nil {
			return nil, err
		}
	}
	b = appendOptString(b, `,"clock_flag":`, t.ClockFlag)
	return append(b, '}'), nil
}

func appendWindow(b []byte, w *hall.Window) ([]byte, error) {
	b = append(b, `{"number":`...)
	b = strconv.AppendInt(b, int64(w.Number), 10)
	b = append(b, `,"name":{"zh":`...)
	b = appendString(b, w.Name.ZH)
	b = append(b, `,"en":`...)
	b = appendString(b, w.Name.EN)
	b = append(b, `},"services":`...)
	if w.Services == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, s := range w.Services {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"status":`...)
	b = appendString(b, string(w.Status))
	b = appendOptString(b, `,"clerk":`, w.Clerk)
	b = appendOptString(b, `,"current":`, w.Current)
	b = appendOptString(b, `,"pause_reason":`, w.PauseReason)
	if !w.Since.IsZero() {
		var err error
		if b, err = appendTime(append(b, `,"since":`...), w.Since); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendMarshal(b []byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

func appendOptString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendString(append(b, name...), s)
}

func appendOptInt(b []byte, name string, n int) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, name...), int64(n), 10)
}

func appendOptBool(b []byte, name string, v bool) []byte {
	if !v {
		return b
	}
	return append(append(b, name...), "true"...)
}

// appendString appends s as encoding/json writes it: as it is when it
// holds nothing json escapes (quote, backslash, control characters, HTML's
// <, > and &, U+2028, U+2029, invalid UTF-8), else as json.Marshal writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendSlowString(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			return appendSlowString(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendSlowString(b []byte, s string) []byte {
	raw, _ := json.Marshal(s) // a string always encodes
	return append(b, raw...)
}

// appendTime appends t as time.Time's MarshalJSON writes it, or errTime
// for a time it refuses.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	// MarshalJSON's own checks (time/format_rfc3339.go, appendStrictRFC3339)
	switch {
	case b[n0+len("9999")] != '-':
		return nil, errTime
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		h := 10*(b[len(b)-len("07:00")]-'0') + (b[len(b)-len("7:00")] - '0')
		if ('0' <= c && c <= '9') || h >= 24 {
			return nil, errTime
		}
	}
	return append(b, '"'), nil
}

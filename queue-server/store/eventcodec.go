package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/hall"
)

// How an event is stored in the log. Most events change a few fields of
// a ticket or a window (a status, a time, the ticket at the window), yet
// each carries the ticket's and the window's whole snapshots. So an event
// whose ticket (or window) differs from its snapshot in an earlier event of
// the same day (its base) only by fields set or changed stores that part as
// a patch:
//
//	'p', parts (a byte: 1 the ticket, 2 the window), for each part in that
//	order: its base's seq (8 bytes), uvarint length, the fields that differ
//	from the base's (a JSON object); then the event without those parts (JSON)
//
// and every other event as its JSON (the only form of schema ≤ 3 logs).
// A base's part is always whole, so a part is read with one more lookup.
// Read back, a patched event is the event that was committed, field for
// field: each part's JSON is its base's with the patch's fields replaced,
// which is the committed part's JSON key for key. The wire format (what is
// forwarded, docs/central.md) is made from the event read back, as before.
// Bases are kept in memory for the current day; after a restart each
// ticket's and window's next event is whole again and becomes the base.
const patchTag = 'p'

const (
	partTicket = 1 << iota
	partWindow
)

var partNames = [...]string{"ticket", "window"}

// A part is patched only while its patch is at most this share of its
// JSON; past it the part is whole and the next base.
const patchShare = 0.6

// base is a part's latest whole snapshot in the log; its fields are read
// back from the log when first needed, so a whole event costs nothing more.
type base struct {
	seq    uint64
	day    string
	fields map[string]json.RawMessage // nil until needed; only touched in write transactions
}

// bases caches the current day's bases (by ticket id or window number),
// so a commit never reads one back. Commits stage their bases and publish
// them once committed.
type bases struct {
	mu  sync.Mutex
	day string
	m   map[baseKey]*base
}

// baseKey names a part's base: part i of ticket id or window n.
type baseKey struct {
	part int
	id   string
	n    int
}

func (b *bases) get(key baseKey) (*base, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[key]
	return v, ok
}

// publish adds a committed transaction's bases; a later day's drop the
// earlier day's.
func (b *bases) publish(staged map[baseKey]*base) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range staged {
		if v.day > b.day || b.m == nil {
			b.day, b.m = v.day, map[baseKey]*base{}
		}
		if v.day == b.day {
			b.m[k] = v
		}
	}
}

var errNoEvent = errors.New("no such event")

// patched is a stored patch taken apart.
type patched struct {
	parts byte
	base  [2]uint64
	patch [2][]byte
	rest  []byte
}

func splitPatch(v []byte) (p patched, err error) {
	short := errors.New("a patch cut short")
	if len(v) < 2 || v[0] != patchTag || v[1] == 0 || v[1]&^(partTicket|partWindow) != 0 {
		return p, short
	}
	p.parts, v = v[1], v[2:]
	for i := range partNames {
		if p.parts&(1<<i) == 0 {
			continue
		}
		if len(v) < 9 {
			return p, short
		}
		p.base[i] = binary.BigEndian.Uint64(v[:8])
		n, w := binary.Uvarint(v[8:])
		if w <= 0 || n > uint64(len(v)-8-w) {
			return p, short
		}
		p.patch[i], v = v[8+w:8+w+int(n)], v[8+w+int(n):]
	}
	if len(v) < 2 || v[0] != '{' {
		return p, errors.New("the patch's event is not a JSON object")
	}
	p.rest = v
	return p, nil
}

func (p patched) encode() []byte {
	out := []byte{patchTag, p.parts}
	for i := range partNames {
		if p.parts&(1<<i) != 0 {
			out = append(out, u64(p.base[i])...)
			out = binary.AppendUvarint(out, uint64(len(p.patch[i])))
			out = append(out, p.patch[i]...)
		}
	}
	return append(out, p.rest...)
}

// wholePart returns part i of the event stored under seq, which must be
// whole there (a base).
func wholePart(events *bolt.Bucket, seq uint64, i int) (json.RawMessage, error) {
	v := events.Get(u64(seq))
	if v == nil {
		return nil, fmt.Errorf("the base %d is missing", seq)
	}
	if v[0] == patchTag {
		p, err := splitPatch(v)
		if err != nil {
			return nil, fmt.Errorf("the base %d: %w", seq, err)
		}
		if p.parts&(1<<i) != 0 {
			return nil, fmt.Errorf("the base %d's %s is not whole", seq, partNames[i])
		}
		v = p.rest
	}
	var parts struct {
		Ticket json.RawMessage `json:"ticket"`
		Window json.RawMessage `json:"window"`
	}
	if err := json.Unmarshal(v, &parts); err != nil {
		return nil, fmt.Errorf("the base %d: %w", seq, err)
	}
	raw := [...]json.RawMessage{parts.Ticket, parts.Window}[i]
	if raw == nil {
		return nil, fmt.Errorf("the base %d holds no %s", seq, partNames[i])
	}
	return raw, nil
}

// storedEvent returns the JSON of the event stored under seq (rebuilt
// from its bases when it is a patch).
func storedEvent(events *bolt.Bucket, seq []byte) ([]byte, error) {
	v := events.Get(seq)
	if v == nil {
		return nil, errNoEvent
	}
	if len(v) == 0 || v[0] != patchTag {
		return v, nil
	}
	p, err := splitPatch(v)
	if err != nil {
		return nil, err
	}
	out := []byte{'{'}
	for i, name := range partNames {
		if p.parts&(1<<i) == 0 {
			continue
		}
		b, err := wholePart(events, p.base[i], i)
		if err != nil {
			return nil, err
		}
		fields := map[string]json.RawMessage{}
		if err := json.Unmarshal(b, &fields); err != nil {
			return nil, fmt.Errorf("the base %d: %w", p.base[i], err)
		}
		changed := map[string]json.RawMessage{}
		if err := json.Unmarshal(p.patch[i], &changed); err != nil {
			return nil, fmt.Errorf("the patch: %w", err)
		}
		for k, f := range changed {
			fields[k] = f
		}
		whole, err := json.Marshal(fields)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, `"`+name+`":`...), whole...), ',')
	}
	if bytes.Equal(bytes.TrimSpace(p.rest[1:]), []byte("}")) {
		out = out[:len(out)-1]
	}
	return append(out, p.rest[1:]...), nil
}

// readEvent reads the event stored under seq.
func readEvent(events *bolt.Bucket, seq []byte) (hall.Event, error) {
	var ev hall.Event
	raw, err := storedEvent(events, seq)
	if err == nil {
		err = json.Unmarshal(raw, &ev)
	}
	if err != nil {
		return ev, fmt.Errorf("store: event %d: %w", binary.BigEndian.Uint64(seq), err)
	}
	return ev, nil
}

// fieldsOf is a part's JSON (a *hall.Ticket or *hall.Window, as
// json.Marshal writes it: eventjson.go) and its fields.
func fieldsOf(v any) ([]byte, map[string]json.RawMessage, error) {
	var raw []byte
	var err error
	switch p := v.(type) {
	case *hall.Ticket:
		raw, err = appendTicket(nil, p)
	case *hall.Window:
		raw, err = appendWindow(nil, p)
	default:
		err = errTime
	}
	if err != nil {
		if raw, err = json.Marshal(v); err != nil {
			return nil, nil, err
		}
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil, err
	}
	return raw, fields, nil
}

// encodeEvent returns what the log stores for ev: its ticket and window
// patched against their bases where that is smaller, else its JSON. A
// whole part is staged as its ticket's or window's next base.
func (s *Store) encodeEvent(tx *bolt.Tx, staged map[baseKey]*base, arena *[]byte, ev *hall.Event) ([]byte, error) {
	var p patched
	cp := *ev
	for i := range partNames {
		var key baseKey
		var part any
		switch {
		case i == 0 && ev.Ticket != nil:
			key, part = baseKey{part: i, id: ev.Ticket.ID}, ev.Ticket
		case i == 1 && ev.Window != nil:
			key, part = baseKey{part: i, n: ev.Window.Number}, ev.Window
		default:
			continue
		}
		// an issued or carried ticket starts its day's chain: no base to look up
		var b *base
		ok := false
		if i != 0 || ev.Type != hall.EvTicketIssued && ev.Type != hall.EvTicketCarried {
			if b, ok = staged[key]; !ok {
				b, ok = s.bases.get(key)
			}
		}
		if ok && b.day == ev.Day {
			if b.fields == nil {
				raw, err := wholePart(tx.Bucket(bEvents), b.seq, i)
				if err != nil {
					return nil, fmt.Errorf("store: event %d: %w", ev.Seq, err)
				}
				if err := json.Unmarshal(raw, &b.fields); err != nil {
					return nil, fmt.Errorf("store: event %d: the base %d: %w", ev.Seq, b.seq, err)
				}
			}
			raw, fields, err := fieldsOf(part)
			if err != nil {
				return nil, err
			}
			if patch, small := patchOf(b.fields, fields, len(raw)); small {
				p.parts |= 1 << i
				p.base[i], p.patch[i] = b.seq, patch
				if i == 0 {
					cp.Ticket = nil
				} else {
					cp.Window = nil
				}
				continue
			}
		}
		staged[key] = &base{seq: ev.Seq, day: ev.Day}
	}
	if p.parts == 0 {
		start := len(*arena)
		b, err := appendEvent(*arena, ev)
		if err != nil {
			return json.Marshal(ev) // its error, or the same bytes
		}
		*arena = b
		return b[start:len(b):len(b)], nil
	}
	rest, err := marshalEvent(&cp)
	if err != nil {
		return nil, err
	}
	p.rest = rest
	return p.encode(), nil
}

// patchOf returns the fields of now that differ from base's, as a JSON
// object, when now has every field of base (a patch only sets fields) and
// the patch is small enough.
func patchOf(base, now map[string]json.RawMessage, size int) ([]byte, bool) {
	for k := range base {
		if _, ok := now[k]; !ok {
			return nil, false
		}
	}
	keys := make([]string, 0, 8)
	for k, v := range now {
		if !bytes.Equal(base[k], v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(k)
		out = append(append(append(out, kb...), ':'), now[k]...)
	}
	out = append(out, '}')
	return out, float64(len(out)) <= patchShare*float64(size)
}

// Package calendars keeps each hall's booking set-up at the province: its
// opening calendar (internal/calendar: weekly hours with lunch break,
// holidays, 调休 make-up days, special closures, booking-only hours), the
// length of a booking slot and the seats per slot of each bookable service.
// One JetStream KV entry per hall (bucket HALL_CALENDARS, key hall.<id>),
// written with compare-and-set on its revision, so two staff members
// editing the same hall never overwrite each other unseen.
//
// Slots are cut from the calendar's open intervals of a day: back to back
// from the start of each interval, none crossing the lunch break or the
// closing time.
package calendars

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"

	"hallq/internal/calendar"
	"hallq/internal/catalog"
)

// Bucket is the KV bucket of the halls' calendars.
const Bucket = "HALL_CALENDARS"

// ErrUnknownHall: no calendar is kept for that hall id.
var ErrUnknownHall = errors.New("calendars: unknown hall")

// ErrChanged: the hall was changed by someone else since the revision given.
var ErrChanged = errors.New("calendars: the hall was changed since that revision")

// Hall is one hall's booking set-up.
type Hall struct {
	ID          string            `json:"id"`
	Name        catalog.Text      `json:"name"`
	District    catalog.Text      `json:"district,omitzero"` // e.g. 武昌区, shown in the public hall list
	Calendar    calendar.Calendar `json:"calendar"`
	SlotMinutes int               `json:"slot_minutes"`
	// Capacity is the seats per slot of each bookable service letter.
	Capacity map[string]int `json:"capacity"`
	// Revision is the KV revision the hall was read at (set on reads;
	// a write names the revision it changes).
	Revision uint64 `json:"revision,omitempty"`
}

var hallIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidHallID reports whether id is a hall id (1–64 of [A-Za-z0-9_-]).
func ValidHallID(id string) bool { return hallIDRE.MatchString(id) }

// Validate reports the first thing wrong, naming the field.
func (h *Hall) Validate() error {
	if !ValidHallID(h.ID) {
		return fmt.Errorf("id %q must be 1-64 letters, digits, '-' or '_'", h.ID)
	}
	if h.Name.ZH == "" {
		return errors.New("name.zh is required")
	}
	if err := h.Calendar.Validate(); err != nil {
		return err
	}
	if h.SlotMinutes < 5 || h.SlotMinutes > 240 {
		return fmt.Errorf("slot_minutes must be 5 to 240, not %d", h.SlotMinutes)
	}
	if len(h.Capacity) == 0 {
		return errors.New("capacity must name at least one bookable service")
	}
	for s, n := range h.Capacity {
		if len(s) != 1 || s[0] < 'A' || s[0] > 'Z' {
			return fmt.Errorf("capacity: service %q is not one capital letter", s)
		}
		if n < 0 || n > 10000 {
			return fmt.Errorf("capacity.%s must be 0 to 10000 seats per slot, not %d", s, n)
		}
	}
	return nil
}

// Slot is one booking slot of a service.
type Slot struct {
	Service  string    `json:"service"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Capacity int       `json:"capacity"`
}

// Slots are the slots of service on the civil day of day (in the hall's
// zone), in order; none when the hall is closed or the service is not
// bookable.
func (h *Hall) Slots(service string, day time.Time) []Slot {
	seats, ok := h.Capacity[service]
	if !ok {
		return nil
	}
	step := time.Duration(h.SlotMinutes) * time.Minute
	var out []Slot
	for _, iv := range h.Calendar.Intervals(day) {
		for s := iv.From; !s.Add(step).After(iv.To); s = s.Add(step) {
			out = append(out, Slot{Service: service, Start: s, End: s.Add(step), Capacity: seats})
		}
	}
	return out
}

// SlotAt is the slot of service starting exactly at start.
func (h *Hall) SlotAt(service string, start time.Time) (Slot, bool) {
	for _, s := range h.Slots(service, start) {
		if s.Start.Equal(start) {
			return s, true
		}
	}
	return Slot{}, false
}

// Store is the KV bucket of hall calendars.
type Store struct{ kv jetstream.KeyValue }

// Open creates or binds the bucket (replicas: the cluster size).
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	kv, err := platform.OpenKV(ctx, js, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "each hall's calendar, slot length and seats per slot; key hall.<id>",
		History: 16, Storage: jetstream.FileStorage, Replicas: max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("calendars: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv}, nil
}

func key(id string) string { return "hall." + id }

// Get reads a hall.
func (s *Store) Get(ctx context.Context, id string) (Hall, error) {
	if !ValidHallID(id) {
		return Hall{}, ErrUnknownHall
	}
	e, err := s.kv.Get(ctx, key(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Hall{}, ErrUnknownHall
	}
	if err != nil {
		return Hall{}, err
	}
	var h Hall
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return Hall{}, fmt.Errorf("calendars: hall %s: %w", id, err)
	}
	if err := h.Calendar.Validate(); err != nil {
		return Hall{}, fmt.Errorf("calendars: hall %s: %w", id, err)
	}
	h.Revision = e.Revision()
	return h, nil
}

// Put writes a validated hall: a new one with revision 0, a change with
// the revision it was read at (ErrChanged if someone wrote since). It
// returns the hall as stored, with its new revision, and the one it
// replaced (nil for a new hall).
func (s *Store) Put(ctx context.Context, h Hall) (Hall, *Hall, error) {
	if err := h.Validate(); err != nil {
		return Hall{}, nil, err
	}
	var old *Hall
	if h.Revision != 0 {
		o, err := s.Get(ctx, h.ID)
		if err != nil && !errors.Is(err, ErrUnknownHall) {
			return Hall{}, nil, err
		}
		if err == nil {
			old = &o
		}
	}
	rev := h.Revision
	h.Revision = 0
	body, err := json.Marshal(h)
	if err != nil {
		return Hall{}, nil, err
	}
	var nrev uint64
	if rev == 0 {
		nrev, err = s.kv.Create(ctx, key(h.ID), body)
	} else {
		nrev, err = s.kv.Update(ctx, key(h.ID), body, rev)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return Hall{}, nil, ErrChanged
	}
	if err != nil {
		return Hall{}, nil, err
	}
	h.Revision = nrev
	return h, old, nil
}

// List reads every hall, by id.
func (s *Store) List(ctx context.Context) ([]Hall, error) {
	keys, err := s.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	slices.Sort(keys)
	var out []Hall
	for _, k := range keys {
		h, err := s.Get(ctx, k[len("hall."):])
		if errors.Is(err, ErrUnknownHall) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// History is the hall's kept revisions (the bucket keeps the last 16),
// newest first, each with when it was written.
func (s *Store) History(ctx context.Context, id string) ([]Revision, error) {
	if !ValidHallID(id) {
		return nil, ErrUnknownHall
	}
	es, err := s.kv.History(ctx, key(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, ErrUnknownHall
	}
	if err != nil {
		return nil, err
	}
	out := make([]Revision, 0, len(es))
	for i := len(es) - 1; i >= 0; i-- {
		var h Hall
		if json.Unmarshal(es[i].Value(), &h) != nil {
			continue
		}
		h.Revision = es[i].Revision()
		out = append(out, Revision{Revision: h.Revision, At: es[i].Created(), Hall: h})
	}
	return out, nil
}

// Revision is one kept revision of a hall.
type Revision struct {
	Revision uint64    `json:"revision"`
	At       time.Time `json:"at"`
	Hall     Hall      `json:"hall"`
}

// Bind binds the bucket without changing its configuration (a process
// whose other parts opened it already), creating it when it is missing.
func Bind(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	kv, err := platform.BindKV(ctx, js, Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return Open(ctx, js, replicas)
	}
	if err != nil {
		return nil, fmt.Errorf("calendars: bucket %s: %w", Bucket, err)
	}
	return &Store{kv: kv}, nil
}

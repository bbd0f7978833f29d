package platform

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultServiceTime is the handling time assumed for a service that has
// served nobody yet today, for wait estimates.
const DefaultServiceTime = 5 * time.Minute

// Views is a process's read copy of bucket central_halls, kept by a KV
// watcher (JetStream pushes every change): the API serves hall lists
// from it without a round trip per hall. It holds nothing JetStream does
// not: a new process rebuilds it from the bucket. The watcher goroutine
// is its only writer.
type Views struct {
	b *Buckets

	mu     sync.RWMutex
	halls  map[string]*HallState
	trails map[string]*AuditTrail // bucket central_hall_audit, by hall
	ready  chan struct{}
}

// NewViews returns a read copy of the buckets; call Run.
func NewViews(b *Buckets) *Views {
	return &Views{b: b, halls: map[string]*HallState{}, trails: map[string]*AuditTrail{}, ready: make(chan struct{})}
}

// Run watches central_halls (and central_hall_audit) until ctx ends.
func (v *Views) Run(ctx context.Context) error {
	if v.b.Audit != nil {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				_ = v.watchAudit(ctx)
				sleep(ctx, 500*time.Millisecond)
			}
		}()
	}
	for ctx.Err() == nil {
		err := v.watch(ctx)
		if ctx.Err() != nil {
			break
		}
		_ = err
		sleep(ctx, 500*time.Millisecond)
	}
	return nil
}

func (v *Views) watch(ctx context.Context) error {
	w, err := v.b.Halls.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("central: hall watcher closed")
			}
			if e == nil { // the initial values are all in
				select {
				case <-v.ready:
				default:
					close(v.ready)
				}
				continue
			}
			v.mu.Lock()
			if e.Operation() != jetstream.KeyValuePut {
				delete(v.halls, e.Key())
			} else {
				var st HallState
				if json.Unmarshal(e.Value(), &st) == nil {
					v.halls[e.Key()] = &st
				}
			}
			v.mu.Unlock()
		}
	}
}

func (v *Views) watchAudit(ctx context.Context) error {
	w, err := v.b.Audit.Watch(ctx, "h.*")
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return errors.New("central: audit watcher closed")
			}
			if e == nil {
				continue
			}
			id := strings.TrimPrefix(e.Key(), "h.")
			v.mu.Lock()
			if e.Operation() != jetstream.KeyValuePut {
				delete(v.trails, id)
			} else {
				var t AuditTrail
				if json.Unmarshal(e.Value(), &t) == nil {
					v.trails[id] = &t
				}
			}
			v.mu.Unlock()
		}
	}
}

// Trail returns what the central holds of a hall's audit trail, from the
// read copy (shared: do not change it).
func (v *Views) Trail(id string) (*AuditTrail, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	t, ok := v.trails[id]
	return t, ok
}

// Ready is closed once the read copy holds every entry that existed when
// the watch began.
func (v *Views) Ready() <-chan struct{} { return v.ready }

// Hall returns a hall's entry (shared: do not change it).
func (v *Views) Hall(id string) (*HallState, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	h, ok := v.halls[id]
	return h, ok
}

// All returns every hall's entry, sorted by hall id (shared: do not
// change them).
func (v *Views) All() []*HallState {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]*HallState, 0, len(v.halls))
	for _, id := range slices.Sorted(maps.Keys(v.halls)) {
		out = append(out, v.halls[id])
	}
	return out
}

// Ticket reads a ticket's entry from JetStream.
func (v *Views) Ticket(ctx context.Context, id string) (*TicketState, error) {
	e, err := v.b.Tickets.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var t TicketState
	if err := json.Unmarshal(e.Value(), &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ServiceLive is the public live figure of one service of a hall.
type ServiceLive struct {
	Service     string `json:"service"`
	Waiting     int    `json:"waiting"`
	OpenWindows int    `json:"open_windows"`
	// EstimatedWaitS is the wait a ticket taken now can expect: waiting ×
	// today's mean handling time ÷ windows open for the service; null
	// when no window serves it now.
	EstimatedWaitS *int `json:"estimated_wait_s"`
}

// meanServiceS is today's mean handling time of a service.
func (h *HallState) meanServiceS(svc string) float64 {
	if a := h.Services[svc]; a != nil && a.ServiceN > 0 {
		return a.ServiceSumS / float64(a.ServiceN)
	}
	return DefaultServiceTime.Seconds()
}

func (h *HallState) openFor(svc string) int {
	n := 0
	for _, w := range h.Windows {
		if w.Status == "open" && slices.Contains(w.Services, svc) {
			n++
		}
	}
	return n
}

func (h *HallState) openWindows() int {
	n := 0
	for _, w := range h.Windows {
		if w.Status == "open" {
			n++
		}
	}
	return n
}

// estimate is the wait of a ticket with ahead people before it.
func (h *HallState) estimate(svc string, ahead int) *int {
	k := h.openFor(svc)
	if k == 0 {
		return nil
	}
	s := int(math.Round(float64(ahead) * h.meanServiceS(svc) / float64(k)))
	return &s
}

// services lists every service the hall has shown today, with its live figures.
func (h *HallState) services() []ServiceLive {
	set := map[string]bool{}
	for s := range h.Waiting {
		set[s] = true
	}
	for s := range h.Services {
		set[s] = true
	}
	for _, w := range h.Windows {
		for _, s := range w.Services {
			set[s] = true
		}
	}
	out := []ServiceLive{}
	for _, s := range slices.Sorted(maps.Keys(set)) {
		n := len(h.Waiting[s])
		out = append(out, ServiceLive{Service: s, Waiting: n, OpenWindows: h.openFor(s), EstimatedWaitS: h.estimate(s, n)})
	}
	return out
}

// silent reports a hall with windows open whose last event is older than
// after: it works but does not forward.
func (h *HallState) silent(now time.Time, after time.Duration) bool {
	return after > 0 && h.openWindows() > 0 && !h.LastAt.IsZero() && now.Sub(h.LastAt) > after
}

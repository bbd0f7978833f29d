package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
	"hallq/queue-server/hall"
)

func (s *Service) runTickets(ctx context.Context) {
	retry(ctx, s.log, "ticket watcher", s.watchTickets)
}

// watchTickets follows the central's hall entries and the followed
// tickets. This goroutine owns both indexes; on every change of a hall
// with followed tickets it judges them against the hall's queues and the
// tickets' entries. Every process runs one: the outbox's Create lets one
// decision of each notification through.
func (s *Service) watchTickets(ctx context.Context) error {
	fw, err := s.subs.Watch(ctx, "f.>")
	if err != nil {
		return err
	}
	defer fw.Stop()
	hw, err := s.hallsKV.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer hw.Stop()
	follows := map[string]map[string]Follow{} // hall → follow key → follow
	halls := map[string]*platform.HallState{}
	told := map[string]bool{} // decisions made by this watcher (their Create is idempotent anyway)
	sweep := time.NewTicker(s.cfg.SweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sweep.C:
			s.sweepPhones(ctx)
		case u, ok := <-fw.Updates():
			if !ok {
				return errors.New("follow watcher closed")
			}
			if u == nil {
				continue
			}
			parts := strings.SplitN(u.Key(), ".", 4)
			if len(parts) != 4 {
				continue
			}
			h := parts[1]
			var f Follow
			if u.Operation() != jetstream.KeyValuePut || json.Unmarshal(u.Value(), &f) != nil {
				delete(follows[h], u.Key())
				for k := range told {
					if strings.HasPrefix(k, u.Key()+"/") {
						delete(told, k)
					}
				}
				continue
			}
			if follows[h] == nil {
				follows[h] = map[string]Follow{}
			}
			follows[h][u.Key()] = f
			if halls[h] == nil {
				if e, err := s.hallsKV.Get(ctx, h); err == nil {
					var st platform.HallState
					if json.Unmarshal(e.Value(), &st) == nil {
						halls[h] = &st
					}
				}
			}
			if st := halls[h]; st != nil {
				s.judgeTicket(ctx, u.Key(), f, st, told)
			}
		case u, ok := <-hw.Updates():
			if !ok {
				return errors.New("hall watcher closed")
			}
			if u == nil || u.Operation() != jetstream.KeyValuePut {
				continue
			}
			fs := follows[u.Key()]
			if len(fs) == 0 {
				delete(halls, u.Key())
				continue
			}
			var st platform.HallState
			if json.Unmarshal(u.Value(), &st) != nil {
				continue
			}
			halls[u.Key()] = &st
			for k, f := range fs {
				s.judgeTicket(ctx, k, f, &st, told)
			}
		}
	}
}

// judgeTicket decides a followed ticket's notifications from its hall's
// entry: its place in the queue, or, out of it, its own entry (called to
// which window, not there, over).
func (s *Service) judgeTicket(ctx context.Context, key string, f Follow, st *platform.HallState, told map[string]bool) {
	for _, l := range st.Waiting {
		for i, w := range l {
			if w.ID != f.Ticket {
				continue
			}
			if i <= s.cfg.Ahead && !told[key+"/ahead"] {
				if s.tellTicket(ctx, key, f, Ahead, f.Ticket, facts{Number: w.Number, Ahead: i, Ticket: f.Ticket}) == nil {
					told[key+"/ahead"] = true
				}
			}
			return
		}
	}
	t, err := s.ticketState(ctx, f.Ticket)
	if err != nil {
		return
	}
	fx := facts{Number: t.Number, Window: t.Window, Ticket: f.Ticket}
	switch hall.Status(t.Status) {
	case hall.Called, hall.Serving:
		if t.Window > 0 {
			ref := fmt.Sprintf("%s-w%d-%d", f.Ticket, t.Window, t.CalledAt.Unix())
			if !told[key+"/"+ref] && s.tellTicket(ctx, key, f, Called, ref, fx) == nil {
				told[key+"/"+ref] = true
			}
		}
	case hall.NoShow:
		if !told[key+"/missed"] && s.tellTicket(ctx, key, f, Missed, f.Ticket, fx) == nil {
			told[key+"/missed"] = true
		}
	case hall.Done, hall.Cancelled, hall.Expired:
		// Over: the follow goes, and with it what the citizen's phone kept for it.
		if err := s.subs.Delete(ctx, key); err == nil && f.Citizen != "" {
			s.keepOpen(ctx, f.Citizen, f.Ticket, false)
		}
	}
}

func (s *Service) ticketState(ctx context.Context, id string) (platform.TicketState, error) {
	var t platform.TicketState
	e, err := s.tickets.Get(ctx, id)
	if err != nil {
		return t, err
	}
	return t, json.Unmarshal(e.Value(), &t)
}

func (s *Service) tellTicket(ctx context.Context, key string, f Follow, k Kind, ref string, fx facts) error {
	var ts []target
	if f.Device != nil {
		if len(f.Kinds) > 0 && !containsKind(f.Kinds, k) {
			return nil
		}
		ts = []target{{Push, key, f.Device.ID, f.Device.Lang, ""}}
	} else {
		var err error
		if ts, err = s.citizenTargets(ctx, f.Citizen, k); err != nil {
			return err
		}
		for i := range ts {
			ts[i].subs = key // sent to the citizen's devices through the follow, dropped with it
		}
	}
	return s.decide(ctx, k, ref, fx, time.Time{}, ts, nil)
}

func containsKind(l []Kind, k Kind) bool {
	for _, x := range l {
		if x == k {
			return true
		}
	}
	return false
}

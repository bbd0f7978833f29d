package hall

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// UpdateConfig replaces the hall's configuration while it runs: services
// (names, quotas, limits, hours, mean service time), windows (names and
// service preferences) and rules. Today's tickets, counters and window
// states are kept. The change is one config.changed event carrying the whole
// new configuration, audited and forwarded like any other. Kiosks' leases of
// a removed service are released with it (lease.released, reason
// service_removed): their unused numbers lapse.
//
// It refuses, changing nothing: an invalid configuration (invalid, naming
// every bad key), a different hall id, removing a service that still has
// open tickets today, removing (or renumbering) a window that is open or
// paused, and leaving a ticket transferred to a window that would no longer
// serve it (conflict).
func (s *Service) UpdateConfig(ctx context.Context, op Op, cfg Config) (Config, error) {
	return s.UpdateConfigIf(ctx, op, cfg, "")
}

// UpdateConfigIf is UpdateConfig when the live configuration still has
// version (see Config.Version; "" = whatever it is now). Otherwise another
// change came first, and it refuses with conflict/config_changed instead of
// overwriting that change.
func (s *Service) UpdateConfigIf(ctx context.Context, op Op, cfg Config, version string) (Config, error) {
	cfg = cfg.Clone()
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, Refusal(Invalid, ReasonInvalidConfig, "%s", joinErrors(err))
	}
	v, err := s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		if version != "" && st.cfg.Version() != version {
			by := ""
			if st.cfgBy != "" {
				by = fmt.Sprintf(" by %s at %s", st.cfgBy, st.cfgAt.In(st.loc).Format("15:04"))
			}
			return Ref{}, Refusal(Conflict, ReasonConfigChanged, "the configuration was changed%s after you loaded it; reload it and make your change again", by)
		}
		if err := st.updateConfig(cfg, now, op.Actor); err != nil {
			return Ref{}, err
		}
		return ConfigRef(), nil
	})
	if err != nil {
		return Config{}, err
	}
	c, _ := v.(Config)
	return c, nil
}

// joinErrors writes an errors.Join list on one line.
func joinErrors(err error) string {
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) {
		return err.Error()
	}
	parts := make([]string, 0, len(j.Unwrap()))
	for _, e := range j.Unwrap() {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// updateConfig checks that cfg (already validated) can replace the current
// configuration given today's state, then releases the removed services'
// leases and emits config.changed.
func (st *state) updateConfig(cfg Config, now time.Time, actor string) error {
	if cfg.Hall.ID != st.cfg.Hall.ID {
		return Refusal(Conflict, ReasonHallIDFixed, "hall.id cannot change (it is %q, got %q)", st.cfg.Hall.ID, cfg.Hall.ID)
	}
	var blocks []string
	var revoke []*Lease // kiosks' leases of removed services: their unused numbers lapse
	for _, sc := range st.cfg.Services {
		if _, kept := cfg.service(sc.Code); kept {
			continue
		}
		var open []string
		for _, t := range st.tickets {
			if t.Service == sc.Code && t.Status.Open() {
				open = append(open, fmt.Sprintf("%s (%s)", t.Number, t.Status))
			}
		}
		if len(open) > 0 {
			slices.Sort(open)
			blocks = append(blocks, fmt.Sprintf("service %s cannot be removed: it has %d open ticket(s) today: %s", sc.Code, len(open), strings.Join(first(open, 5), ", ")))
		}
		for _, id := range sortedKeys(st.leases) {
			if l := st.leases[id]; l.Service == sc.Code && !l.Released {
				revoke = append(revoke, l)
			}
		}
	}
	for _, n := range sortedKeys(st.windows) {
		w := st.windows[n]
		if _, kept := cfg.window(n); !kept && w.Status != WindowClosed {
			blocks = append(blocks, fmt.Sprintf("window %d is %s: close it before removing it or changing its number", n, w.Status))
		}
	}
	var targeted []string
	for _, t := range st.tickets {
		if t.Status != Waiting || t.TargetWindow == 0 {
			continue
		}
		if wc, ok := cfg.window(t.TargetWindow); !ok || !slices.Contains(wc.Services, t.Service) {
			targeted = append(targeted, fmt.Sprintf("ticket %s waits for window %d, which would no longer serve service %s", t.Number, t.TargetWindow, t.Service))
		}
	}
	slices.Sort(targeted)
	blocks = append(blocks, targeted...)
	if len(blocks) > 0 {
		return Refusal(Conflict, ReasonConfigInUse, "%s", strings.Join(blocks, "; "))
	}
	for _, l := range revoke {
		nl := *l
		nl.Released = true
		st.emit(Event{Type: EvLeaseReleased, Actor: actor, Reason: "service_removed", Lease: &nl}, now)
	}
	c := cfg
	st.emit(Event{Type: EvConfigChanged, Actor: actor, Config: &c}, now)
	return nil
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

// applyConfig makes cfg the live configuration, rebuilding what derives
// from it: queues and stats priors for services, windows' names and
// service preferences. Tickets and window states stay.
func (st *state) applyConfig(cfg Config) {
	st.cfg, st.loc = cfg, cfg.Location()
	queues := make(map[string]*serviceQueue, len(cfg.Services))
	stats := make(map[string]*serviceStats, len(cfg.Services))
	for _, sc := range cfg.Services {
		q, s := st.queues[sc.Code], st.stats[sc.Code]
		if q == nil {
			q = &serviceQueue{}
		}
		if s == nil {
			s = &serviceStats{}
		}
		s.prior = sc.MeanService.D()
		queues[sc.Code], stats[sc.Code] = q, s
	}
	st.queues, st.stats = queues, stats
	windows := make(map[int]*Window, len(cfg.Windows))
	for _, wc := range cfg.Windows {
		w := &Window{Number: wc.Number, Status: WindowClosed}
		if old := st.windows[wc.Number]; old != nil {
			*w = *old
		}
		w.Name, w.Services = wc.Name, slices.Clone(wc.Services)
		windows[wc.Number] = w
	}
	st.windows = windows
}

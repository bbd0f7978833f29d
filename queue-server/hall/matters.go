package hall

import (
	"context"
	"fmt"
	"slices"
	"time"

	"hallq/internal/catalog"
)

// Matters (事项) at the hall. A service keeps its one-letter ticket prefix
// and serves one or more matters of the catalogue (internal/catalog), each
// with its 办事指南: the materials checklist, fees, time limit and notes.
// They come from the hall's own configuration (Config.Matters) when it
// names any, otherwise from the last catalogue the province published
// (central.catalog), which the hall keeps in its store (catalog.received)
// so that checklists show while the province is unreachable.

// EvCatalogReceived records a new version of the province's catalogue.
const EvCatalogReceived = "catalog.received"

// validateMatters checks the hall's own matters: a valid catalogue whose
// services are all services of the hall.
func (c *Config) validateMatters(bad func(key, format string, args ...any)) {
	if len(c.Matters) == 0 {
		return
	}
	if err := (catalog.Catalog{Version: 1, Matters: c.Matters}).Validate(); err != nil {
		bad("matters", "%v", err)
		return
	}
	for i, m := range c.Matters {
		for _, s := range m.Services {
			if _, ok := c.service(s); !ok {
				bad(fmt.Sprintf("matters[%d].services", i), "unknown service %q", s)
			}
		}
	}
}

// catalogue is the catalogue the hall works with: its own matters when the
// configuration names any, else the province's last version (version 0
// and no matters when none was ever received).
func (st *state) catalogue() catalog.Catalog {
	if len(st.cfg.Matters) > 0 {
		return catalog.Catalog{Matters: st.cfg.Matters}
	}
	if st.catalog != nil {
		return *st.catalog
	}
	return catalog.Catalog{}
}

// matter finds a matter the hall serves.
func (st *state) matter(code string) (catalog.Matter, error) {
	if code == "" {
		return catalog.Matter{}, Errorf(Invalid, "matter is required (a matter code of the catalogue)")
	}
	m, ok := st.catalogue().Matter(code)
	if !ok {
		return catalog.Matter{}, Refusal(NotFound, ReasonUnknownMatter, "this hall serves no matter %q", code)
	}
	var served []string
	for _, s := range m.Services {
		if _, ok := st.cfg.service(s); ok {
			served = append(served, s)
		}
	}
	if len(served) == 0 {
		return catalog.Matter{}, Refusal(NotFound, ReasonUnknownMatter, "matter %q is served by no service of this hall", code)
	}
	m.Services = served
	return m, nil
}

// HallMatters is the hall's catalogue as served to kiosks, pages and
// clerks: where it comes from and, per service, the matters it serves.
type HallMatters struct {
	Source     string                    `json:"source"`  // "config" (the hall's own), "province" (the last catalogue received) or "none"
	Version    uint64                    `json:"version"` // the province catalogue's version; 0 for the hall's own
	Matters    []catalog.Matter          `json:"matters"`
	ByService  map[string][]string       `json:"by_service"` // service code → matter codes, in catalogue order
	Indicators map[int][]IndicatorOption `json:"indicators"` // score → the rating options offered for it (evaluation.go)
}

// Matters returns the hall's matters.
func (s *Service) Matters(ctx context.Context) (HallMatters, error) {
	return as[HallMatters](s.read(ctx, func(st *state, _ time.Time) (any, error) {
		c := st.catalogue()
		hm := HallMatters{Source: "none", Matters: []catalog.Matter{}, ByService: map[string][]string{}, Indicators: indicatorTable()}
		switch {
		case len(st.cfg.Matters) > 0:
			hm.Source = "config"
		case st.catalog != nil:
			hm.Source, hm.Version = "province", st.catalog.Version
		}
		for _, sc := range st.cfg.Services {
			codes := []string{}
			for _, m := range c.ForService(sc.Code) {
				codes = append(codes, m.Code)
			}
			hm.ByService[sc.Code] = codes
		}
		for _, m := range c.Matters {
			if mm, err := st.matter(m.Code); err == nil {
				hm.Matters = append(hm.Matters, mm)
			}
		}
		return hm, nil
	}))
}

// ReceiveCatalog stores a version of the province's catalogue
// (catalog.received). A version not newer than the one held is no change:
// it returns the version held, without an event, so redelivery is harmless.
func (s *Service) ReceiveCatalog(ctx context.Context, op Op, c catalog.Catalog) (uint64, error) {
	if err := c.Validate(); err != nil {
		return 0, Refusal(Invalid, ReasonInvalidCatalog, "%v", err)
	}
	c.Matters = slices.Clone(c.Matters)
	v, err := s.write(ctx, op, func(st *state, now time.Time) (Ref, error) {
		if st.catalog != nil && st.catalog.Version >= c.Version {
			return Ref{}, nil
		}
		st.emit(Event{Type: EvCatalogReceived, Actor: op.Actor, Catalog: &c}, now)
		return Ref{}, nil
	})
	_ = v
	if err != nil {
		return 0, err
	}
	return as[uint64](s.read(ctx, func(st *state, _ time.Time) (any, error) {
		if st.catalog == nil {
			return uint64(0), nil
		}
		return st.catalog.Version, nil
	}))
}

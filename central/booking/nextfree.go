package booking

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/calendars"
)

// listFree is NextFreeAll for the public hall list at province scale,
// with each hall's set-up: it reads the seats taken once — the keys of
// BOOKING_SLOTS (only a slot with a booking has one) from yesterday on,
// and those entries — instead of every slot of every hall one by one
// (NextFree reads each slot of a day: ~100,000 reads for 1,000 halls).
func (s *Service) listFree(ctx context.Context, halls []string) (map[string][]FreeSlot, map[string]calendars.Hall, error) {
	taken := map[string]int{}
	lister, err := s.slots.ListKeys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil, err
	}
	now := s.cfg.Clock.Now()
	since := now.UTC().AddDate(0, 0, -1).Format("20060102") // every zone's today is on or after UTC's yesterday
	if lister != nil {
		var keys []string
		for k := range lister.Keys() {
			if p := strings.Split(k, "."); len(p) == 4 && p[2] >= since {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			v, _, err := get[slotRec](ctx, s.slots, k)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			taken[k] = len(v.IDs)
		}
	}
	free := map[string][]FreeSlot{}
	set := map[string]calendars.Hall{}
	for _, id := range halls {
		h, err := s.Halls.Get(ctx, id)
		if errors.Is(err, calendars.ErrUnknownHall) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		set[id] = h
		loc := h.Calendar.Location()
		last := s.lastDay(&h, now)
		var services []string
		for sv := range h.Capacity {
			services = append(services, sv)
		}
		slices.Sort(services)
		for _, sv := range services {
		days:
			for d := now.In(loc); d.Format(time.DateOnly) <= last; d = d.AddDate(0, 0, 1) {
				day, _ := time.ParseInLocation(time.DateOnly, d.Format(time.DateOnly), loc)
				for _, sl := range h.Slots(sv, day.Add(12*time.Hour)) {
					f := max(sl.Capacity-taken[slotKey(h.ID, sv, sl.Start, loc)], 0)
					if f > 0 && !now.After(sl.Start.Add(-s.pol.BookCutoff)) {
						free[id] = append(free[id], FreeSlot{Service: sv, Start: sl.Start, End: sl.End, Free: f})
						break days
					}
				}
			}
		}
		slices.SortFunc(free[id], func(a, b FreeSlot) int { return a.Start.Compare(b.Start) })
	}
	return free, set, nil
}

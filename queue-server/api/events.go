package api

// Events: the committed event log, read in pages (the websocket streams it
// live: ws.go).

import (
	"strconv"

	"hallq/queue-server/hall"
)

const maxEvents = 1000

func opEvents(c *call) (int, any, error) {
	var after uint64
	if s := c.params["after"]; s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, nil, hall.Errorf(hall.Invalid, "after must be a sequence number, got %q", s)
		}
		after = v
	}
	limit := maxEvents
	if s := c.params["limit"]; s != "" {
		v, err := c.intParam("limit")
		if err != nil || v == 0 {
			return 0, nil, hall.Errorf(hall.Invalid, "limit must be 1 to %d", maxEvents)
		}
		limit = min(v, maxEvents)
	}
	evs, err := c.a.store.Events(after, limit)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot read events: %w", err)
	}
	out := make([]hall.Event, 0, len(evs))
	l := levelOf(c.p.Role)
	for _, ev := range evs {
		if e, keep := redactEvent(ev, l); keep {
			out = append(out, e)
		}
	}
	last := after
	if len(evs) > 0 {
		last = evs[len(evs)-1].Seq
	}
	return ok(map[string]any{"events": out, "last_seq": last, "more": len(evs) == limit}, nil)
}

package api

// Windows: the list, a window's queue, calling the next citizen, and
// opening, pausing and closing a window.

import (
	"net/http"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

func opWindows(c *call) (int, any, error) { return ok(c.a.svc.Windows(c.ctx)) }

func opWindowQueue(c *call) (int, any, error) {
	w, err := c.intParam("window")
	if err != nil {
		return 0, nil, err
	}
	ts, err := c.a.svc.WindowQueue(c.ctx, w)
	return ok(redactViews(ts, levelStaff), err)
}

func opCall(c *call) (int, any, error) {
	w, err := c.intParam("window")
	if err != nil {
		return 0, nil, err
	}
	var r wire.CallRequest
	if err := c.decode(&r, true); err != nil {
		return 0, nil, err
	}
	t, found, err := c.a.svc.Call(c.ctx, c.op(), w, r.Ticket)
	if err != nil {
		return 0, nil, err
	}
	if !found {
		return http.StatusNoContent, nil, nil
	}
	return ok(redactView(t, levelStaff), nil)
}

func opWindowSet(c *call) (int, any, error) {
	w, err := c.intParam("window")
	if err != nil {
		return 0, nil, err
	}
	to := map[string]hall.WindowStatus{"open": hall.WindowOpen, "pause": hall.WindowPaused, "close": hall.WindowClosed}[c.params["state"]]
	if to == "" {
		return 0, nil, hall.Errorf(hall.NotFound, "unknown window action %q (open, pause or close)", c.params["state"])
	}
	var r wire.WindowRequest
	if err := c.decode(&r, true); err != nil {
		return 0, nil, err
	}
	return ok(c.a.svc.SetWindow(c.ctx, c.op(), w, to, c.windowClerk(r.Clerk), r.Reason))
}

func findWindow(cfg hall.Config, n int) (hall.WindowConfig, bool) {
	for _, w := range cfg.Windows {
		if w.Number == n {
			return w, true
		}
	}
	return hall.WindowConfig{}, false
}

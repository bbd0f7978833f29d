package api

// Windows: the list, a window's queue, calling the next citizen, and
// opening, pausing and closing a window.

import (
	"net/http"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// windowOps are the operations on windows (see ops.go).
var windowOps = []*operation{
	{name: "windows.list", route: "GET /api/v1/windows", roles: anyRole, run: opWindows},
	{name: "windows.queue", route: "GET /api/v1/windows/{window}/queue", roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, ownWindow: true, run: opWindowQueue},
	{name: "windows.call", route: "POST /api/v1/windows/{window}/call", roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, ownWindow: true, run: opCall},
	{name: "windows.set", route: "POST /api/v1/windows/{window}/{state}", roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window", "state"}, ownWindow: true, run: opWindowSet},
}

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

package api

import "hallq/queue-server/wire"

// opPostpone moves a ticket back in its queue, once (暂离, hall/postpone.go).
// Without a token it is the citizen's phone status page, authorised by the
// ticket's own link (its id is unguessable): only a waiting ticket, never a
// call in progress. A clerk postpones the citizen called to their window
// who is not ready (the window is freed); managers and admins any waiting
// or called ticket.
func opPostpone(c *call) (int, any, error) {
	if err := c.decode(&struct{}{}, true); err != nil {
		return 0, nil, err
	}
	o := c.op()
	atWindow, onlyWaiting := 0, false
	switch c.p.Role {
	case "":
		onlyWaiting = true
		o.Actor = "phone"
		if c.idem != "" {
			o.IdemKey = "phone:" + c.params["id"] + ":" + c.idem
		}
	case wire.RoleClerk:
		atWindow = c.p.Window
	}
	t, err := c.a.svc.Postpone(c.ctx, o, c.params["id"], onlyWaiting, atWindow)
	return ok(redactView(t, levelOf(c.p.Role)), err)
}

// postponeRoles may postpone a ticket (the operation tickets.postpone).
var postponeRoles = []string{public, wire.RoleAdmin, wire.RoleManager, wire.RoleClerk}

package api

import (
	"net/http"
	"strings"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Helper calls (帮办, hall/helper.go): a kiosk's button (the kiosk named by
// its token) or the phone status page's (no token: the ticket's own link
// names the ticket) call a floor helper; managers see the open calls on
// the dashboard and acknowledge them. Besides the domain's limits (one open
// call per kiosk or ticket, a cool-down, a cap on open calls), each client
// address may place maxHelpPerIP calls an hour from phones.

const maxHelpPerIP = 10

var (
	helpCallRoles = []string{public, wire.RoleKiosk}
	helpStaff     = staff
)

func opHelpCall(c *call) (int, any, error) {
	var r hall.HelpRequest
	if err := c.decode(&r, true); err != nil {
		return 0, nil, err
	}
	o := c.op()
	switch c.p.Role {
	case wire.RoleKiosk:
		if r.Ticket != "" {
			return 0, nil, hall.Errorf(hall.Invalid, "a kiosk calls a helper for itself: send no ticket")
		}
		r.Kiosk = c.p.Name
	default: // the phone page
		r.Ticket = strings.TrimSpace(r.Ticket)
		if r.Ticket == "" {
			return 0, nil, hall.Errorf(hall.Invalid, "ticket is required: the id of the ticket whose page asks for help")
		}
		if !c.a.help.allow(c.ip, c.a.now()) {
			return 0, nil, hall.Refusal(hall.QuotaExceeded, hall.ReasonTooManyRequests, "too many helper calls from this address; please ask at the information desk")
		}
		o.Actor = "phone"
		o.IdemKey = "" // the domain answers a repeat with the open call
	}
	h, err := c.a.svc.CallHelper(c.ctx, o, r)
	if err != nil {
		return 0, nil, err
	}
	if c.p.Role != wire.RoleKiosk {
		h.Kiosk = "" // the phone learns nothing about the hall's devices
	}
	return http.StatusCreated, h, nil
}

func opHelpList(c *call) (int, any, error) { return ok(c.a.svc.HelpCalls(c.ctx)) }

func opHelpAck(c *call) (int, any, error) {
	if err := c.decode(&struct{}{}, true); err != nil {
		return 0, nil, err
	}
	return ok(c.a.svc.AckHelp(c.ctx, c.op(), c.params["id"]))
}

package api

// Matters and the visit: the hall's matters with their checklists (办事指南),
// a ticket's one-time notice (一次性告知单), and the citizen's 好差评 of a
// visit's matter from the phone, the kiosk or the window's pad. The clerk's
// matter controls are ticket actions (add-matter, remove-matter, outcome:
// tickets.action).

import (
	"net/http"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// opMatters serves the hall's matters: public, like the services — what to
// bring is for everyone to read before coming.
func opMatters(c *call) (int, any, error) {
	return ok(c.a.svc.Matters(c.ctx))
}

// opNotice serves a ticket's one-time notice; not_found when none of its
// matters was incomplete. The ticket id is the capability, as for
// tickets.get.
func opNotice(c *call) (int, any, error) {
	t, err := c.a.svc.Ticket(c.ctx, c.params["id"])
	if err != nil {
		return 0, nil, err
	}
	n, found := hall.NoticeOf(&t.Ticket)
	if !found {
		return 0, nil, hall.Refusal(hall.NotFound, hall.ReasonNoNotice, "ticket %s has no one-time notice: no matter of it lacked materials", t.Number)
	}
	for i := range n.Matters {
		n.Matters[i].Clerk = ""
	}
	return ok(n, nil)
}

// ratingVia is the channel a role rates through: the window's pad signs in
// with the clerk's token, the kiosk with its own, a phone with none.
var ratingVia = map[string]hall.RatingChannel{
	public:           hall.ViaPhone,
	wire.RoleKiosk:   hall.ViaKiosk,
	wire.RoleClerk:   hall.ViaWindowPad,
	wire.RoleAdmin:   hall.ViaWindowPad,
	wire.RoleManager: hall.ViaWindowPad,
}

// Evaluation is the body of tickets.evaluate.
type Evaluation struct {
	Matter     string           `json:"matter,omitempty"`
	Score      int              `json:"score"`
	Indicators []hall.Indicator `json:"indicators,omitempty"`
	Reason     string           `json:"reason,omitempty"`
}

// opEvaluate rates one matter of a visit (or a visit without matters) from
// whichever channel the caller is; only the first rating counts. Holding
// the ticket's id (its QR code) is what lets a phone or a kiosk rate it; a
// clerk's pad rates only a ticket at its window.
func opEvaluate(c *call) (int, any, error) {
	var e Evaluation
	if err := c.decode(&e, false); err != nil {
		return 0, nil, err
	}
	role := c.p.Role
	if role == "" {
		role = public
	}
	a := hall.Action{Name: hall.ActRate, Ticket: c.params["id"], Matter: e.Matter, Score: e.Score, Indicators: e.Indicators, Reason: e.Reason, Via: ratingVia[role]}
	if role == wire.RoleClerk {
		a.AtWindow = c.p.Window
	}
	t, err := c.a.svc.Act(c.ctx, c.op(), a)
	return http.StatusOK, redactView(t, levelOf(c.p.Role)), err
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// call is one operation invocation, from REST or websocket.
type call struct {
	ctx    context.Context
	a      *API
	p      Principal
	ip     string // the client's address, for per-address limits
	params map[string]string
	body   []byte
	idem   string
	fp     string // the request's fingerprint, bound to its idempotency key
}

// operation is one entry of the API's table: its name (what a websocket
// request names, wire.Ops), its REST route, who may run it and how it
// runs. Both the REST routes and the websocket resolve an operation from
// table, so a route, its name, its roles and its handler are written once,
// side by side.
type operation struct {
	name       string
	route      string   // "METHOD /path/{param}" (docs/protocol.md)
	roles      []string // who may run it; "public" for anyone
	pathParams []string
	// actions: param action names a ticket action, whose roles
	// actionRoles narrows (authz.go)
	actions bool
	// ownWindow: a clerk may run it only on the window of param window
	ownWindow bool
	run       func(c *call) (int, any, error)
	// serve, when set, answers the REST route itself (a download, not a
	// JSON answer); run then answers the websocket
	serve func(a *API, op *operation, w http.ResponseWriter, r *http.Request)
	// deprecated names the operation this one is an old name of: same
	// roles, same handler, same answers (wire.DeprecatedOps)
	deprecated string
}

// table is every operation of the API, by resource; each handler is in
// its resource's file (named beside it). The role lists are the
// authorization policy (authz.go).
var table = []*operation{
	// the hall as a whole (ops.go)
	{name: "me", route: "GET /api/v1/me", roles: anyRole, run: opMe},
	{name: "services.list", route: "GET /api/v1/services", roles: append([]string{public}, anyRole...), run: opServices},
	{name: "overview", route: "GET /api/v1/overview", roles: anyRole, run: opOverview},
	// tickets, check-in, leases and hand-overs (tickets.go)
	{name: "tickets.issue", route: "POST /api/v1/tickets", roles: roles(staff, []string{wire.RoleKiosk}), run: opIssue},
	{name: "tickets.list", route: "GET /api/v1/tickets", roles: roles(staff, []string{wire.RoleClerk}), run: opTickets},
	{name: "tickets.get", route: "GET /api/v1/tickets/{id}", roles: append([]string{public}, anyRole...), pathParams: []string{"id"}, run: opTicket},
	{name: "tickets.action", route: "POST /api/v1/tickets/{id}/{action}", roles: roles(staff, []string{wire.RoleClerk, wire.RoleKiosk}), pathParams: []string{"id", "action"}, actions: true, run: opAction},
	{name: "tickets.postpone", route: "POST /api/v1/tickets/{id}/postpone", roles: postponeRoles, pathParams: []string{"id"}, run: opPostpone}, // postpone.go
	{name: "checkin", route: "POST /api/v1/checkin", roles: roles(staff, []string{wire.RoleKiosk}), run: opCheckIn},
	{name: "leases.grant", route: "POST /api/v1/leases", roles: []string{wire.RoleKiosk}, run: opLease},
	{name: "leases.release", route: "POST /api/v1/leases/{id}/release", roles: []string{wire.RoleKiosk}, pathParams: []string{"id"}, run: opLeaseRelease},
	{name: "handover", route: "POST /api/v1/handover", roles: []string{wire.RoleKiosk}, run: opHandOver},
	{name: "kiosk.sealkey", route: "GET /api/v1/kiosk/seal-key", roles: []string{wire.RoleKiosk}, run: opSealKey},
	// matters, the one-time notice and 好差评 (matters.go)
	{name: "matters.list", route: "GET /api/v1/matters", roles: append([]string{public}, anyRole...), run: opMatters},
	{name: "tickets.notice", route: "GET /api/v1/tickets/{id}/notice", roles: append([]string{public}, anyRole...), pathParams: []string{"id"}, run: opNotice},
	{name: "tickets.evaluate", route: "POST /api/v1/tickets/{id}/evaluation", roles: append([]string{public}, roles(staff, []string{wire.RoleClerk, wire.RoleKiosk})...), pathParams: []string{"id"}, run: opEvaluate},
	// remote tickets (线上取号) (remote.go)
	{name: "tickets.remote", route: "POST /api/v1/remote-tickets", roles: append([]string{public}, anyRole...), run: opRemoteTicket},
	// helper calls (帮办) (helper.go)
	{name: "help.call", route: "POST /api/v1/help", roles: helpCallRoles, run: opHelpCall},
	{name: "help.list", route: "GET /api/v1/help", roles: helpStaff, run: opHelpList},
	{name: "help.ack", route: "POST /api/v1/help/{id}/ack", roles: helpStaff, pathParams: []string{"id"}, run: opHelpAck},
	// the display board's notices and media (board.go)
	{name: "board.notices.post", route: "POST /api/v1/board/notices", roles: staff, run: opNoticePost},
	{name: "board.notices.delete", route: "DELETE /api/v1/board/notices/{id}", roles: staff, pathParams: []string{"id"}, run: opNoticeDelete},
	{name: "board.media.upload", route: "POST /api/v1/board/media", roles: staff, run: opMediaUpload, serve: serveMediaUpload},
	{name: "board.media.get", route: "GET /api/v1/board/media/{id}", roles: boardMediaRoles, pathParams: []string{"id"}, run: opMediaGet, serve: serveMediaGet},
	{name: "board.media.delete", route: "DELETE /api/v1/board/media/{id}", roles: staff, pathParams: []string{"id"}, run: opMediaDelete},
	// windows (windows.go)
	{name: "windows.list", route: "GET /api/v1/windows", roles: anyRole, run: opWindows},
	{name: "windows.queue", route: "GET /api/v1/windows/{window}/queue", roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, ownWindow: true, run: opWindowQueue},
	{name: "windows.call", route: "POST /api/v1/windows/{window}/call", roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, ownWindow: true, run: opCall},
	{name: "windows.set", route: "POST /api/v1/windows/{window}/{state}", roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window", "state"}, ownWindow: true, run: opWindowSet},
	// the event log (events.go)
	{name: "events.list", route: "GET /api/v1/events", roles: anyRole, run: opEvents},
	// bookings and the blacklist (bookings.go)
	{name: "bookings.list", route: "GET /api/v1/bookings", roles: staff, run: opBookings},
	{name: "bookings.upsert", route: "POST /api/v1/bookings", roles: staff, run: opBookingUpsert},
	// the v1 names of bookings.list and bookings.upsert, kept for
	// third-party clients (wire.DeprecatedOps)
	{name: "appointments.list", route: "GET /api/v1/appointments", roles: staff, run: opBookings, deprecated: "bookings.list"},
	{name: "appointments.upsert", route: "POST /api/v1/appointments", roles: staff, run: opBookingUpsert, deprecated: "bookings.upsert"},
	{name: "blacklist.set", route: "POST /api/v1/blacklist", roles: staff, run: opBlacklist},
	{name: "blacklist.list", route: "GET /api/v1/blacklist", roles: staff, run: opBlacklistList},
	{name: "blacklist.remove", route: "DELETE /api/v1/blacklist/{ref}", roles: staff, pathParams: []string{"ref"}, run: opBlacklistRemove},
	// tokens (tokens.go)
	{name: "tokens.list", route: "GET /api/v1/tokens", roles: staff, run: opTokens},
	{name: "tokens.create", route: "POST /api/v1/tokens", roles: staff, run: opTokenCreate},
	{name: "tokens.revoke", route: "DELETE /api/v1/tokens/{id}", roles: staff, pathParams: []string{"id"}, run: opTokenRevoke},
	// password accounts and sessions (users.go)
	{name: "users.list", route: "GET /api/v1/users", roles: staff, run: opUsers},
	{name: "users.create", route: "POST /api/v1/users", roles: staff, run: opUserCreate},
	{name: "users.delete", route: "DELETE /api/v1/users/{name}", roles: staff, pathParams: []string{"name"}, run: opUserDelete},
	{name: "login", route: "POST /api/v1/login", roles: append([]string{public}, anyRole...), run: opLogin},
	{name: "logout", route: "POST /api/v1/logout", roles: anyRole, run: opLogout},
	// reports and figures (reports.go)
	{name: "reports", route: "GET /api/v1/reports", roles: staff, run: opReports},
	{name: "figures", route: "GET /api/v1/figures", roles: staff, run: opFigures},
	// alerts (alerts.go)
	{name: "alerts", route: "GET /api/v1/alerts", roles: staff, run: opAlerts},
	// configuration, the day, backup and dead letters (config.go)
	{name: "config", route: "GET /api/v1/config", roles: staff, run: opConfig},
	{name: "config.update", route: "PUT /api/v1/config", roles: staff, run: opConfigUpdate},
	{name: "day.close", route: "POST /api/v1/day/close", roles: staff, run: opDayClose},
	{name: "day.preview", route: "GET /api/v1/day/close", roles: staff, run: opDayPreview},
	{name: "backup", route: "GET /api/v1/backup", roles: []string{wire.RoleAdmin}, run: opBackup, serve: serveBackup},
	{name: "deadletters.list", route: "GET /api/v1/dead-letters", roles: staff, run: opDeadLetters},
	{name: "deadletters.resend", route: "POST /api/v1/dead-letters/{first}/resend", roles: staff, pathParams: []string{"first"}, run: opDeadLetterResend},
	// device reports (devices.go)
	{name: "devices.report", route: "POST /api/v1/devices", roles: []string{wire.RoleKiosk}, run: opDeviceReport},
	{name: "devices.list", route: "GET /api/v1/devices", roles: staff, run: opDevices},
}

// ops finds an operation of table by name (websocket requests, tests).
var ops = func() map[string]*operation {
	m := make(map[string]*operation, len(table))
	for _, op := range table {
		if m[op.name] != nil {
			panic("api: two operations named " + op.name)
		}
		m[op.name] = op
	}
	return m
}()

const public = "public"

var (
	staff   = []string{wire.RoleAdmin, wire.RoleManager}
	anyRole = []string{wire.RoleAdmin, wire.RoleManager, wire.RoleClerk, wire.RoleKiosk, wire.RoleDisplay}
)

func roles(rs ...[]string) []string { return slices.Concat(rs...) }

// OpRoles returns the roles allowed to run each operation (for tests and docs).
func OpRoles() map[string][]string {
	out := map[string][]string{}
	for name, op := range ops {
		out[name] = slices.Clone(op.roles)
	}
	return out
}

func (a *API) run(op *operation, c *call) (status int, v any, err error) {
	defer func() { a.audit(op, c, err) }()
	if err := a.authorize(op, c); err != nil {
		return 0, nil, err
	}
	if err := checkIdemKey(c.idem); err != nil {
		return 0, nil, err
	}
	c.fp = c.a.fingerprint(op, c)
	status, v, err = op.run(c)
	if err != nil {
		return 0, nil, err
	}
	return status, emptyList(v), nil
}

// op returns the domain Op: the actor and the idempotency key scoped to
// the caller's token, so two kiosks can never collide on a key.
func (c *call) op() hall.Op {
	o := hall.Op{Actor: c.p.Name}
	if c.idem != "" {
		o.IdemKey, o.Fingerprint = c.p.TokenID+":"+c.idem, c.fp
	}
	return o
}

// decode reads a JSON body strictly: unknown fields, trailing data and
// wrong types are errors. An empty body leaves v alone when optional.
func (c *call) decode(v any, optional bool) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		if optional {
			return nil
		}
		return hall.Errorf(hall.Invalid, "this request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return hall.Errorf(hall.Invalid, "malformed JSON body: %v", err)
	}
	if dec.More() {
		return hall.Errorf(hall.Invalid, "malformed JSON body: more than one value")
	}
	return nil
}

func (c *call) intParam(name string) (int, error) {
	v, err := strconv.Atoi(c.params[name])
	if err != nil || v < 0 {
		return 0, hall.Errorf(hall.Invalid, "%s must be a non-negative number, got %q", name, c.params[name])
	}
	return v, nil
}

func ok(v any, err error) (int, any, error) { return http.StatusOK, v, err }

// ---- redaction: what each role may see ----

type level int

const (
	levelPublic level = iota // display boards, kiosks, phones: no personal data at all
	levelStaff               // clerks, managers, admins: the masked ID too
)

func levelOf(role string) level {
	switch role {
	case wire.RoleAdmin, wire.RoleManager, wire.RoleClerk:
		return levelStaff
	}
	return levelPublic
}

func redactTicket(t *hall.Ticket, l level) {
	t.CitizenKey = ""
	if l < levelStaff {
		t.MaskedID, t.Kiosk, t.Clerk, t.AgeClass, t.Booking = "", "", "", "", ""
		if t.Rating != nil {
			t.Rating = &hall.Rating{Score: t.Rating.Score, At: t.Rating.At}
		}
		redactMatters(t)
	}
}

// redactMatters keeps of a visit's matters what its holder reads on the
// phone (names, outcomes, case numbers, the missing materials): not the
// clerk, not what was said in a rating.
func redactMatters(t *hall.Ticket) {
	if len(t.Matters) == 0 {
		return
	}
	ms := slices.Clone(t.Matters)
	for i := range ms {
		ms[i].Clerk = ""
		if r := ms[i].Rating; r != nil {
			ms[i].Rating = &hall.Rating{Score: r.Score, Channel: r.Channel, At: r.At}
		}
	}
	t.Matters = ms
}

func redactView(v hall.TicketView, l level) hall.TicketView {
	redactTicket(&v.Ticket, l)
	return v
}

func redactViews(vs []hall.TicketView, l level) []hall.TicketView {
	if vs == nil {
		return []hall.TicketView{} // an empty list is [], never null
	}
	for i := range vs {
		redactTicket(&vs[i].Ticket, l)
	}
	return vs
}

// redactEvent returns the event as role level l may see it, or false when
// the event is not for that level at all.
func redactEvent(ev hall.Event, l level) (hall.Event, bool) {
	ev.Idem = nil
	if ev.Ticket != nil {
		t := *ev.Ticket
		redactTicket(&t, l)
		if l < levelStaff { // boards and kiosks: which matters and how they ended, no details
			for i := range t.Matters {
				t.Matters[i].CaseNumber, t.Matters[i].Missing, t.Matters[i].Reason = "", nil, ""
			}
		}
		ev.Ticket = &t
	}
	if ev.Booking != nil || ev.Blacklist != nil {
		if l < levelStaff {
			return ev, false
		}
		if ev.Booking != nil {
			b := *ev.Booking
			b.CitizenKey = ""
			ev.Booking = &b
		}
		ev.Blacklist = nil
	}
	if (ev.Lease != nil || ev.Help != nil) && l < levelStaff {
		return ev, false
	}
	return ev, true
}

func opMe(c *call) (int, any, error) {
	return ok(map[string]any{"name": c.p.Name, "role": c.p.Role, "window": c.p.Window, "hall": c.a.svc.Config().Hall}, nil)
}

func opServices(c *call) (int, any, error) { return ok(c.a.svc.Services(c.ctx)) }

func opOverview(c *call) (int, any, error) {
	o, err := c.a.svc.Overview(c.ctx)
	o.Calls = redactViews(o.Calls, levelOf(c.p.Role))
	return ok(o, err)
}

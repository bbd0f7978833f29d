package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"hallq/devices/idcard"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
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
}

type operation struct {
	roles      []string // who may run it; "public" for anyone
	pathParams []string
	run        func(c *call) (int, any, error)
}

const public = "public"

var (
	staff   = []string{wire.RoleAdmin, wire.RoleManager}
	anyRole = []string{wire.RoleAdmin, wire.RoleManager, wire.RoleClerk, wire.RoleKiosk, wire.RoleDisplay}
)

func roles(rs ...[]string) []string { return slices.Concat(rs...) }

// ops is every operation of the API. REST routes and websocket requests
// both resolve here; the role lists are the authorization policy.
var ops = map[string]*operation{
	"me":                  {roles: anyRole, run: opMe},
	"services.list":       {roles: append([]string{public}, anyRole...), run: opServices},
	"overview":            {roles: anyRole, run: opOverview},
	"tickets.issue":       {roles: roles(staff, []string{wire.RoleKiosk}), run: opIssue},
	"tickets.get":         {roles: append([]string{public}, anyRole...), pathParams: []string{"id"}, run: opTicket},
	"tickets.remote":      {roles: append([]string{public}, anyRole...), run: opRemoteTicket},
	"tickets.list":        {roles: roles(staff, []string{wire.RoleClerk}), run: opTickets},
	"tickets.action":      {roles: roles(staff, []string{wire.RoleClerk, wire.RoleKiosk}), pathParams: []string{"id", "action"}, run: opAction},
	"windows.list":        {roles: anyRole, run: opWindows},
	"windows.queue":       {roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, run: opWindowQueue},
	"windows.call":        {roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, run: opCall},
	"windows.set":         {roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window", "state"}, run: opWindowSet},
	"events.list":         {roles: anyRole, run: opEvents},
	"checkin":             {roles: roles(staff, []string{wire.RoleKiosk}), run: opCheckIn},
	"leases.grant":        {roles: []string{wire.RoleKiosk}, run: opLease},
	"leases.release":      {roles: []string{wire.RoleKiosk}, pathParams: []string{"id"}, run: opLeaseRelease},
	"handover":            {roles: []string{wire.RoleKiosk}, run: opHandOver},
	"kiosk.secret":        {roles: []string{wire.RoleKiosk}, run: opKioskSecret},
	"appointments.list":   {roles: staff, run: opBookings},
	"appointments.upsert": {roles: staff, run: opBookingUpsert},
	"blacklist.set":       {roles: staff, run: opBlacklist},
	"tokens.list":         {roles: staff, run: opTokens},
	"tokens.create":       {roles: staff, run: opTokenCreate},
	"tokens.revoke":       {roles: staff, pathParams: []string{"id"}, run: opTokenRevoke},
	"day.close":           {roles: staff, run: opDayClose},
	"devices.report":      {roles: []string{wire.RoleKiosk}, run: opDeviceReport},
	"devices.list":        {roles: staff, run: opDevices},
	"reports":             {roles: staff, run: opReports},
	"config":              {roles: staff, run: opConfig},
	"config.update":       {roles: staff, run: opConfigUpdate},
	"users.list":          {roles: staff, run: opUsers},
	"users.create":        {roles: staff, run: opUserCreate},
	"deadletters.list":    {roles: staff, run: opDeadLetters},
	"deadletters.resend":  {roles: staff, pathParams: []string{"first"}, run: opDeadLetterResend},
	"login":               {roles: append([]string{public}, anyRole...), run: opLogin},
	"logout":              {roles: anyRole, run: opLogout},
}

// restRoutes maps HTTP patterns to operations (see docs/protocol.md).
var restRoutes = []struct{ pattern, op string }{
	{"GET /api/v1/me", "me"},
	{"GET /api/v1/services", "services.list"},
	{"GET /api/v1/overview", "overview"},
	{"POST /api/v1/tickets", "tickets.issue"},
	{"GET /api/v1/tickets", "tickets.list"},
	{"GET /api/v1/tickets/{id}", "tickets.get"},
	{"POST /api/v1/remote-tickets", "tickets.remote"},
	{"POST /api/v1/tickets/{id}/{action}", "tickets.action"},
	{"GET /api/v1/windows", "windows.list"},
	{"GET /api/v1/windows/{window}/queue", "windows.queue"},
	{"POST /api/v1/windows/{window}/call", "windows.call"},
	{"POST /api/v1/windows/{window}/{state}", "windows.set"},
	{"GET /api/v1/events", "events.list"},
	{"POST /api/v1/checkin", "checkin"},
	{"POST /api/v1/leases", "leases.grant"},
	{"POST /api/v1/leases/{id}/release", "leases.release"},
	{"POST /api/v1/handover", "handover"},
	{"GET /api/v1/kiosk/secret", "kiosk.secret"},
	{"GET /api/v1/appointments", "appointments.list"},
	{"POST /api/v1/appointments", "appointments.upsert"},
	{"POST /api/v1/blacklist", "blacklist.set"},
	{"GET /api/v1/tokens", "tokens.list"},
	{"POST /api/v1/tokens", "tokens.create"},
	{"DELETE /api/v1/tokens/{id}", "tokens.revoke"},
	{"POST /api/v1/day/close", "day.close"},
	{"POST /api/v1/devices", "devices.report"},
	{"GET /api/v1/devices", "devices.list"},
	{"GET /api/v1/reports", "reports"},
	{"GET /api/v1/config", "config"},
	{"PUT /api/v1/config", "config.update"},
	{"GET /api/v1/users", "users.list"},
	{"POST /api/v1/users", "users.create"},
	{"GET /api/v1/dead-letters", "deadletters.list"},
	{"POST /api/v1/dead-letters/{first}/resend", "deadletters.resend"},
	{"POST /api/v1/login", "login"},
	{"POST /api/v1/logout", "logout"},
}

// OpRoles returns the roles allowed to run each operation (for tests and docs).
func OpRoles() map[string][]string {
	out := map[string][]string{}
	for name, op := range ops {
		out[name] = slices.Clone(op.roles)
	}
	return out
}

func (a *API) run(op *operation, c *call) (int, any, error) {
	role := c.p.Role
	if role == "" {
		role = public
	}
	if !slices.Contains(op.roles, role) {
		return 0, nil, forbidden(c.p)
	}
	if len(c.idem) > 128 {
		return 0, nil, hall.Errorf(hall.Invalid, "Idempotency-Key is longer than 128 characters")
	}
	status, v, err := op.run(c)
	if err != nil {
		return 0, nil, err
	}
	return status, v, nil
}

// op returns the domain Op: the actor and the idempotency key scoped to
// the caller's token, so two kiosks can never collide on a key.
func (c *call) op() hall.Op {
	o := hall.Op{Actor: c.p.Name}
	if c.idem != "" {
		o.IdemKey = c.p.TokenID + ":" + c.idem
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

// clerkWindow checks that a clerk acts on their own window.
func (c *call) clerkWindow(w int) error {
	if c.p.Role == wire.RoleClerk && c.p.Window != w {
		return hall.Refusal(hall.Forbidden, "not_your_window", "your token is for window %d, not %d", c.p.Window, w)
	}
	return nil
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
		t.MaskedID, t.Kiosk, t.Clerk, t.AgeClass, t.Appointment = "", "", "", "", ""
		if t.Rating != nil {
			t.Rating = &hall.Rating{Score: t.Rating.Score, At: t.Rating.At}
		}
	}
}

func redactView(v hall.TicketView, l level) hall.TicketView {
	redactTicket(&v.Ticket, l)
	return v
}

func redactViews(vs []hall.TicketView, l level) []hall.TicketView {
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
		ev.Ticket = &t
	}
	if ev.Appointment != nil || ev.Blacklist != nil {
		if l < levelStaff {
			return ev, false
		}
		if ev.Appointment != nil {
			b := *ev.Appointment
			b.CitizenKey = ""
			ev.Appointment = &b
		}
		ev.Blacklist = nil
	}
	if ev.Lease != nil && l < levelStaff {
		return ev, false
	}
	return ev, true
}

// ---- operations ----

func opMe(c *call) (int, any, error) {
	return ok(map[string]any{"name": c.p.Name, "role": c.p.Role, "window": c.p.Window, "hall": c.a.svc.Config().Hall}, nil)
}

func opServices(c *call) (int, any, error) { return ok(c.a.svc.Services(c.ctx)) }

func opOverview(c *call) (int, any, error) {
	o, err := c.a.svc.Overview(c.ctx)
	o.Calls = redactViews(o.Calls, levelOf(c.p.Role))
	return ok(o, err)
}

func opConfig(c *call) (int, any, error) { return ok(c.a.svc.Config(), nil) }

// opConfigUpdate replaces the whole hall configuration (the JSON of
// docs/config.md); unknown keys are refused like in a file.
func opConfigUpdate(c *call) (int, any, error) {
	var cfg hall.Config
	if err := c.decode(&cfg, false); err != nil {
		return 0, nil, err
	}
	cfg, err := c.a.svc.UpdateConfig(c.ctx, c.op(), cfg)
	if err == nil {
		c.a.log.Info("hall configuration changed", "by", c.p.Name)
	}
	return ok(cfg, err)
}

func opIssue(c *call) (int, any, error) {
	var r hall.IssueRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	if r.CitizenKey != "" && !isKey(r.CitizenKey) {
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits (the HMAC, never the ID number)")
	}
	if c.p.Role == wire.RoleKiosk {
		r.Kiosk = c.p.Name
	}
	t, err := c.a.svc.Issue(c.ctx, c.op(), r)
	return http.StatusCreated, redactView(t, levelStaff), err
}

// opRemoteTicket takes a ticket from a citizen's phone (线上取号). The typed
// ID number becomes the citizen key and masked form here and goes no
// further. The key and service make the idempotency key, so a double tap
// (or a reload) returns the same ticket while it is open; each client
// address may make maxRemotePerIP requests with a valid number an hour.
func opRemoteTicket(c *call) (int, any, error) {
	var r wire.RemoteTicketRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	service := strings.ToUpper(strings.TrimSpace(r.Service)) // as the hall reads codes
	if service == "" {
		return 0, nil, hall.Errorf(hall.Invalid, "service is required")
	}
	num, valid := residentID(r.IDNumber)
	r.IDNumber = ""
	if !valid {
		return 0, nil, hall.Refusal(hall.Invalid, "invalid_id_number", "that is not a valid 18-character resident ID number")
	}
	if !c.a.hub.allowRemote(c.ip) {
		return 0, nil, hall.Refusal(hall.QuotaExceeded, "too_many_requests", "too many remote tickets from this address; try again later")
	}
	key := num.Key(c.a.secret)
	actor := c.p.Name
	if actor == "" {
		actor = "remote"
	}
	o := hall.Op{Actor: actor, IdemKey: "remote:" + service + ":" + key, IdemWhileOpen: true}
	t, err := c.a.svc.Issue(c.ctx, o, hall.IssueRequest{Service: service, Channel: hall.Remote, CitizenKey: key, MaskedID: num.Masked()})
	return http.StatusCreated, redactView(t, levelPublic), err
}

// residentID accepts only an 18-character resident ID number: 17 digits
// and a GB 11643 check character that matches.
func residentID(s string) (idcard.IDNumber, bool) {
	n := strings.ToUpper(strings.TrimSpace(s))
	if len(n) != 18 {
		return idcard.IDNumber{}, false
	}
	want, err := idcard.CheckDigit(n[:17]) // also refuses non-digits
	if err != nil || n[17] != want {
		return idcard.IDNumber{}, false
	}
	num, err := idcard.ParseIDNumber(n)
	return num, err == nil
}

func isKey(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func opTicket(c *call) (int, any, error) {
	t, err := c.a.svc.Ticket(c.ctx, c.params["id"])
	return ok(redactView(t, levelOf(c.p.Role)), err)
}

func opTickets(c *call) (int, any, error) {
	status, service := hall.Status(c.params["status"]), c.params["service"]
	window := 0
	if c.params["window"] != "" {
		var err error
		if window, err = c.intParam("window"); err != nil {
			return 0, nil, err
		}
	}
	ts, err := c.a.svc.Tickets(c.ctx, func(t *hall.Ticket) bool {
		return (status == "" || t.Status == status) && (service == "" || t.Service == service) && (window == 0 || t.Window == window)
	})
	return ok(redactViews(ts, levelStaff), err)
}

func opAction(c *call) (int, any, error) {
	a := hall.Action{Name: c.params["action"], Ticket: c.params["id"]}
	if !slices.Contains(hall.Actions, a.Name) {
		return 0, nil, hall.Errorf(hall.NotFound, "unknown ticket action %q (one of %s)", a.Name, strings.Join(hall.Actions, ", "))
	}
	if err := c.decode(&a, true); err != nil {
		return 0, nil, err
	}
	switch c.p.Role {
	case wire.RoleClerk:
		if a.Name == hall.ActPrintFailed {
			return 0, nil, hall.Refusal(hall.Forbidden, "action_not_allowed", "clerks do not report print failures")
		}
		a.AtWindow = c.p.Window
	case wire.RoleKiosk:
		if a.Name != hall.ActPrintFailed && a.Name != hall.ActCancel {
			return 0, nil, hall.Refusal(hall.Forbidden, "action_not_allowed", "kiosks may only cancel or report print failures")
		}
		a.ByKiosk = c.p.Name
	}
	t, err := c.a.svc.Act(c.ctx, c.op(), a)
	return ok(redactView(t, levelOf(c.p.Role)), err)
}

func opWindows(c *call) (int, any, error) { return ok(c.a.svc.Windows(c.ctx)) }

func opWindowQueue(c *call) (int, any, error) {
	w, err := c.intParam("window")
	if err != nil {
		return 0, nil, err
	}
	if err := c.clerkWindow(w); err != nil {
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
	if err := c.clerkWindow(w); err != nil {
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
	if err := c.clerkWindow(w); err != nil {
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
	clerk := r.Clerk
	if c.p.Role == wire.RoleClerk || clerk == "" {
		clerk = c.p.Name
	}
	return ok(c.a.svc.SetWindow(c.ctx, c.op(), w, to, clerk, r.Reason))
}

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
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot read events: %v", err)
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

func opCheckIn(c *call) (int, any, error) {
	var r hall.CheckIn
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	if r.CitizenKey != "" && !isKey(r.CitizenKey) {
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits")
	}
	if c.p.Role == wire.RoleKiosk {
		r.Kiosk = c.p.Name
	}
	t, err := c.a.svc.CheckIn(c.ctx, c.op(), r)
	return http.StatusCreated, redactView(t, levelStaff), err
}

func opLease(c *call) (int, any, error) {
	var r wire.LeaseRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	l, err := c.a.svc.Lease(c.ctx, c.op(), c.p.Name, r.Service, r.Count)
	return http.StatusCreated, l, err
}

func opLeaseRelease(c *call) (int, any, error) {
	return ok(c.a.svc.ReleaseLease(c.ctx, c.op(), c.p.Name, c.params["id"]))
}

func opHandOver(c *call) (int, any, error) {
	var o hall.OfflineTicket
	if err := c.decode(&o, false); err != nil {
		return 0, nil, err
	}
	if o.CitizenKey != "" && !isKey(o.CitizenKey) {
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits")
	}
	if c.idem == "" {
		c.idem = fmt.Sprintf("handover:%s:%d", o.Lease, o.Number)
	}
	t, err := c.a.svc.HandOver(c.ctx, c.op(), c.p.Name, o)
	return http.StatusCreated, redactView(t, levelStaff), err
}

func opKioskSecret(c *call) (int, any, error) {
	return ok(map[string]string{"secret": hex.EncodeToString(c.a.secret)}, nil)
}

func opBookings(c *call) (int, any, error) {
	bs, err := c.a.svc.Bookings(c.ctx)
	for i := range bs {
		bs[i].CitizenKey = ""
	}
	return ok(bs, err)
}

func opBookingUpsert(c *call) (int, any, error) {
	var b hall.Booking
	if err := c.decode(&b, false); err != nil {
		return 0, nil, err
	}
	if !isKey(b.CitizenKey) {
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits")
	}
	nb, err := c.a.svc.UpsertBooking(c.ctx, c.op(), b)
	nb.CitizenKey = ""
	return ok(nb, err)
}

func opBlacklist(c *call) (int, any, error) {
	var r wire.BlacklistRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	key := r.CitizenKey
	switch {
	case r.IDNumber != "" && key != "":
		return 0, nil, hall.Errorf(hall.Invalid, "give either id_number or citizen_key, not both")
	case r.IDNumber != "":
		num, ok := residentID(r.IDNumber)
		if !ok {
			return 0, nil, hall.Errorf(hall.Invalid, "that is not a valid 18-character resident ID number")
		}
		key = num.Key(c.a.secret)
	case !isKey(key):
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits")
	}
	err := c.a.svc.SetBlacklist(c.ctx, c.op(), hall.BlackEntry{CitizenKey: key, Note: r.Note, Until: r.Until, Removed: r.Remove})
	return ok(map[string]any{"citizen_key": key, "removed": r.Remove}, err)
}

func opTokens(c *call) (int, any, error) {
	ts, err := c.a.store.Tokens()
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot list tokens: %v", err)
	}
	return ok(ts, nil)
}

func opTokenCreate(c *call) (int, any, error) {
	var r wire.TokenRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	if r.Name == "" || len(r.Name) > 64 {
		return 0, nil, hall.Errorf(hall.Invalid, "name must be 1 to 64 characters")
	}
	if !slices.Contains(wire.Roles, r.Role) {
		return 0, nil, hall.Errorf(hall.Invalid, "role must be one of %s", strings.Join(wire.Roles, ", "))
	}
	if c.p.Role == wire.RoleManager && (r.Role == wire.RoleAdmin || r.Role == wire.RoleManager) {
		return 0, nil, hall.Errorf(hall.Forbidden, "managers create clerk, kiosk and display tokens only")
	}
	if r.Role == wire.RoleClerk {
		if _, ok := findWindow(c.a.svc.Config(), r.Window); !ok {
			return 0, nil, hall.Errorf(hall.Invalid, "a clerk token needs an existing window, got %d", r.Window)
		}
	} else if r.Window != 0 {
		return 0, nil, hall.Errorf(hall.Invalid, "only clerk tokens are bound to a window")
	}
	var ttl time.Duration
	if r.TTL != "" {
		d, err := time.ParseDuration(r.TTL)
		if err != nil || d <= 0 {
			return 0, nil, hall.Errorf(hall.Invalid, "ttl must be a positive duration like \"720h\"")
		}
		ttl = d
	}
	t, err := NewToken(c.a.store, r.Name, r.Role, r.Window, ttl)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot store the token: %v", err)
	}
	c.a.log.Info("token created", "id", t.ID, "name", t.Name, "role", t.Role, "by", c.p.Name)
	return http.StatusCreated, t, nil
}

func findWindow(cfg hall.Config, n int) (hall.WindowConfig, bool) {
	for _, w := range cfg.Windows {
		if w.Number == n {
			return w, true
		}
	}
	return hall.WindowConfig{}, false
}

func opTokenRevoke(c *call) (int, any, error) {
	err := c.a.store.RevokeToken(c.params["id"])
	if errors.Is(err, store.ErrNoToken) {
		return 0, nil, hall.Errorf(hall.NotFound, "no token with id %q", c.params["id"])
	}
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot revoke: %v", err)
	}
	c.a.hub.dropToken(c.params["id"])
	c.a.log.Info("token revoked", "id", c.params["id"], "by", c.p.Name)
	return ok(map[string]string{"revoked": c.params["id"]}, nil)
}

func opDayClose(c *call) (int, any, error) {
	return ok(map[string]bool{"closed": true}, c.a.svc.CloseDay(c.ctx, c.op()))
}

func opDeviceReport(c *call) (int, any, error) {
	var d wire.DeviceHealth
	if err := c.decode(&d, false); err != nil {
		return 0, nil, err
	}
	d.Kiosk, d.ReportedAt = c.p.Name, time.Now()
	c.a.hub.reportDevice(d)
	return ok(d, nil)
}

func opDevices(c *call) (int, any, error) { return ok(c.a.hub.devices(), nil) }

// deadLetter is a dead letter as listed: the batch's range, when and why
// the central refused it (the body stays in the store).
type deadLetter struct {
	First  uint64    `json:"first"`
	Last   uint64    `json:"last"`
	Events uint64    `json:"events"`
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"`
	Reason string    `json:"reason"`
}

func opDeadLetters(c *call) (int, any, error) {
	dls, err := c.a.store.DeadLetters(1000)
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "read dead letters: %v", err)
	}
	out := make([]deadLetter, 0, len(dls))
	for _, d := range dls {
		out = append(out, deadLetter{First: d.First, Last: d.Last, Events: d.Last - d.First + 1, At: d.At, Status: d.Status, Reason: d.Reason})
	}
	return ok(out, nil)
}

func opDeadLetterResend(c *call) (int, any, error) {
	first, err := strconv.ParseUint(c.params["first"], 10, 64)
	if err != nil || first == 0 {
		return 0, nil, hall.Errorf(hall.Invalid, "the dead letter is named by its first seq, a positive number, not %q", c.params["first"])
	}
	if c.a.resend == nil {
		return 0, nil, hall.Refusal(hall.Conflict, "not_forwarding", "this hall does not forward to a central platform")
	}
	if err := c.a.resend(c.ctx, first); err != nil {
		return 0, nil, err
	}
	c.a.log.Info("dead letter re-sent", "first", first, "by", c.p.Name)
	return ok(map[string]uint64{"resent": first}, nil)
}

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

	"hallq/internal/idnumber"
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
	fp     string // the request's fingerprint, bound to its idempotency key
}

type operation struct {
	name       string   // its key in ops (set by init in api.go)
	roles      []string // who may run it; "public" for anyone
	pathParams []string
	// actions: param action names a ticket action, whose roles
	// actionRoles narrows (authz.go)
	actions bool
	// ownWindow: a clerk may run it only on the window of param window
	ownWindow bool
	run       func(c *call) (int, any, error)
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
	"tickets.action":      {roles: roles(staff, []string{wire.RoleClerk, wire.RoleKiosk}), pathParams: []string{"id", "action"}, actions: true, run: opAction},
	"windows.list":        {roles: anyRole, run: opWindows},
	"windows.queue":       {roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, ownWindow: true, run: opWindowQueue},
	"windows.call":        {roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window"}, ownWindow: true, run: opCall},
	"windows.set":         {roles: roles(staff, []string{wire.RoleClerk}), pathParams: []string{"window", "state"}, ownWindow: true, run: opWindowSet},
	"events.list":         {roles: anyRole, run: opEvents},
	"checkin":             {roles: roles(staff, []string{wire.RoleKiosk}), run: opCheckIn},
	"leases.grant":        {roles: []string{wire.RoleKiosk}, run: opLease},
	"leases.release":      {roles: []string{wire.RoleKiosk}, pathParams: []string{"id"}, run: opLeaseRelease},
	"handover":            {roles: []string{wire.RoleKiosk}, run: opHandOver},
	"kiosk.sealkey":       {roles: []string{wire.RoleKiosk}, run: opSealKey},
	"appointments.list":   {roles: staff, run: opBookings},
	"appointments.upsert": {roles: staff, run: opBookingUpsert},
	"blacklist.set":       {roles: staff, run: opBlacklist},
	"blacklist.list":      {roles: staff, run: opBlacklistList},
	"blacklist.remove":    {roles: staff, pathParams: []string{"ref"}, run: opBlacklistRemove},
	"tokens.list":         {roles: staff, run: opTokens},
	"tokens.create":       {roles: staff, run: opTokenCreate},
	"tokens.revoke":       {roles: staff, pathParams: []string{"id"}, run: opTokenRevoke},
	"day.close":           {roles: staff, run: opDayClose},
	"day.preview":         {roles: staff, run: opDayPreview},
	"devices.report":      {roles: []string{wire.RoleKiosk}, run: opDeviceReport},
	"devices.list":        {roles: staff, run: opDevices},
	"reports":             {roles: staff, run: opReports},
	"figures":             {roles: staff, run: opFigures},
	"alerts":              {roles: staff, run: opAlerts},
	"config":              {roles: staff, run: opConfig},
	"config.update":       {roles: staff, run: opConfigUpdate},
	"users.list":          {roles: staff, run: opUsers},
	"users.create":        {roles: staff, run: opUserCreate},
	"users.delete":        {roles: staff, pathParams: []string{"name"}, run: opUserDelete},
	"deadletters.list":    {roles: staff, run: opDeadLetters},
	"deadletters.resend":  {roles: staff, pathParams: []string{"first"}, run: opDeadLetterResend},
	"login":               {roles: append([]string{public}, anyRole...), run: opLogin},
	"backup":              {roles: []string{wire.RoleAdmin}, run: opBackup},
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
	{"GET /api/v1/kiosk/seal-key", "kiosk.sealkey"},
	{"GET /api/v1/appointments", "appointments.list"},
	{"POST /api/v1/appointments", "appointments.upsert"},
	{"POST /api/v1/blacklist", "blacklist.set"},
	{"GET /api/v1/blacklist", "blacklist.list"},
	{"DELETE /api/v1/blacklist/{ref}", "blacklist.remove"},
	{"GET /api/v1/tokens", "tokens.list"},
	{"POST /api/v1/tokens", "tokens.create"},
	{"DELETE /api/v1/tokens/{id}", "tokens.revoke"},
	{"POST /api/v1/day/close", "day.close"},
	{"GET /api/v1/day/close", "day.preview"},
	{"POST /api/v1/devices", "devices.report"},
	{"GET /api/v1/devices", "devices.list"},
	{"GET /api/v1/reports", "reports"},
	{"GET /api/v1/figures", "figures"},
	{"GET /api/v1/alerts", "alerts"},
	{"GET /api/v1/config", "config"},
	{"PUT /api/v1/config", "config.update"},
	{"GET /api/v1/users", "users.list"},
	{"POST /api/v1/users", "users.create"},
	{"DELETE /api/v1/users/{name}", "users.delete"},
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
	if err := a.authorize(op, c); err != nil {
		return 0, nil, err
	}
	if err := checkIdemKey(c.idem); err != nil {
		return 0, nil, err
	}
	c.fp = c.a.fingerprint(op, c)
	status, v, err := op.run(c)
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

// tagged is a result served with an ETag (REST) that encodes as its value.
type tagged struct {
	v    any
	etag string
}

func (t tagged) MarshalJSON() ([]byte, error) { return json.Marshal(t.v) }

// opConfig returns the configuration; REST adds its version as the ETag.
func opConfig(c *call) (int, any, error) {
	cfg := c.a.svc.Config()
	return ok(tagged{v: cfg, etag: cfg.Version()}, nil)
}

// opConfigUpdate replaces the whole hall configuration (the JSON of
// docs/config.md); unknown keys are refused like in a file. With if_match
// (REST: the If-Match header) it replaces only that version.
func opConfigUpdate(c *call) (int, any, error) {
	var cfg hall.Config
	if err := c.decode(&cfg, false); err != nil {
		return 0, nil, err
	}
	cfg, err := c.a.svc.UpdateConfigIf(c.ctx, c.op(), cfg, strings.Trim(c.params["if_match"], `"`))
	if err != nil {
		return 0, nil, err
	}
	c.a.log.Info("hall configuration changed", "by", c.p.Name)
	return ok(tagged{v: cfg, etag: cfg.Version()}, nil)
}

func opIssue(c *call) (int, any, error) {
	var r hall.IssueRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(r.Service) == "" {
		return 0, nil, hall.Errorf(hall.Invalid, "service is required")
	}
	if r.CitizenKey != "" && !isKey(r.CitizenKey) {
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits (the HMAC, never the ID number)")
	}
	if err := c.unseal(&r.SealedID, &r.CitizenKey, &r.MaskedID); err != nil {
		return 0, nil, err
	}
	if c.p.Role == wire.RoleKiosk {
		r.Kiosk = c.p.Name
	}
	t, err := c.a.svc.Issue(c.ctx, c.op(), r)
	return http.StatusCreated, redactView(t, levelOf(c.p.Role)), err
}

// opRemoteTicket takes a ticket from a citizen's phone (线上取号). The typed
// ID number becomes the citizen key and masked form here and goes no
// further. Whoever types a number is not necessarily its holder, so:
//   - the answer carries a claim, a random secret the page keeps in the
//     browser (or the page's own, sent as "claim"); the idempotency key is
//     the citizen key, the service and the claim, so a double tap or reload
//     from that browser returns the same ticket while it is open — and
//     nobody else who types the number gets it;
//   - refusals about the person (blacklisted, the per-ID limit, an open
//     remote ticket already) are one and the same answer, not_available,
//     so the endpoint tells nobody whether someone is blacklisted or holds
//     a ticket;
//   - remote tickets come out of their own share of the service's day
//     (ServiceConfig.RemoteCap), so phones never starve the hall;
//   - each client address (behind trusted proxies: see clientIP) may make
//     maxRemotePerIP requests with a valid number an hour.
//
// A hall joined to the province refuses them: there the province's citizen
// portal takes remote tickets after its real-name sign-in.
func opRemoteTicket(c *call) (int, any, error) {
	if c.a.joined {
		return 0, nil, hall.Refusal(hall.Forbidden, hall.ReasonRealNameRequired,
			"this hall is joined to the province platform: take a remote ticket on the province's citizen portal after real-name sign-in")
	}
	var r wire.RemoteTicketRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	service := strings.ToUpper(strings.TrimSpace(r.Service)) // as the hall reads codes
	if service == "" {
		return 0, nil, hall.Errorf(hall.Invalid, "service is required")
	}
	claim := r.Claim
	if claim == "" {
		claim = newClaim()
	} else if !isClaim(claim) {
		return 0, nil, hall.Errorf(hall.Invalid, "claim must be 32 lowercase hex digits (128 random bits kept by the browser)")
	}
	num, err := idnumber.ParseResident(r.IDNumber)
	r.IDNumber = ""
	if err != nil {
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
	o := hall.Op{Actor: actor, IdemKey: "remote:" + service + ":" + key + ":" + claimTag(claim), IdemWhileOpen: true}
	t, err := c.a.svc.Issue(c.ctx, o, hall.IssueRequest{Service: service, Channel: hall.Remote, CitizenKey: key, MaskedID: num.Masked()})
	switch hall.ErrorReason(err) {
	case string(hall.ReasonBlacklisted), string(hall.ReasonCitizenLimit), string(hall.ReasonRemoteOpen):
		return 0, nil, hall.Refusal(hall.Forbidden, hall.ReasonNotAvailable,
			"no remote ticket can be taken with this ID number now; please take one at a kiosk in the hall or ask staff")
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, wire.RemoteTicket{TicketView: redactView(t, levelPublic), Claim: claim}, nil
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
	if err := c.decode(&a, true); err != nil {
		return 0, nil, err
	}
	c.scopeAction(&a)
	t, err := c.a.svc.Act(c.ctx, c.op(), a)
	return ok(redactView(t, levelOf(c.p.Role)), err)
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
	if err := c.unseal(&r.SealedID, &r.CitizenKey, &r.MaskedID); err != nil {
		return 0, nil, err
	}
	byCard := r.CitizenKey != ""
	if c.p.Role == wire.RoleKiosk {
		r.Kiosk = c.p.Name
	}
	t, err := c.a.svc.CheckIn(c.ctx, c.op(), r)
	if c.p.Role == wire.RoleKiosk {
		// The answer goes to whoever holds the card or the booking code:
		// the ticket itself, and the masked ID only to the card's holder
		// (a booking code alone must not tell whose booking it is).
		masked := t.MaskedID
		t = redactView(t, levelPublic)
		if byCard {
			t.MaskedID = masked
		}
		return http.StatusCreated, t, err
	}
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
	if err := c.unseal(&o.SealedID, &o.CitizenKey, &o.MaskedID); err != nil {
		return 0, nil, err
	}
	// The key is the lease, number and ticket id, whatever the header
	// says: a retry of the same hand-over returns its ticket, while another
	// ticket id on a number already handed over reaches the hall and is
	// refused with number_used.
	c.idem = fmt.Sprintf("handover:%s:%d:%s", o.Lease, o.Number, o.ID)
	t, err := c.a.svc.HandOver(c.ctx, c.op(), c.p.Name, o)
	return http.StatusCreated, redactView(t, levelOf(c.p.Role)), err
}

// opSealKey gives kiosks the hall server's public key, to which they seal
// ID numbers (package seal). It is public by nature: it opens nothing.
func opSealKey(c *call) (int, any, error) {
	return ok(wire.SealKey{PublicKey: c.a.sealKey.PublicText()}, nil)
}

// unseal opens an ID number a kiosk sealed to this hall (a kiosk holds no
// key that derives citizen keys) into the citizen key and the masked form,
// and clears the sealed value; the number itself goes no further than this
// function — it is never stored, logged or returned. Nothing sealed:
// nothing to do.
func (c *call) unseal(sealed, key, masked *string) error {
	if *sealed == "" {
		return nil
	}
	if *key != "" {
		return hall.Errorf(hall.Invalid, "give sealed_id or citizen_key, not both")
	}
	text, err := c.a.sealKey.Open(*sealed)
	*sealed = ""
	if err != nil {
		return hall.Refusal(hall.Invalid, hall.ReasonUnsealableID, "the sealed ID number cannot be opened with this hall's key (sealed to another hall or an older store?)")
	}
	num, err := idnumber.Parse(text) // any card the readers read, as the kiosk did
	if err != nil {
		return hall.Refusal(hall.Invalid, "invalid_id_number", "the sealed value is not a valid card number")
	}
	*key, *masked = num.Key(c.a.secret), num.Masked()
	return nil
}

func opBookings(c *call) (int, any, error) {
	bs, err := c.a.svc.Bookings(c.ctx)
	for i := range bs {
		bs[i].CitizenKey = ""
	}
	return ok(bs, err)
}

func opBookingUpsert(c *call) (int, any, error) {
	var r wire.AppointmentRequest
	if err := c.decode(&r, false); err != nil {
		return 0, nil, err
	}
	switch {
	case r.BookingID != "" && r.ID != "" && r.BookingID != r.ID:
		return 0, nil, hall.Errorf(hall.Invalid, "give booking_id (or its older spelling id), not two different ids")
	case r.BookingID == "":
		r.BookingID = r.ID
	}
	b := hall.Booking{ID: r.BookingID, CitizenKey: r.CitizenKey, MaskedID: r.MaskedID, Service: r.Service,
		SlotStart: r.SlotStart, SlotEnd: r.SlotEnd, Status: r.Status}
	if !isKey(b.CitizenKey) {
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits")
	}
	if b.ID == "" { // a new booking made here: the hall mints an unguessable id
		if c.idem == "" {
			return 0, nil, hall.Errorf(hall.Invalid, "a new booking without an id needs an Idempotency-Key (a retry must not book twice)")
		}
		b.ID = hall.NewBookingID()
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
		num, err := idnumber.ParseResident(r.IDNumber)
		if err != nil {
			return 0, nil, hall.Errorf(hall.Invalid, "that is not a valid 18-character resident ID number (%v)", err)
		}
		key = num.Key(c.a.secret)
	case !isKey(key):
		return 0, nil, hall.Errorf(hall.Invalid, "citizen_key must be 64 lowercase hex digits")
	}
	err := c.a.svc.SetBlacklist(c.ctx, c.op(), hall.BlackEntry{CitizenKey: key, Note: r.Note, Until: r.Until, Removed: r.Remove})
	// the citizen key never leaves the server, not even to the manager who
	// typed the number
	return ok(map[string]any{"removed": r.Remove}, err)
}

// blackRef is how a blacklist entry is named outside the server: the first
// 12 hex digits of its citizen key, enough to tell entries apart and too
// little to match against ID numbers.
const blackRefLen = 12

type blackListed struct {
	Ref   string    `json:"ref"`
	Note  string    `json:"note,omitempty"`
	Until time.Time `json:"until,omitzero"`
	Since time.Time `json:"since,omitzero"`
	By    string    `json:"by,omitempty"`
}

func opBlacklistList(c *call) (int, any, error) {
	es, err := c.a.svc.Blacklist(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	out := make([]blackListed, 0, len(es))
	for _, e := range es {
		out = append(out, blackListed{Ref: e.CitizenKey[:blackRefLen], Note: e.Note, Until: e.Until, Since: e.Since, By: e.By})
	}
	return ok(out, nil)
}

func opBlacklistRemove(c *call) (int, any, error) {
	ref := c.params["ref"]
	if len(ref) != blackRefLen || !isHex(ref) {
		return 0, nil, hall.Errorf(hall.Invalid, "a blacklist entry is named by the %d hex digits the list shows, got %q", blackRefLen, ref)
	}
	es, err := c.a.svc.Blacklist(c.ctx)
	if err != nil {
		return 0, nil, err
	}
	var key string
	for _, e := range es {
		if strings.HasPrefix(e.CitizenKey, ref) {
			if key != "" {
				return 0, nil, hall.Refusal(hall.Conflict, "ambiguous_ref", "two entries start with %s; remove by citizen key (POST /api/v1/blacklist)", ref)
			}
			key = e.CitizenKey
		}
	}
	if key == "" {
		return 0, nil, hall.Errorf(hall.NotFound, "no blacklist entry %s", ref)
	}
	if err := c.a.svc.SetBlacklist(c.ctx, c.op(), hall.BlackEntry{CitizenKey: key, Removed: true}); err != nil {
		return 0, nil, err
	}
	return ok(map[string]any{"ref": ref, "removed": true}, nil)
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
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
	if err := c.mayManage("a token", r.Role); err != nil {
		return 0, nil, err
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
	id := c.params["id"]
	t, err := c.a.store.TokenByID(id)
	if err == nil {
		if err := c.mayManage("a token", t.Role); err != nil {
			return 0, nil, err
		}
		err = c.a.store.RevokeToken(id)
	}
	if errors.Is(err, store.ErrNoToken) {
		return 0, nil, hall.Errorf(hall.NotFound, "no token with id %q", id)
	}
	if err != nil {
		return 0, nil, hall.Errorf(hall.Unavailable, "cannot revoke: %v", err)
	}
	c.a.hub.closeToken(id, "this token was revoked")
	c.a.log.Info("token revoked", "id", id, "by", c.p.Name)
	return ok(map[string]string{"revoked": c.params["id"]}, nil)
}

func opDayClose(c *call) (int, any, error) {
	return ok(map[string]bool{"closed": true}, c.a.svc.CloseDay(c.ctx, c.op()))
}

// opDayPreview says what a day close now would expire and carry over.
func opDayPreview(c *call) (int, any, error) { return ok(c.a.svc.DayClosePreview(c.ctx)) }

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

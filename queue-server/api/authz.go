package api

import (
	"slices"
	"strconv"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Authorization is decided here, from the operation table (ops.go) and the
// three tables below; handlers only supply the facts a rule needs (the
// role of the token or account a request is about). What stays in the
// domain are its own rules, checked atomically with the change: a clerk's
// ticket action needs the ticket at the clerk's window (hall.Action
// AtWindow, set from ticketScope), a kiosk's a ticket it issued (ByKiosk).
//
//   - operation.roles: who may run an operation at all;
//   - actionRoles: who may run each ticket action (tickets.action);
//   - operation.ownWindow: a clerk only on their own window (param window);
//   - manages: which roles' tokens and accounts a role may create, replace
//     or revoke (tokens.create, tokens.revoke, users.create);
//   - namesClerk: who may open a window in another person's name.

// actionRoles lists, for each ticket action, the roles that may run it.
// Every action of hall.Actions has an entry (a test holds this).
var actionRoles = map[string][]string{
	hall.ActRecall:      roles(staff, clerkOnly),
	hall.ActStart:       roles(staff, clerkOnly),
	hall.ActComplete:    roles(staff, clerkOnly),
	hall.ActNoShow:      roles(staff, clerkOnly),
	hall.ActRequeue:     roles(staff, clerkOnly),
	hall.ActTransfer:    roles(staff, clerkOnly),
	hall.ActPark:        roles(staff, clerkOnly),
	hall.ActResume:      roles(staff, clerkOnly),
	hall.ActCancel:      roles(staff, clerkOnly, kioskOnly),
	hall.ActRate:        roles(staff, clerkOnly),
	hall.ActPrintFailed: roles(staff, kioskOnly),
	// the visit's matters, at the window (the citizen's rating of a matter:
	// tickets.evaluate)
	hall.ActAddMatter:    roles(staff, clerkOnly),
	hall.ActRemoveMatter: roles(staff, clerkOnly),
	hall.ActOutcome:      roles(staff, clerkOnly),
}

var (
	clerkOnly = []string{wire.RoleClerk}
	kioskOnly = []string{wire.RoleKiosk}
)

// ticketScope says which tickets a role's ticket actions may touch; the
// domain checks it atomically with the action. Roles without an entry act
// on any ticket.
var ticketScope = map[string]func(p Principal, a *hall.Action){
	wire.RoleClerk: func(p Principal, a *hall.Action) { a.AtWindow = p.Window }, // the ticket is at the clerk's window now
	wire.RoleKiosk: func(p Principal, a *hall.Action) { a.ByKiosk = p.Name },    // the kiosk issued it
}

// manages lists the roles whose tokens and password accounts a role may
// create, replace or revoke. docs/protocol.md: managers handle clerk, kiosk
// and display credentials; only an admin touches admin or manager ones.
var manages = map[string][]string{
	wire.RoleAdmin:   wire.Roles,
	wire.RoleManager: {wire.RoleClerk, wire.RoleKiosk, wire.RoleDisplay},
}

// namesClerk lists the roles that may open a window for a named clerk (a
// manager opening window 5 for wang); a clerk always opens in their own.
var namesClerk = []string{wire.RoleAdmin, wire.RoleManager}

// windowClerk is the clerk a window is opened for: the one named, when c's
// role may name one, else c itself.
func (c *call) windowClerk(named string) string {
	if named != "" && slices.Contains(namesClerk, c.p.Role) {
		return named
	}
	return c.p.Name
}

// authorize decides whether c may run op, before it runs: its role, the
// ticket action's role list, and a clerk's own window.
func (a *API) authorize(op *operation, c *call) error {
	role := c.p.Role
	if role == "" {
		role = public
	}
	if !slices.Contains(op.roles, role) {
		return forbidden(c.p)
	}
	if op.actions {
		name := c.params["action"]
		allowed, known := actionRoles[name]
		if !known {
			return hall.Errorf(hall.NotFound, "unknown ticket action %q (one of %v)", name, hall.Actions)
		}
		if !slices.Contains(allowed, role) {
			return hall.Refusal(hall.Forbidden, hall.ReasonActionNotAllowed, "role %s may not %s a ticket", role, name)
		}
	}
	if op.ownWindow && role == wire.RoleClerk {
		w, err := strconv.Atoi(c.params["window"])
		if err != nil || w < 0 {
			return hall.Errorf(hall.Invalid, "window must be a non-negative number, got %q", c.params["window"])
		}
		if w != c.p.Window {
			return hall.Refusal(hall.Forbidden, hall.ReasonNotYourWindow, "your token is for window %d, not %d", c.p.Window, w)
		}
	}
	return nil
}

// scopeAction limits a ticket action to the tickets c's role may touch.
func (c *call) scopeAction(a *hall.Action) {
	if f := ticketScope[c.p.Role]; f != nil {
		f(c.p, a)
	}
}

// mayManage refuses unless c's role may create, replace or revoke a
// credential of role target.
func (c *call) mayManage(what, target string) error {
	if slices.Contains(manages[c.p.Role], target) {
		return nil
	}
	return hall.Refusal(hall.Forbidden, hall.ReasonRoleNotManaged, "role %s may not create, replace or revoke %s of role %s (managers: clerk, kiosk and display)", c.p.Role, what, target)
}

// ManagedRoles returns the manages table (for tests and docs).
func ManagedRoles() map[string][]string {
	out := map[string][]string{}
	for r, rs := range manages {
		out[r] = slices.Clone(rs)
	}
	return out
}

// ActionRoles returns the actionRoles table (for tests and docs).
func ActionRoles() map[string][]string {
	out := map[string][]string{}
	for r, rs := range actionRoles {
		out[r] = slices.Clone(rs)
	}
	return out
}

package api

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"unicode"

	"hallq/internal/idnumber"
	"hallq/queue-server/audit"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// Auditor records an audited operation durably (package audit's Log.Record).
type Auditor func(audit.Entry) error

// auditedReads are the reads that take data out of the hall, audited like
// the changes.
var auditedReads = []string{"backup", "reports"}

// audited reports whether the trail records op as c ran it with err:
// logins and logouts always; what staff (admin, manager, clerk) change,
// and the reads that take data away; a change refused for want of a
// credential or a role, whoever tried it. A kiosk's or display's ordinary
// work (issuing, check-in, leases) is in the event log, not the trail.
func audited(op *operation, c *call, err error) bool {
	switch {
	case op.name == "login" || op.name == "logout":
		return true
	case slices.Contains(auditedReads, op.name):
		return c.p.Role != "" || err != nil
	case strings.HasPrefix(op.route, "GET "):
		return false
	case c.p.Role == wire.RoleAdmin || c.p.Role == wire.RoleManager || c.p.Role == wire.RoleClerk:
		return true
	}
	he, ok := errors.AsType[*hall.Error](err)
	return ok && (he.Code == hall.Unauthorized || he.Code == hall.Forbidden)
}

// audit records op on the trail when it is audited. A trail that cannot be
// written is logged as an error: the operation has happened by then.
func (a *API) audit(op *operation, c *call, err error) {
	if a.auditor == nil || !audited(op, c, err) {
		return
	}
	e := audit.Entry{Actor: c.p.Name, Role: c.p.Role, Addr: c.ip, Action: op.name, Outcome: "ok"}
	var named struct{ Name string }
	json.Unmarshal(c.body, &named) // best effort: the name a login tried, a user or token made
	if op.name == "login" {
		e.Actor = auditText(named.Name)
	} else if named.Name != "" && (op.name == "users.create" || op.name == "tokens.create") {
		e.Target = "name=" + auditText(named.Name)
	}
	for _, p := range op.pathParams {
		if e.Target != "" {
			e.Target += ","
		}
		e.Target += p + "=" + auditText(c.params[p])
	}
	if err != nil {
		e.Outcome = "refused:" + string(toWire(err).Code)
	}
	if werr := a.auditor(e); werr != nil {
		a.log.Error("the audit trail cannot be written", "op", op.name, "err", werr)
	}
}

// auditText is a name as the trail keeps it: at most 64 characters, no
// control characters, and never an ID number (a name typed into the login
// form can be one): that is kept masked.
func auditText(s string) string {
	if n, err := idnumber.ParseResident(s); err == nil {
		return n.Masked()
	}
	digits := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	if digits >= 15 { // a mistyped ID number is still one
		return "(withheld: looks like an ID number)"
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s
}

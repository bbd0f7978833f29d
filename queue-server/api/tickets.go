package api

// Tickets: issuing at a kiosk or desk, reading, the ticket actions, check-in
// of bookings, and the kiosks' offline leases and hand-overs.

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"hallq/internal/idnumber"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

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
	a.Via = hall.ViaWindowPad // a ticket action's rating is the window's
	t, err := c.a.svc.Act(c.ctx, c.op(), a)
	return ok(redactView(t, levelOf(c.p.Role)), err)
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
		return hall.Refusal(hall.Invalid, hall.ReasonInvalidIDNumber, "the sealed value is not a valid card number")
	}
	*key, *masked = num.KeyWith(c.a.keyHash, c.a.secret), num.Masked()
	return nil
}

func isKey(s string) bool {
	if len(s) != 64 || strings.ToLower(s) != s {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

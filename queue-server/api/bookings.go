package api

// Bookings (网上预约, made ahead online or by staff) and the blacklist: the citizen records
// staff manage, which never show a citizen key.

import (
	"encoding/hex"
	"strings"
	"time"

	"hallq/internal/idnumber"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

func opBookings(c *call) (int, any, error) {
	bs, err := c.a.svc.Bookings(c.ctx)
	for i := range bs {
		bs[i].CitizenKey = ""
	}
	return ok(bs, err)
}

func opBookingUpsert(c *call) (int, any, error) {
	var r wire.BookingRequest
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
		key = num.KeyWith(c.a.keyHash, c.a.secret)
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
				return 0, nil, hall.Refusal(hall.Conflict, hall.ReasonAmbiguousRef, "two entries start with %s; remove by citizen key (POST /api/v1/blacklist)", ref)
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

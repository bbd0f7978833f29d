package booking

import (
	"hallq/central/platform"
	"hallq/queue-server/wire"
)

// CodesFile is where the citizen portal reads the booking codes, from
// the repository's root (written by go generate ./queue-server/wire).
const CodesFile = "ui/portal/static/p/booking-codes.js"

// Statuses lists the booking statuses in a stable order.
var Statuses = []string{Booked, Cancelled, Arrived, Missed, Served}

// CodeGroups are the codes of the booking API that the portal's pages
// name: the refusal reasons, the booking statuses and the staff roles a
// signed-in staff member has (the error codes are the hall's, in codes.js).
var CodeGroups = []wire.CodeGroup{
	{Name: "BookingReason", Where: "`error.reason` of the booking API", Values: strs(Reasons)},
	{Name: "BookingStatus", Where: "`booking.status` at the central", Values: Statuses},
	{Name: "StaffRole", Where: "`staff.role` of `/api/v1/me` (an ID token's `hallq_role`)", Values: platform.StaffRoles},
}

func strs(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// CodesJS is the portal's module of booking codes (CodesFile).
func CodesJS() []byte {
	return wire.ModuleJS("booking.CodeGroups", "The province's booking codes and staff roles, one spelling each (docs/central.md, \"Booking API\").", CodeGroups)
}

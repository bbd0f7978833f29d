// Package parts lists the parts of the province platform that a central
// process runs beside the hall views (hallq/central/platform), in their
// order: bookings, calendars, the catalogue and sign-in
// (hallq/central/booking), the pages (hallq/central/pages), notifications
// (hallq/central/notify), work orders from poor ratings
// (hallq/central/workorders) and online ratings (hallq/central/rating).
// The central command and the demo run the same list, so the demo is the
// product. It only wires.
package parts

import (
	"hallq/central/booking"
	"hallq/central/notify"
	"hallq/central/pages"
	"hallq/central/platform"
	"hallq/central/rating"
	"hallq/central/workorders"
)

// Extensions are a new set of the platform's parts for one process.
func Extensions() []platform.Extension {
	bk := booking.Extension()
	return []platform.Extension{bk, pages.Extension(), notify.Extension(booking.AuthenticatorOf(bk)), workorders.Extension(), rating.Extension()}
}

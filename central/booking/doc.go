// Package booking is the province's online booking (网上预约) with slot
// capacity (号源): book, cancel and reschedule a slot of a hall's service,
// the booking window, the cut-offs, the per-citizen caps and the
// missed-booking rule (爽约), and the HTTP API of the citizen, public and
// staff faces over bookings, calendars and the catalogue (Handler).
//
// State lives only in JetStream KV, so any number of central processes
// serve the same requests with the same answers:
//
//	BOOKINGS          <booking id>                        the booking (the truth of where it is)
//	BOOKING_SLOTS     <hall>.<service>.<YYYYMMDD>.<HHMM>  the ids holding a seat of that slot
//	BOOKING_CITIZENS  <citizen key>                       the citizen's recent bookings and misses
//	BOOKING_DAYS      <hall>.<YYYYMMDD>.<booking id>      index of the bookings made for a hall day
//
// Capacity is exact under any concurrency because a seat is taken only by
// a compare-and-set write of the slot's entry on the revision it was read
// at (kv.Update): of two processes that read the same slot, one write
// wins and the other re-reads. The citizen's caps are kept the same way on
// the citizen's entry, so two concurrent requests of one citizen cannot
// both pass the "one open booking per service" rule. No process holds a
// lock or a cache.
//
// A booking is made in idempotent steps: citizen entry, slot seat, the
// booking record, the message to the hall. The booking id is derived from
// the citizen key and the request's Idempotency-Key (an HMAC under the
// province key: unguessable, ≥ 128 bits), so a request retried after a
// timeout or a dead process redoes the steps still missing and answers the
// same booking; nothing is applied twice. A seat whose booking record says
// it moved or was cancelled (a process died between the two writes of a
// reschedule or cancel) is reclaimed when the slot is next found full.
//
// Reschedule takes the new seat before it frees the old one: if the new
// slot is full the booking stays as it was.
//
// Each booking, change and cancellation goes to its hall on the existing
// central.<hall>.appointments subject (docs/central.md). The hall's
// check-in, no-show, completion and day-close events come back on HALLS
// and move the booking to arrived, missed or served (a durable consumer
// shared by the processes; a booking only moves forward, booked → arrived
// → missed → served, so events applied twice or in another order end in
// the same state); a miss counts towards the
// missed-booking rule. The event is written to the booking record first
// and to the citizen's entry just after, and the citizen is shown the
// record; so every check and view of the entry (Book, Mine, Bans,
// LiftBan) first brings it up to the records of its open bookings
// (settle), and a booking shown missed is never "already booked".
package booking

// Package notify tells citizens what they opted into: their booking
// confirmed, changed or cancelled, a reminder before the slot, "3 people
// ahead of you", called to a window ("请到 5 号窗口") and missed — by Web
// Push (VAPID, github.com/SherClockHolmes/webpush-go, whose one home this
// package is) and by SMS through a provider adapter (Tencent Cloud SMS
// SendSms, signed TC3-HMAC-SHA256).
//
// Everything lives in JetStream KV, so any number of central processes
// share the work and a process killed at any moment loses nothing:
//
//	NOTIFY_SUBS    c.<citizen key>                 what a signed-in citizen chose: kinds per channel, push devices, phone
//	               f.<hall>.<ticket>.<target>      a ticket followed: by a citizen (booked, then checked in) or by one
//	                                               browser without sign-in (its push subscription is in the entry)
//	               b.<booking id>                  the booking as last judged (to tell "confirmed" from "changed")
//	               _vapid                          the VAPID key pair, made once by the first process
//	NOTIFY_OUTBOX  <kind>.<ref>.<channel>.<target> one notification to one device or phone: pending → sending → sent
//	                                               (or dropped, failed); TTL 30 days
//
// Decisions. Booking kinds come from the booking records themselves: a
// durable consumer on the BOOKINGS bucket's stream (KV_BOOKINGS, shared by
// the processes) sees every change the booking service writes — booked,
// moved, cancelled by the citizen or by a closure, arrived with its
// ticket, missed — and compares it with b.<id>. Ticket kinds come from
// the central's live hall entries (a KV watch of central_halls in every
// process, with the ticket entries of central_tickets): a ticket's place
// in its queue, its call and its no-show are states, and after an outage
// only the state now counts — a durable replay of the hall events would
// tell a citizen "3 ahead" long after they were called. Whichever process
// decides first writes the outbox entry with Create under its stable id;
// every other decision of the same notification, in another process or
// after a restart, finds it there. That is what makes a notification
// idempotent: nothing is decided twice.
//
// Sending. Every process watches the outbox and claims a due entry by
// compare-and-set (sending, its id, a lease of LeaseTTL); of two processes
// one wins. The winner sends and marks the entry sent, or puts it back with
// an exponential back-off (BaseBackoff doubling to MaxBackoff, MaxAttempts
// tries, then failed); a push subscription the push service says is gone
// (404, 410) is deleted with the notifications for it. A process that dies
// holding a claim leaves it to lapse; then another sends. The one window
// in which a notification can go out twice is a process that sent and died
// before it marked the entry sent: the push message carries a Topic (the
// push service keeps only the newest message of a topic not yet delivered)
// and the SMS its SessionContext (the notification id, echoed in the
// provider's receipt), and the window is one HTTP round trip long.
//
// Phone numbers are kept only in the citizen's c.<key> entry, only while
// the citizen has SMS kinds on and a booking or followed ticket not yet
// over (and for at most PhoneRetention after it was given); opting out of
// SMS, or the last booking ending, deletes the number. It is never logged
// and every reply shows it masked (138****5678); an outbox entry names the
// citizen's entry, not the number, so an SMS still waiting when the number
// is deleted is dropped.
package notify

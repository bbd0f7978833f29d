package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KV buckets.
const (
	SubsBucket   = "NOTIFY_SUBS"
	OutboxBucket = "NOTIFY_OUTBOX"
)

// Device is one browser of a citizen, subscribed to push.
type Device struct {
	ID   string    `json:"id"` // hash of the endpoint
	Sub  PushSub   `json:"sub"`
	Lang string    `json:"lang"`
	At   time.Time `json:"at"`
}

// Prefs are a signed-in citizen's choices, entry c.<citizen key>.
type Prefs struct {
	Push      []Kind    `json:"push,omitempty"`
	SMS       []Kind    `json:"sms,omitempty"`
	Devices   []Device  `json:"devices,omitempty"`
	Lang      string    `json:"lang,omitempty"` // the SMS language
	Open      []string  `json:"open,omitempty"` // bookings and tickets not yet over (a phone serves them)
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Phone is a citizen's phone number, entry p.<citizen key>, kept apart
// from Prefs so that the sweep of numbers no longer needed reads only the
// numbers held.
type Phone struct {
	Number string    `json:"number"` // +86…
	At     time.Time `json:"at"`     // when it was given (wall time)
}

// masked is the number as replies show it: +86 138****5678.
func (p Phone) masked() string { return maskPhone(p.Number) }

func maskPhone(n string) string {
	local := n
	prefix := ""
	if len(n) > 3 && n[:3] == "+86" {
		prefix, local = "+86 ", n[3:]
	}
	if len(local) < 7 {
		return prefix + "****"
	}
	return prefix + local[:3] + "****" + local[len(local)-4:]
}

// Follow is a ticket followed, entry f.<hall>.<ticket>.<target>: by a
// citizen (Citizen set: their Prefs say which kinds and channels) or by
// one browser without sign-in (Device set, TicketKinds).
type Follow struct {
	Hall    string  `json:"hall"`
	Ticket  string  `json:"ticket"`
	Booking string  `json:"booking,omitempty"`
	Citizen string  `json:"citizen,omitempty"`
	Device  *Device `json:"device,omitempty"`
	Kinds   []Kind  `json:"kinds,omitempty"`
}

// bookingSeen is a booking as last judged, entry b.<booking id>.
type bookingSeen struct {
	Status string    `json:"status"`
	Slot   time.Time `json:"slot"`
	Ticket string    `json:"ticket,omitempty"`
	Seq    uint64    `json:"seq"` // the KV_BOOKINGS stream sequence judged
}

// Outbox entry states.
const (
	Pending = "pending"
	Sending = "sending"
	Sent    = "sent"
	Dropped = "dropped" // no longer wanted: opted out, subscription gone, reminder of a moved booking
	Failed  = "failed"  // refused for good, or out of attempts
)

// Entry is one notification to one device or phone, NOTIFY_OUTBOX <id>.
type Entry struct {
	ID      string    `json:"id"`
	Kind    Kind      `json:"kind"`
	Channel Channel   `json:"channel"`
	Subs    string    `json:"subs"`             // the NOTIFY_SUBS entry naming the target (c.… or f.…)
	Device  string    `json:"device,omitempty"` // push: the device id
	Msg     Message   `json:"msg"`
	Due     time.Time `json:"due"` // business time (the Clock): reminders wait for it
	// Booking and Slot, for a reminder: it is sent only if the booking is
	// still booked for that slot.
	Booking string    `json:"booking,omitempty"`
	Slot    time.Time `json:"slot,omitzero"`
	// Phone, on the SMS telling that a booking is over (cancelled,
	// missed), is the number the citizen's entry deletes at that moment;
	// it is erased from the entry once the message is sent or given up.
	Phone string `json:"phone,omitempty"`

	State    string    `json:"state"`
	Attempts int       `json:"attempts"`
	NextAt   time.Time `json:"next_at,omitzero"` // wall time of the next try (back-off)
	Owner    string    `json:"owner,omitempty"`  // the process sending it
	Until    time.Time `json:"until,omitzero"`   // the sender's claim lapses then (wall time)
	SentAt   time.Time `json:"sent_at,omitzero"`
	Err      string    `json:"err,omitempty"`
	Created  time.Time `json:"created"`
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

var errNoChange = errors.New("no change")

// update is a compare-and-set loop over one JSON entry (the booking
// package's pattern): fn changes the value read, the write names the
// revision read, a lost race reads again. fn returning errNoChange leaves
// the entry; del reports fn asked to delete it.
func update[T any](ctx context.Context, kv jetstream.KeyValue, key string, fn func(v *T, exists bool) (del bool, err error)) (T, error) {
	for attempt := 0; ; attempt++ {
		var v T
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return v, err
		default:
			if err := json.Unmarshal(e.Value(), &v); err != nil {
				return v, err
			}
			rev = e.Revision()
		}
		del, err := fn(&v, rev != 0)
		if errors.Is(err, errNoChange) {
			return v, nil
		}
		if err != nil {
			return v, err
		}
		switch {
		case del && rev == 0:
			return v, nil
		case del:
			err = kv.Delete(ctx, key, jetstream.LastRevision(rev))
		case rev == 0:
			body, _ := json.Marshal(v)
			_, err = kv.Create(ctx, key, body)
		default:
			body, _ := json.Marshal(v)
			_, err = kv.Update(ctx, key, body, rev)
		}
		if err == nil {
			return v, nil
		}
		if !conflict(err) || attempt > 50 {
			return v, err
		}
		d := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(d):
		}
	}
}

func conflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

func get[T any](ctx context.Context, kv jetstream.KeyValue, key string) (T, uint64, error) {
	var v T
	e, err := kv.Get(ctx, key)
	if err != nil {
		return v, 0, err
	}
	return v, e.Revision(), json.Unmarshal(e.Value(), &v)
}

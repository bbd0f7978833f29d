package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/hall"
)

// Booking is the message the central platform publishes on
// central.<hall-id>.appointments to create, change or cancel an online
// booking (网上预约). Re-sending a booking id replaces it. The subject keeps
// its v1 spelling for the halls in the field (docs/central.md).
type Booking struct {
	BookingID  string    `json:"booking_id"`
	CitizenKey string    `json:"citizen_key"`         // lowercase hex HMAC-SHA256(province key, normalised ID number)
	MaskedID   string    `json:"masked_id,omitempty"` // e.g. 4201**********1234
	Service    string    `json:"service"`             // service code, e.g. "A"
	SlotStart  time.Time `json:"slot_start"`          // RFC 3339
	SlotEnd    time.Time `json:"slot_end"`
	Status     string    `json:"status"` // "booked" or "cancelled"
}

// RemoteTicket is the message the central platform publishes on
// central.<hall-id>.remote-tickets when a citizen takes a ticket on a
// phone (线上取号). RequestID is the idempotency key: a redelivered or
// re-sent request never issues a second ticket (on the same hall day).
type RemoteTicket struct {
	RequestID  string        `json:"request_id"`
	Service    string        `json:"service"`
	CitizenKey string        `json:"citizen_key,omitempty"`
	MaskedID   string        `json:"masked_id,omitempty"`
	AgeClass   hall.AgeClass `json:"age_class,omitempty"`
}

// Rating is the message the central platform publishes on
// central.<hall-id>.ratings when a citizen rates a visit online (好差评,
// channel 网上): the hall applies it with channel online, or refuses it
// (already rated at the window, not served) — the hall is the authority on
// a visit's one rating. RequestID is the idempotency key.
type Rating struct {
	RequestID  string           `json:"request_id"`
	Ticket     string           `json:"ticket"`
	Score      int              `json:"score"`
	Indicators []hall.Indicator `json:"indicators,omitempty"`
	Reason     string           `json:"reason,omitempty"`
}

// Deprecated: Appointment is the old name of Booking.
type Appointment = Booking

// BookingsSubject is where the central publishes a hall's bookings:
// central.<hall-id>.appointments, the v1 spelling halls in the field read.
func BookingsSubject(hallID string) string { return "central." + hallID + ".appointments" }

// Deprecated: AppointmentsSubject is the old name of BookingsSubject.
func AppointmentsSubject(hallID string) string { return BookingsSubject(hallID) }

// RemoteTicketsSubject is where the central publishes a hall's remote ticket requests.
func RemoteTicketsSubject(hallID string) string { return "central." + hallID + ".remote-tickets" }

// RatingsSubject is where the central publishes a hall's online ratings.
func RatingsSubject(hallID string) string { return "central." + hallID + ".ratings" }

// Bookings is the hall side of the bookings consumer; *hall.Service
// satisfies it. The writes return only after the change is committed.
type Bookings interface {
	UpsertBooking(ctx context.Context, op hall.Op, b hall.Booking) (hall.Booking, error)
	Issue(ctx context.Context, op hall.Op, r hall.IssueRequest) (hall.TicketView, error)
	Ticket(ctx context.Context, id string) (hall.TicketView, error)
	Act(ctx context.Context, op hall.Op, a hall.Action) (hall.TicketView, error)
}

// RemoteActor is the hall.Op actor of a remote ticket, so the central can
// match the forwarded ticket.issued event to its request.
func RemoteActor(requestID string) string { return "central:" + requestID }

// errPermanent marks a message that can never succeed: it is terminated.
var errPermanent = errors.New("permanent")

// RunBookings consumes the hall's durable consumer on the central
// stream until ctx is cancelled (then it returns nil). Each message is
// applied through b and acknowledged only after b has committed it;
// invalid or refused messages are terminated with a log line; failures of
// the hall itself (storage unavailable) are redelivered after a back-off.
// The consumer allows one unacknowledged message at a time, so a change
// never overtakes the booking it changes. An unreachable server is waited
// out.
func RunBookings(ctx context.Context, cfg Config, b Bookings, logger *slog.Logger) error {
	if !ValidHallID(cfg.HallID) {
		return fmt.Errorf("forward: hall id %q must be 1–64 characters from A–Z a–z 0–9 _ -", cfg.HallID)
	}
	if cfg.NATSURL == "" {
		return errors.New("forward: bookings need a NATS URL")
	}
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "bookings")
	return runConsumer(ctx, &cfg, "hallq-appointments-"+cfg.HallID, "bookings", log, func(ctx context.Context, js jetstream.JetStream) error {
		return consumeAppointments(ctx, &cfg, js, b, log)
	})
}

// runConsumer connects to the central's NATS as name and runs consume until
// ctx is cancelled (then it returns nil), starting it again after a
// back-off whenever it stops; what names it in the log.
func runConsumer(ctx context.Context, cfg *Config, name, what string, log *slog.Logger, consume func(context.Context, jetstream.JetStream) error) error {
	nc, err := connect(cfg, name, log, nil)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	attempt := 0
	for ctx.Err() == nil {
		err := consume(ctx, js)
		if ctx.Err() != nil {
			break
		}
		attempt++
		d := backoff(cfg.MinBackoff, cfg.MaxBackoff, attempt)
		log.Warn(what+" consumer stopped; retrying", "err", err, "retry_in", d.Round(time.Millisecond))
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	return nil
}

// Deprecated: RunAppointments is the old name of RunBookings.
func RunAppointments(ctx context.Context, cfg Config, b Bookings, logger *slog.Logger) error {
	return RunBookings(ctx, cfg, b, logger)
}

// ConsumerConfig is the durable consumer a hall reads central messages
// from; the central may create it ahead (the hall then only binds to it).
func ConsumerConfig(hallID, durable string) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        durable,
		Description:    "hallq bookings, remote tickets and online ratings for hall " + hallID,
		FilterSubjects: []string{BookingsSubject(hallID), RemoteTicketsSubject(hallID), RatingsSubject(hallID)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxDeliver:     -1,
		MaxAckPending:  1,
	}
}

func consumeAppointments(ctx context.Context, cfg *Config, js jetstream.JetStream, b Bookings, log *slog.Logger) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.CreateOrUpdateConsumer(sctx, cfg.CentralStream, ConsumerConfig(cfg.HallID, cfg.Durable))
	if err != nil {
		// Without the right to create it, bind to the one the central made.
		var err2 error
		if cons, err2 = js.Consumer(sctx, cfg.CentralStream, cfg.Durable); err2 != nil {
			cancel()
			return fmt.Errorf("consumer %s on %s: %w", cfg.Durable, cfg.CentralStream, err)
		}
	}
	cancel()
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	// On shutdown, drain: messages already delivered to this client are
	// handed back at once (Nak) instead of waiting out the ack wait, which
	// would stall the next start (one unacknowledged message at a time).
	return each(ctx, it, it.Drain, func(msg jetstream.Msg) error {
		if ctx.Err() != nil {
			_ = msg.Nak()
			return nil
		}
		handleCentral(ctx, cfg, msg, b, log)
		return nil
	})
}

// each hands every message of it to handle until ctx is cancelled (then
// it calls onCancel and returns ctx's error), the iterator fails, or
// handle returns an error.
func each(ctx context.Context, it jetstream.MessagesContext, onCancel func(), handle func(jetstream.Msg) error) error {
	stop := context.AfterFunc(ctx, onCancel)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return err
		}
		if err := handle(msg); err != nil {
			return err
		}
	}
}

func handleCentral(ctx context.Context, cfg *Config, msg jetstream.Msg, b Bookings, log *slog.Logger) {
	subj := msg.Subject()
	meta, _ := msg.Metadata()
	var streamSeq uint64
	if meta != nil {
		streamSeq = meta.Sequence.Stream
	}
	var err error
	switch subj {
	case BookingsSubject(cfg.HallID):
		err = applyBooking(ctx, msg.Data(), b)
	case RemoteTicketsSubject(cfg.HallID):
		err = applyRemoteTicket(ctx, msg.Data(), b)
	case RatingsSubject(cfg.HallID):
		err = applyRating(ctx, msg.Data(), b)
	default:
		err = fmt.Errorf("%w: unexpected subject", errPermanent)
	}
	switch {
	case err == nil:
		// Committed: acknowledge even if we are shutting down.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		aerr := msg.DoubleAck(actx)
		cancel()
		if aerr != nil {
			log.Warn("ack failed; the message will be redelivered and applied idempotently", "subject", subj, "stream_seq", streamSeq, "err", aerr)
		}
	case errors.Is(err, errPermanent):
		log.Error("central message refused and terminated", "subject", subj, "stream_seq", streamSeq, "err", err)
		_ = msg.TermWithReason(truncate(err.Error(), 200))
	default:
		log.Warn("central message not applied; will be redelivered", "subject", subj, "stream_seq", streamSeq, "err", err)
		_ = msg.NakWithDelay(cfg.MinBackoff)
	}
}

// classify turns a hall error into "try again" (the hall's own trouble) or
// permanent (the message itself cannot be applied).
func classify(err error) error {
	if err == nil {
		return nil
	}
	switch hall.ErrorCode(err) {
	case hall.Unavailable, hall.Internal:
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %v", errPermanent, err)
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: bad JSON: %v", errPermanent, err)
	}
	return nil
}

// validCitizenKey accepts only the 64-hex-digit HMAC form, so a raw ID
// number can never enter the hall this way.
func validCitizenKey(k string) bool {
	if len(k) != 64 {
		return false
	}
	for _, c := range k {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func validMasked(m string) bool { return m == "" || (len(m) <= 32 && strings.Contains(m, "*")) }

func applyBooking(ctx context.Context, data []byte, b Bookings) error {
	var a Booking
	if err := decodeStrict(data, &a); err != nil {
		return err
	}
	if !validCitizenKey(a.CitizenKey) {
		return fmt.Errorf("%w: booking %q: citizen_key must be 64 lowercase hex digits", errPermanent, a.BookingID)
	}
	if !validMasked(a.MaskedID) {
		return fmt.Errorf("%w: booking %q: masked_id must be masked", errPermanent, a.BookingID)
	}
	if a.Status == "" {
		a.Status = hall.BookingBooked
	}
	// An upsert is idempotent by itself (and never undoes a check-in), so a
	// redelivery only re-states the booking.
	_, err := b.UpsertBooking(ctx, hall.Op{Actor: "central"}, hall.Booking{
		ID: a.BookingID, CitizenKey: a.CitizenKey, MaskedID: a.MaskedID, Service: a.Service,
		SlotStart: a.SlotStart, SlotEnd: a.SlotEnd, Status: a.Status,
	})
	return classify(err)
}

func applyRemoteTicket(ctx context.Context, data []byte, b Bookings) error {
	var r RemoteTicket
	if err := decodeStrict(data, &r); err != nil {
		return err
	}
	if r.RequestID == "" || len(r.RequestID) > 64 {
		return fmt.Errorf("%w: remote ticket: request_id must be 1 to 64 characters", errPermanent)
	}
	if r.CitizenKey != "" && !validCitizenKey(r.CitizenKey) {
		return fmt.Errorf("%w: remote ticket %q: citizen_key must be 64 lowercase hex digits", errPermanent, r.RequestID)
	}
	if !validMasked(r.MaskedID) {
		return fmt.Errorf("%w: remote ticket %q: masked_id must be masked", errPermanent, r.RequestID)
	}
	_, err := b.Issue(ctx, hall.Op{Actor: RemoteActor(r.RequestID), IdemKey: "central/remote-ticket:" + r.RequestID},
		hall.IssueRequest{Service: r.Service, Channel: hall.Remote, CitizenKey: r.CitizenKey, MaskedID: r.MaskedID, AgeClass: r.AgeClass})
	return classify(err)
}

// applyRating rates the visit with channel online. A ticket that carries
// matters (一事一评) gets the rating on each matter handled and not yet
// rated: the citizen rated the visit online, where the matters are not
// offered one by one. A refusal (already_rated: the pad or the phone page
// came first; the visit not served; the ticket unknown to the hall) is
// terminated and logged; the central learns the visit's rating from the
// ticket.rated events the hall forwards.
func applyRating(ctx context.Context, data []byte, b Bookings) error {
	var r Rating
	if err := decodeStrict(data, &r); err != nil {
		return err
	}
	if r.RequestID == "" || len(r.RequestID) > 64 {
		return fmt.Errorf("%w: rating: request_id must be 1 to 64 characters", errPermanent)
	}
	if r.Ticket == "" || len(r.Ticket) > 64 {
		return fmt.Errorf("%w: rating %q: ticket must be 1 to 64 characters", errPermanent, r.RequestID)
	}
	rr := hall.RateRequest{Score: r.Score, Indicators: r.Indicators, Reason: r.Reason, Via: hall.ViaOnline}
	if err := hall.CheckRating(rr); err != nil {
		return fmt.Errorf("%w: rating %q: %v", errPermanent, r.RequestID, err)
	}
	tv, err := b.Ticket(ctx, r.Ticket)
	if err != nil {
		return classify(err)
	}
	act := func(matter string) error {
		key := "central/rating:" + r.RequestID
		if matter != "" {
			key += ":" + matter
		}
		_, err := b.Act(ctx, hall.Op{Actor: RemoteActor(r.RequestID), IdemKey: key}, hall.Action{Name: hall.ActRate, Ticket: r.Ticket,
			Score: r.Score, Indicators: r.Indicators, Reason: r.Reason, Matter: matter, Via: hall.ViaOnline})
		return classify(err)
	}
	if len(tv.Matters) == 0 {
		return act("")
	}
	rated := 0
	for _, m := range tv.Matters {
		if m.Outcome == "" || m.Rating != nil {
			continue
		}
		if err := act(m.Code); err != nil {
			return err
		}
		rated++
	}
	if rated == 0 {
		return fmt.Errorf("%w: rating %q: every handled matter of ticket %s is rated already (or none is handled)", errPermanent, r.RequestID, tv.Number)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

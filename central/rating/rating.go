// Package rating is the online channel of 好差评 (网上/二维码) at the
// province's central: a citizen rates a served visit on the portal
// (/rate/{ticket}, the ticket id of the printed QR code being the
// credential), the central checks it by the hall's rules, keeps where it
// stands in KV bucket ONLINE_RATINGS and sends it to the hall on
// central.<hall>.ratings (stream CENTRAL). The hall is the authority on a
// visit's one rating: it applies the rating with channel online, or refuses
// it because the window's pad rated the visit first. The central learns
// which from the ticket.rated events the hall forwards on HALLS (consumer
// central-ratings), whatever the channel, so the portal can say "thank you"
// or "already rated at the window" — also for a rating sent while the hall
// was unreachable, which waits in the stream and is applied when the hall
// reconnects.
package rating

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// Bucket is the KV bucket of online ratings, keyed by ticket id.
const Bucket = "ONLINE_RATINGS"

// Durable is the consumer on HALLS that reads the halls' ticket.rated events.
const Durable = "central-ratings"

// Keep is how long a ticket's rating state is kept.
const Keep = 7 * 24 * time.Hour

// Record is where a visit's rating stands, as the central knows it.
type Record struct {
	Ticket string            `json:"ticket"`
	Hall   string            `json:"hall"`
	Status hall.OnlineStatus `json:"status"`
	// The online rating the citizen gave (pending, applied, or refused
	// because another channel came first: OnlineRefused).
	Score         int              `json:"score,omitempty"`
	Indicators    []hall.Indicator `json:"indicators,omitempty"`
	Reason        string           `json:"reason,omitempty"`
	SentAt        time.Time        `json:"sent_at,omitzero"`
	OnlineRefused bool             `json:"online_refused,omitempty"`
	// Channel and RatedAt: the rating that counts, once the hall says so.
	Channel hall.RatingChannel `json:"channel,omitempty"`
	RatedAt time.Time          `json:"rated_at,omitzero"`
	// Key is the request's Idempotency-Key (a retry gets the same answer).
	Key string `json:"-"`
}

type stored struct {
	Record
	Key string `json:"key,omitempty"`
}

// Config configures the service.
type Config struct {
	JS       jetstream.JetStream
	Views    *platform.Views // the tickets' public status
	Replicas int
	Log      *slog.Logger
	Now      func() time.Time
}

// Service rates visits online.
type Service struct {
	c  Config
	kv jetstream.KeyValue
}

// New creates (or binds to) the bucket.
func New(ctx context.Context, c Config) (*Service, error) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	kv, err := platform.OpenKV(ctx, c.JS, jetstream.KeyValueConfig{Bucket: Bucket, Description: "online ratings (好差评, 网上) by ticket id",
		TTL: Keep, Storage: jetstream.FileStorage, Replicas: max(1, c.Replicas)})
	if err != nil {
		return nil, fmt.Errorf("rating: bucket %s: %w", Bucket, err)
	}
	return &Service{c: c, kv: kv}, nil
}

// Request is a citizen's online rating.
type Request struct {
	Score      int              `json:"score"`
	Indicators []hall.Indicator `json:"indicators,omitempty"`
	Reason     string           `json:"reason,omitempty"`
}

// Error is a refusal with its code and reason.
type Error struct {
	Status  int
	Code    string
	Reason  string
	Message string
	Details any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func refuse(status int, code, reason, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ValidTicketID: 1–64 letters, digits, '-' or '_' (the hall's ticket ids).
func ValidTicketID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// RequestID is the request id of a ticket's online rating: one per
// ticket, so every copy of it is the same request at the hall.
func RequestID(ticket string) string { return "rate-" + ticket }

func (s *Service) get(ctx context.Context, id string) (*stored, uint64, error) {
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var r stored
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, 0, err
	}
	return &r, e.Revision(), nil
}

func (s *stored) record() Record { r := s.Record; r.Key = s.Key; return r }

// Get is where a ticket's rating stands (Status none when nothing is known).
func (s *Service) Get(ctx context.Context, ticket string) (Record, error) {
	if !ValidTicketID(ticket) {
		return Record{}, refuse(400, platform.CodeInvalid, "", "a ticket id is 1–64 letters, digits, '-' or '_'")
	}
	r, _, err := s.get(ctx, ticket)
	if err != nil {
		return Record{}, err
	}
	if r == nil {
		t, err := s.ticket(ctx, ticket)
		if err != nil {
			return Record{}, err
		}
		return Record{Ticket: ticket, Hall: t.Hall, Status: hall.OnlineNone}, nil
	}
	return r.record(), nil
}

func (s *Service) ticket(ctx context.Context, id string) (*platform.TicketState, error) {
	t, err := s.c.Views.Ticket(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, refuse(404, platform.CodeNotFound, string(hall.OnlineUnknownTicket), "no ticket %s at the province (tickets are kept for their day and a day after)", id)
	}
	return t, err
}

// Rate accepts a citizen's online rating of a served visit and sends it to
// the hall. It answers the record and whether it was new (false: a retry
// of the same key). A second rating, of another key, is refused
// already_rated; so is one for a visit the hall reported rated on another
// channel.
func (s *Service) Rate(ctx context.Context, ticket string, r Request, key string) (Record, bool, error) {
	if !ValidTicketID(ticket) {
		return Record{}, false, refuse(400, platform.CodeInvalid, "", "a ticket id is 1–64 letters, digits, '-' or '_'")
	}
	if err := hall.CheckRating(hall.RateRequest{Score: r.Score, Indicators: r.Indicators, Reason: r.Reason, Via: hall.ViaOnline}); err != nil {
		var he *hall.Error
		if errors.As(err, &he) {
			return Record{}, false, &Error{Status: 400, Code: platform.CodeInvalid, Reason: he.Reason, Message: he.Message}
		}
		return Record{}, false, refuse(400, platform.CodeInvalid, "", "%v", err)
	}
	t, err := s.ticket(ctx, ticket)
	if err != nil {
		return Record{}, false, err
	}
	for {
		cur, rev, err := s.get(ctx, ticket)
		if err != nil {
			return Record{}, false, err
		}
		if cur != nil {
			switch {
			case cur.Key != "" && cur.Key == key:
				if cur.Status == hall.OnlinePending {
					s.send(ctx, cur) // a retry re-sends: the message id makes it one message
				}
				return cur.record(), false, nil
			case cur.Status != hall.OnlineNone:
				e := refuse(409, codeConflict, string(hall.ReasonAlreadyRated), "ticket %s is already rated (%s)", t.Number, orOnline(cur.Channel))
				e.Details = cur.record()
				return Record{}, false, e
			}
		}
		if h, ok := s.c.Views.Hall(t.Hall); ok && h.Day != "" && t.Day != "" && h.Day != t.Day {
			return Record{}, false, refuse(409, codeConflict, string(hall.OnlineDayOver), "ticket %s was of %s and the hall has begun %s: a visit is rated online on its day", t.Number, t.Day, h.Day)
		}
		if t.Status != string(hall.Done) {
			return Record{}, false, refuse(409, codeConflict, string(hall.OnlineNotServed), "ticket %s is %s: a visit is rated once it is served", t.Number, t.Status)
		}
		rec := &stored{Record: Record{Ticket: ticket, Hall: t.Hall, Status: hall.OnlinePending, Score: r.Score, Indicators: r.Indicators,
			Reason: strings.TrimSpace(r.Reason), SentAt: s.c.Now().In(t.IssuedAt.Location())}, Key: key} // the hall's zone
		b, _ := json.Marshal(rec)
		if cur == nil {
			_, err = s.kv.Create(ctx, ticket, b)
		} else {
			_, err = s.kv.Update(ctx, ticket, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSeq(err) {
			continue // someone wrote first: judge again
		}
		if err != nil {
			return Record{}, false, err
		}
		s.send(ctx, rec)
		return rec.record(), true, nil
	}
}

func orOnline(c hall.RatingChannel) hall.RatingChannel {
	if c == "" {
		return hall.ViaOnline
	}
	return c
}

func isWrongSeq(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// send publishes the rating to its hall. A failure is logged: the record
// stays pending and a retry of the request sends it again.
func (s *Service) send(ctx context.Context, r *stored) {
	body, _ := json.Marshal(forward.Rating{RequestID: RequestID(r.Ticket), Ticket: r.Ticket, Score: r.Score, Indicators: r.Indicators, Reason: r.Reason})
	m := &nats.Msg{Subject: forward.RatingsSubject(r.Hall), Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, r.Hall+":rate:"+r.Ticket)
	if _, err := s.c.JS.PublishMsg(ctx, m); err != nil {
		s.c.Log.Error("rating: sending an online rating to its hall", "hall", r.Hall, "err", err)
	}
}

// Follow reads the halls' ticket.rated events until ctx ends and records
// which rating counts: online (the hall applied ours) or another channel
// (the pad came first: a pending online rating is refused). Processes
// share the durable consumer.
func (s *Service) Follow(ctx context.Context) error {
	cons, err := s.c.JS.CreateOrUpdateConsumer(ctx, platform.HallsStream, jetstream.ConsumerConfig{
		Durable: Durable, Description: "the halls' ratings, for the portal's online ratings",
		FilterSubject: "hall.*.events." + hall.EvTicketRated, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		DeliverPolicy: jetstream.DeliverAllPolicy, MaxDeliver: -1,
	})
	if err != nil {
		return fmt.Errorf("rating: consumer %s: %w", Durable, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Drain)
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
		if err := s.apply(ctx, msg.Subject(), msg.Data()); err != nil {
			s.c.Log.Warn("rating: a hall's rating not recorded; will be redelivered", "subject", msg.Subject(), "err", err)
			_ = msg.NakWithDelay(time.Second)
			continue
		}
		_ = msg.Ack()
	}
}

func (s *Service) apply(ctx context.Context, subject string, data []byte) error {
	var ev hall.Event
	if err := json.Unmarshal(data, &ev); err != nil || ev.Ticket == nil {
		s.c.Log.Warn("rating: an unreadable ticket.rated event skipped", "subject", subject)
		return nil
	}
	hallID, _, _ := strings.Cut(strings.TrimPrefix(subject, "hall."), ".")
	t := ev.Ticket
	rt := t.Rating
	for _, m := range t.Matters {
		if rt == nil && m.Rating != nil {
			rt = m.Rating
		}
	}
	if rt == nil || !ValidTicketID(t.ID) {
		return nil
	}
	for {
		cur, rev, err := s.get(ctx, t.ID)
		if err != nil {
			return err
		}
		if cur != nil && (cur.Status == hall.OnlineApplied || cur.Status == hall.OnlineRatedElsewhere) {
			return nil // the first rating counts
		}
		wasPending := cur != nil && cur.Status == hall.OnlinePending
		next := &stored{Record: Record{Ticket: t.ID, Hall: hallID}}
		if cur != nil {
			next = cur
		}
		next.Channel, next.RatedAt = orWindow(rt.Channel), rt.At
		if rt.Channel == hall.ViaOnline {
			next.Status = hall.OnlineApplied
		} else {
			next.Status = hall.OnlineRatedElsewhere
			next.OnlineRefused = wasPending
		}
		b, _ := json.Marshal(next)
		if cur == nil {
			_, err = s.kv.Create(ctx, t.ID, b)
		} else {
			_, err = s.kv.Update(ctx, t.ID, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSeq(err) {
			continue
		}
		return err
	}
}

func orWindow(c hall.RatingChannel) hall.RatingChannel {
	if c == "" {
		return hall.ViaWindowPad
	}
	return c
}

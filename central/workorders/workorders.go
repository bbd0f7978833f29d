// Package workorders turns the halls' poor ratings (差评) into work orders
// the province follows up: every forwarded rating with a low score
// (hall.Low: 1 or 2, whatever the channel) becomes an order assigned to
// its hall, due at the end of the 15th working day after the rating on
// the hall's calendar (holidays and 调休 workdays counted as the calendar
// says). An order goes open → followed_up (a 回访 record: when, how, what
// the citizen said, the result; more than one may be added) → closed, and
// is closed only after a follow-up. An order not closed by its deadline
// is overdue: an alert.
//
// Orders live in the KV bucket WORKORDERS, one entry per order, changed
// only by compare-and-set. They are created from the durable consumer
// central-workorders on stream HALLS (subject hall.*.events.ticket.rated),
// which every central process shares; an order's id is derived from hall,
// ticket and matter and written with Create, so a rating redelivered,
// applied by two processes or again after a restart makes one order.
// Every follow-up and closing is audited (hallq/central/audit).
//
// The HTTP routes (Routes; docs/central.md, "Work orders from poor
// ratings") take the platform's staff authenticator: a province admin sees
// and handles every hall's orders, a hall supervisor their halls' only.
package workorders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/audit"
	"hallq/central/calendars"
	"hallq/central/platform"
	"hallq/internal/calendar"
	"hallq/internal/catalog"
	"hallq/queue-server/hall"
)

// Names in JetStream.
const (
	Bucket   = "WORKORDERS"
	Consumer = "central-workorders"
	Subject  = "hall.*.events." + hall.EvTicketRated
)

// DefaultWorkingDays is the default time to close an order.
const DefaultWorkingDays = 15

// Statuses.
const (
	Open       = "open"
	FollowedUp = "followed_up"
	Closed     = "closed"
)

// Ways of following up.
var Ways = []string{"phone", "visit", "other"}

// FollowUp is one 回访 record.
type FollowUp struct {
	At     time.Time `json:"at"` // when the citizen was reached
	How    string    `json:"how"`
	Said   string    `json:"said"`   // what the citizen said
	Result string    `json:"result"` // what was done or agreed
	By     string    `json:"by"`
	Noted  time.Time `json:"noted"` // when it was recorded
}

// Order is one work order.
type Order struct {
	ID         string        `json:"id"`
	Hall       string        `json:"hall"` // the assignee
	Ticket     string        `json:"ticket"`
	Number     string        `json:"number"`
	Day        string        `json:"day"`
	Service    string        `json:"service,omitempty"`
	Matter     string        `json:"matter,omitempty"`
	MatterName *catalog.Text `json:"matter_name,omitempty"`
	Window     int           `json:"window,omitempty"`
	Clerk      string        `json:"clerk,omitempty"`
	Masked     string        `json:"masked,omitempty"` // the citizen's masked number, to find them for the 回访
	Score      int           `json:"score"`
	Channel    string        `json:"channel,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Indicators []string      `json:"indicators,omitempty"`
	RatedAt    time.Time     `json:"rated_at"`
	Created    time.Time     `json:"created"`
	Due        string        `json:"due"`    // the last working day (YYYY-MM-DD)
	DueAt      time.Time     `json:"due_at"` // the end of Due: overdue from then
	Status     string        `json:"status"`
	FollowUps  []FollowUp    `json:"follow_ups"`
	Closed     *Closing      `json:"closed,omitempty"`
	Overdue    bool          `json:"overdue"` // computed when read
	Revision   uint64        `json:"revision,omitempty"`
}

// Closing is how an order was closed.
type Closing struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note"`
}

// Clock is what the service reads the time from.
type Clock interface{ Now() time.Time }

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// Config configures a Service.
type Config struct {
	JS          jetstream.JetStream
	Replicas    int
	WorkingDays int // default 15
	Clock       Clock
	Log         *slog.Logger
}

// Service is one process's work orders; its state is all in JetStream.
type Service struct {
	cfg   Config
	kv    jetstream.KeyValue
	halls *calendars.Store
	Audit *audit.Log
	log   *slog.Logger
}

// New creates or binds the bucket and the streams it reads and writes.
func New(ctx context.Context, c Config) (*Service, error) {
	if c.JS == nil {
		return nil, errors.New("workorders: JetStream is needed")
	}
	if c.WorkingDays <= 0 {
		c.WorkingDays = DefaultWorkingDays
	}
	if c.Clock == nil {
		c.Clock = sysClock{}
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	r := max(c.Replicas, 1)
	// The process made HALLS already; updating a stream while another
	// part creates its consumer on it is what nats-server must not see
	// (a data race there), so it is created only when missing.
	if _, err := c.JS.Stream(ctx, platform.HallsStream); errors.Is(err, jetstream.ErrStreamNotFound) {
		if err := platform.EnsureStreams(ctx, c.JS, platform.StreamOptions{Replicas: r}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("workorders: stream %s: %w", platform.HallsStream, err)
	}
	kv, err := platform.OpenKV(ctx, c.JS, jetstream.KeyValueConfig{
		Bucket: Bucket, Description: "work orders from poor ratings, by id", History: 1, Storage: jetstream.FileStorage, Replicas: r,
	})
	if err != nil {
		return nil, fmt.Errorf("workorders: bucket %s: %w", Bucket, err)
	}
	s := &Service{cfg: c, kv: kv, log: c.Log}
	if s.halls, err = calendars.Bind(ctx, c.JS, r); err != nil {
		return nil, err
	}
	if s.Audit, err = audit.Open(ctx, c.JS, r); err != nil {
		return nil, err
	}
	return s, nil
}

// ID is the order id of a rating: the same for the same hall, ticket and
// matter, whoever computes it.
func ID(hallID, ticket, matter string) string {
	h := sha256.Sum256([]byte("hallq work order\x00" + hallID + "\x00" + ticket + "\x00" + matter))
	return "wo" + hex.EncodeToString(h[:12])
}

// fallback is the calendar of a hall the province has no calendar for:
// Monday to Friday, in Asia/Shanghai.
var fallback = calendar.Calendar{Zone: "Asia/Shanghai", Weekly: map[string][]calendar.Span{
	"mon": {{From: "09:00", To: "17:00"}}, "tue": {{From: "09:00", To: "17:00"}}, "wed": {{From: "09:00", To: "17:00"}},
	"thu": {{From: "09:00", To: "17:00"}}, "fri": {{From: "09:00", To: "17:00"}}}}

// Deadline is the last of n working days after the civil day of from on
// calendar c, and the instant that day ends. A working day is a day the
// hall opens (a holiday or special closure is none, a 调休 workday is
// one).
func Deadline(c *calendar.Calendar, from time.Time, n int) (string, time.Time) {
	loc := c.Location()
	d := from.In(loc)
	d = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc)
	for i, guard := 0, 0; i < n && guard < 3660; guard++ {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 12, 0, 0, 0, loc)
		if len(c.Intervals(d)) > 0 {
			i++
		}
	}
	end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	return d.Format("2006-01-02"), end
}

func (s *Service) calendarOf(ctx context.Context, hallID string) (*calendar.Calendar, error) {
	h, err := s.halls.Get(ctx, hallID)
	if errors.Is(err, calendars.ErrUnknownHall) {
		c := fallback
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	return &h.Calendar, nil
}

// ratedEvent is what is read of a ticket.rated event.
type ratedEvent struct {
	Type   string       `json:"type"`
	At     time.Time    `json:"at"`
	Ticket *hall.Ticket `json:"ticket"`
}

// Apply makes the work orders of one forwarded hall event (subject
// hall.<id>.events.<type>): one for each low rating the ticket carries,
// created once.
func (s *Service) Apply(ctx context.Context, subject string, data []byte) error {
	parts := strings.Split(subject, ".")
	if len(parts) < 4 || parts[0] != "hall" || parts[2] != "events" {
		return nil
	}
	hallID := parts[1]
	var ev ratedEvent
	if err := json.Unmarshal(data, &ev); err != nil || ev.Ticket == nil {
		s.log.Warn("workorders: unreadable rating event dropped", "subject", subject, "err", err)
		return nil
	}
	t := ev.Ticket
	type rated struct {
		matter string
		name   *catalog.Text
		window int
		clerk  string
		r      *hall.Rating
	}
	var low []rated
	if t.Rating != nil && hall.Low(t.Rating.Score) {
		low = append(low, rated{r: t.Rating, window: t.Window, clerk: t.Clerk})
	}
	for _, m := range t.Matters {
		if m.Rating != nil && hall.Low(m.Rating.Score) {
			name := m.Name
			w, c := m.Window, m.Clerk
			if w == 0 {
				w, c = t.Window, t.Clerk
			}
			low = append(low, rated{matter: m.Code, name: &name, window: w, clerk: c, r: m.Rating})
		}
	}
	if len(low) == 0 {
		return nil
	}
	cal, err := s.calendarOf(ctx, hallID)
	if err != nil {
		return err
	}
	for _, x := range low {
		at := x.r.At
		if at.IsZero() {
			at = ev.At
		}
		due, dueAt := Deadline(cal, at, s.cfg.WorkingDays)
		inds := make([]string, 0, len(x.r.Indicators))
		for _, i := range x.r.Indicators {
			inds = append(inds, string(i))
		}
		o := Order{ID: ID(hallID, t.ID, x.matter), Hall: hallID, Ticket: t.ID, Number: t.Number, Day: t.Day, Service: t.Service,
			Matter: x.matter, MatterName: x.name, Window: x.window, Clerk: x.clerk, Masked: t.MaskedID, Score: x.r.Score,
			Channel: string(x.r.Channel), Reason: x.r.Reason, Indicators: inds, RatedAt: at.In(cal.Location()),
			Created: s.cfg.Clock.Now().In(cal.Location()), Due: due, DueAt: dueAt, Status: Open, FollowUps: []FollowUp{}}
		body, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if _, err := s.kv.Create(ctx, o.ID, body); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
	}
	return nil
}

// Follow consumes the halls' rating events until ctx ends (every process
// may run it: they share the durable consumer). It returns nil when ctx
// ends; while JetStream cannot be reached it keeps trying.
func (s *Service) Follow(ctx context.Context) error {
	var cons jetstream.Consumer
	for {
		var err error
		cons, err = s.cfg.JS.CreateOrUpdateConsumer(ctx, platform.HallsStream, jetstream.ConsumerConfig{
			Durable: Consumer, Description: "work orders: the halls' ratings, the low ones become orders",
			FilterSubject: Subject, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
			DeliverPolicy: jetstream.DeliverAllPolicy, MaxAckPending: 256,
		})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Warn("workorders: cannot bind the rating consumer yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		if err := s.Apply(ctx, m.Subject(), m.Data()); err != nil {
			s.log.Warn("workorders: rating not applied yet; redelivered", "subject", m.Subject(), "err", err)
			_ = m.NakWithDelay(time.Second)
			return
		}
		_ = m.Ack()
	})
	if err != nil {
		return fmt.Errorf("workorders: consuming %s: %w", Consumer, err)
	}
	<-ctx.Done()
	cc.Stop()
	return nil
}

// Refusal is a request refused with a code (platform.Code…) and a reason.
type Refusal struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Reason  string `json:"reason"`
	Field   string `json:"field,omitempty"` // the body field at fault
	Message string `json:"message"`
	// Details repeat the field ({"field": …}) where the pages' shared
	// call() keeps it.
	Details map[string]string `json:"details,omitempty"`
}

func (r *Refusal) Error() string { return r.Message }

// Reasons of refusals.
const (
	ReasonUnknownOrder = "unknown_order"
	ReasonNotFollowed  = "not_followed_up" // closing before a follow-up
	ReasonClosed       = "closed"          // the order is closed already
	ReasonBadField     = "bad_field"
	ReasonBadJSON      = "bad_json"
	ReasonNotYours     = "not_your_hall"
	ReasonChanged      = "changed"
)

func refuse(status int, code, reason, field, format string, args ...any) *Refusal {
	r := &Refusal{Status: status, Code: code, Reason: reason, Field: field, Message: fmt.Sprintf(format, args...)}
	if field != "" {
		r.Details = map[string]string{"field": field}
	}
	return r
}

func (s *Service) mark(o *Order, now time.Time) {
	o.Overdue = o.Status != Closed && !now.Before(o.DueAt)
	if loc := o.DueAt.Location(); loc != nil {
		o.RatedAt, o.Created = o.RatedAt.In(loc), o.Created.In(loc)
	}
}

// Get reads one order.
func (s *Service) Get(ctx context.Context, id string) (Order, error) {
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Order{}, refuse(404, platform.CodeNotFound, ReasonUnknownOrder, "", "there is no work order %q", id)
	}
	if err != nil {
		return Order{}, err
	}
	var o Order
	if err := json.Unmarshal(e.Value(), &o); err != nil {
		return Order{}, fmt.Errorf("workorders: %s: %w", id, err)
	}
	o.Revision = e.Revision()
	s.mark(&o, s.cfg.Clock.Now())
	return o, nil
}

// List reads the orders of the halls may allows, overdue first, then by
// deadline.
func (s *Service) List(ctx context.Context, may func(hall string) bool) ([]Order, error) {
	l, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := []Order{}
	for k := range l.Keys() {
		o, err := s.Get(ctx, k)
		var rf *Refusal
		if errors.As(err, &rf) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if may(o.Hall) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b Order) int {
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra - rb
		}
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func rank(o Order) int {
	switch {
	case o.Overdue:
		return 0
	case o.Status == Closed:
		return 2
	}
	return 1
}

// Who is the staff member acting.
type Who struct{ Name, Role string }

func (s *Service) change(ctx context.Context, id string, fn func(o *Order) error) (Order, Order, error) {
	for attempt := 0; attempt < 10; attempt++ {
		o, err := s.Get(ctx, id)
		if err != nil {
			return Order{}, Order{}, err
		}
		was := o
		was.FollowUps = slices.Clone(o.FollowUps)
		if err := fn(&o); err != nil {
			return Order{}, Order{}, err
		}
		rev := o.Revision
		o.Revision, o.Overdue = 0, false
		body, err := json.Marshal(o)
		if err != nil {
			return Order{}, Order{}, err
		}
		nrev, err := s.kv.Update(ctx, id, body, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
			continue
		}
		if err != nil {
			return Order{}, Order{}, err
		}
		o.Revision = nrev
		s.mark(&o, s.cfg.Clock.Now())
		return was, o, nil
	}
	return Order{}, Order{}, refuse(409, "conflict", ReasonChanged, "", "work order %s keeps changing; read it again", id)
}

func text(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", refuse(400, platform.CodeInvalid, ReasonBadField, field, "%s is required", field)
	}
	if len([]rune(v)) > max {
		return "", refuse(400, platform.CodeInvalid, ReasonBadField, field, "%s is longer than %d characters", field, max)
	}
	return v, nil
}

// FollowUpRequest is the body of POST …/followup.
type FollowUpRequest struct {
	At     time.Time `json:"at"` // when the citizen was reached; zero: now
	How    string    `json:"how"`
	Said   string    `json:"said"`
	Result string    `json:"result"`
}

// AddFollowUp records a 回访 of order id; an open order becomes
// followed_up. A closed order takes none.
func (s *Service) AddFollowUp(ctx context.Context, who Who, id string, f FollowUpRequest, idem string) (Order, error) {
	if !slices.Contains(Ways, f.How) {
		return Order{}, refuse(400, platform.CodeInvalid, ReasonBadField, "how", "how must be one of %s", strings.Join(Ways, ", "))
	}
	var err error
	if f.Said, err = text("said", f.Said, 2000); err != nil {
		return Order{}, err
	}
	if f.Result, err = text("result", f.Result, 2000); err != nil {
		return Order{}, err
	}
	now := s.cfg.Clock.Now()
	if f.At.IsZero() {
		f.At = now
	}
	if f.At.After(now.Add(5 * time.Minute)) {
		return Order{}, refuse(400, platform.CodeInvalid, ReasonBadField, "at", "at (%s) is in the future", f.At.Format(time.RFC3339))
	}
	was, o, err := s.change(ctx, id, func(o *Order) error {
		if o.Status == Closed {
			return refuse(409, "conflict", ReasonClosed, "", "work order %s is closed", id)
		}
		if f.At.Before(o.RatedAt.Add(-time.Minute)) {
			return refuse(400, platform.CodeInvalid, ReasonBadField, "at", "at (%s) is before the rating", f.At.Format(time.RFC3339))
		}
		loc := o.DueAt.Location()
		for _, x := range o.FollowUps { // a retried request adds nothing
			if x.At.Equal(f.At) && x.How == f.How && x.Said == f.Said && x.Result == f.Result {
				return nil
			}
		}
		o.FollowUps = append(o.FollowUps, FollowUp{At: f.At.In(loc), How: f.How, Said: f.Said, Result: f.Result, By: who.Name, Noted: now.In(loc)})
		o.Status = FollowedUp
		return nil
	})
	if err != nil {
		return Order{}, err
	}
	return o, s.record(ctx, who, audit.WorkOrderFollowUp, o, "", idem, map[string]any{"status": was.Status, "follow_ups": len(was.FollowUps)},
		map[string]any{"status": o.Status, "follow_ups": len(o.FollowUps), "how": f.How, "result": f.Result})
}

// CloseRequest is the body of POST …/close.
type CloseRequest struct {
	Note string `json:"note"`
}

// Close closes order id, refused before a follow-up.
func (s *Service) Close(ctx context.Context, who Who, id string, c CloseRequest, idem string) (Order, error) {
	note, err := text("note", c.Note, 2000)
	if err != nil {
		return Order{}, err
	}
	now := s.cfg.Clock.Now()
	was, o, err := s.change(ctx, id, func(o *Order) error {
		switch {
		case o.Status == Closed:
			return refuse(409, "conflict", ReasonClosed, "", "work order %s is closed already", id)
		case len(o.FollowUps) == 0:
			return refuse(409, "conflict", ReasonNotFollowed, "", "work order %s has no follow-up (回访) yet: record one before closing", id)
		}
		o.Status = Closed
		o.Closed = &Closing{At: now.In(o.DueAt.Location()), By: who.Name, Note: note}
		return nil
	})
	if err != nil {
		return Order{}, err
	}
	return o, s.record(ctx, who, audit.WorkOrderClosed, o, note, idem, map[string]any{"status": was.Status}, map[string]any{"status": o.Status})
}

func (s *Service) record(ctx context.Context, who Who, action string, o Order, reason, idem string, before, after any) error {
	id := action + ":" + o.ID + ":" + who.Name + ":" + idem
	if idem == "" {
		id = fmt.Sprintf("%s:%s:%d", action, o.ID, o.Revision)
	}
	return s.Audit.Record(ctx, audit.Entry{ID: id, At: s.cfg.Clock.Now().In(o.DueAt.Location()), Who: who.Name, Role: who.Role,
		Action: action, Hall: o.Hall, Target: o.ID, Reason: reason, Before: audit.State(before), After: audit.State(after)})
}

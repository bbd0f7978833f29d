package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/calendars"
	"hallq/central/platform"
)

// Clock is where the service reads business time from (reminders are
// due by it); leases and back-off use the wall clock.
type Clock interface{ Now() time.Time }

type sysClock struct{}

func (sysClock) Now() time.Time { return time.Now() }

// Config configures a Service.
type Config struct {
	JS       jetstream.JetStream
	Replicas int // default 1
	Clock    Clock
	Log      *slog.Logger

	// Ahead is how few people ahead of a ticket make the "ahead"
	// notification (default 3).
	Ahead int
	// RemindEvening is the hall time "HH:MM" of the reminder on the
	// evening before the slot (default 20:00; "off" for none).
	RemindEvening string
	// RemindBefore is how long before the slot the second reminder goes
	// (default 2h; negative for none).
	RemindBefore time.Duration

	SMS          *SMSConfig   // nil: SMS is off (the API says so)
	VAPIDSubject string       // the VAPID contact (default mailto:notify@hallq.invalid)
	HTTPClient   *http.Client // for the push services and the SMS provider (default: 15 s timeout)
	// PhoneRetention is how long a phone number is kept when no booking or
	// followed ticket needs it (default 24h).
	PhoneRetention time.Duration
	// SweepEvery is how often numbers past PhoneRetention are looked for
	// (default 10 min).
	SweepEvery time.Duration

	LeaseTTL    time.Duration // a sender's claim on an entry (default 30s)
	BaseBackoff time.Duration // first retry after (default 2s), doubling …
	MaxBackoff  time.Duration // … up to (default 10 min)
	MaxAttempts int           // then failed (default 8)
	Poll        time.Duration // how often due entries are looked for (default 200 ms)

	// BeforeSend, when set, runs after an entry is claimed and before it
	// is sent (tests stop a process there).
	BeforeSend func(ctx context.Context, e Entry)
}

func (c *Config) defaults() error {
	if c.Clock == nil {
		c.Clock = sysClock{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Ahead <= 0 {
		c.Ahead = 3
	}
	if c.RemindEvening == "" {
		c.RemindEvening = "20:00"
	}
	if c.RemindEvening != "off" {
		if _, err := time.Parse("15:04", c.RemindEvening); err != nil {
			return fmt.Errorf("notify: the evening reminder %q is not HH:MM (or off)", c.RemindEvening)
		}
	}
	if c.RemindBefore == 0 {
		c.RemindBefore = 2 * time.Hour
	}
	if c.VAPIDSubject == "" {
		c.VAPIDSubject = "mailto:notify@hallq.invalid"
	}
	if !strings.HasPrefix(c.VAPIDSubject, "mailto:") && !strings.HasPrefix(c.VAPIDSubject, "https://") {
		return fmt.Errorf("notify: the VAPID subject %q must be a mailto: or https: URL (RFC 8292)", c.VAPIDSubject)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	if c.PhoneRetention <= 0 {
		c.PhoneRetention = 24 * time.Hour
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = 10 * time.Minute
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 2 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.Poll <= 0 {
		c.Poll = 200 * time.Millisecond
	}
	if c.SMS != nil {
		return c.SMS.check()
	}
	return nil
}

// Service is one central process's notifier; its state is in JetStream.
type Service struct {
	cfg     Config
	id      string
	js      jetstream.JetStream
	subs    jetstream.KeyValue
	outbox  jetstream.KeyValue
	halls   *calendars.Store
	tickets jetstream.KeyValue // central_tickets
	hallsKV jetstream.KeyValue // central_halls
	push    *pushSender
	sms     *smsSender
	log     *slog.Logger
}

// New creates or binds the buckets it needs.
func New(ctx context.Context, c Config) (*Service, error) {
	if c.JS == nil {
		return nil, errors.New("notify: JetStream is needed")
	}
	if err := c.defaults(); err != nil {
		return nil, err
	}
	r := max(c.Replicas, 1)
	var rid [6]byte
	_, _ = rand.Read(rid[:])
	s := &Service{cfg: c, id: hex.EncodeToString(rid[:]), js: c.JS, log: c.Log}
	var err error
	if s.subs, err = platform.OpenKV(ctx, c.JS, jetstream.KeyValueConfig{Bucket: SubsBucket, History: 1,
		Description: "notification choices, push devices, phones while needed, followed tickets", Storage: jetstream.FileStorage, Replicas: r}); err != nil {
		return nil, fmt.Errorf("notify: bucket %s: %w", SubsBucket, err)
	}
	if s.outbox, err = platform.OpenKV(ctx, c.JS, jetstream.KeyValueConfig{Bucket: OutboxBucket, History: 1, TTL: 30 * 24 * time.Hour,
		Description: "notifications decided: pending, sending, sent, dropped, failed", Storage: jetstream.FileStorage, Replicas: r}); err != nil {
		return nil, fmt.Errorf("notify: bucket %s: %w", OutboxBucket, err)
	}
	if s.halls, err = calendars.Open(ctx, c.JS, r); err != nil {
		return nil, err
	}
	b, err := platform.EnsureBuckets(ctx, c.JS, platform.ViewOptions{Replicas: r})
	if err != nil {
		return nil, err
	}
	s.tickets, s.hallsKV = b.Tickets, b.Halls
	v, err := loadVAPID(ctx, s.subs)
	if err != nil {
		return nil, err
	}
	s.push = &pushSender{v: v, subject: c.VAPIDSubject, hc: c.HTTPClient}
	if c.SMS != nil {
		s.sms = &smsSender{c: c.SMS, hc: c.HTTPClient, now: time.Now}
	}
	return s, nil
}

// VAPIDPublicKey is the application server key browsers subscribe with.
func (s *Service) VAPIDPublicKey() string { return s.push.v.Public }

// Run decides and sends until ctx ends: the booking consumer, the ticket
// watcher and the sender.
func (s *Service) Run(ctx context.Context) {
	done := make(chan struct{}, 3)
	for _, f := range []func(context.Context){s.runBookings, s.runTickets, s.runSender} {
		go func() { defer func() { done <- struct{}{} }(); f(ctx) }()
	}
	for range 3 {
		<-done
	}
}

func retry(ctx context.Context, log *slog.Logger, what string, f func(context.Context) error) {
	for ctx.Err() == nil {
		err := f(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn("notify: "+what+" stopped; starting again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// ---- deciding ----

// target is where one notification goes.
type target struct {
	channel Channel
	subs    string // c.<key> or f.…
	device  string
	lang    string
	phone   string // SMS: the number now
}

func (s *Service) citizenTargets(ctx context.Context, citizen string, k Kind) ([]target, error) {
	p, _, err := get[Prefs](ctx, s.subs, "c."+citizen)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []target
	if slices.Contains(p.Push, k) {
		for _, d := range p.Devices {
			out = append(out, target{Push, "c." + citizen, d.ID, d.Lang, ""})
		}
	}
	if slices.Contains(p.SMS, k) && s.sms != nil {
		if ph, _, err := get[Phone](ctx, s.subs, "p."+citizen); err == nil {
			out = append(out, target{SMS, "c." + citizen, "", cmpOr(p.Lang, "zh"), ph.Number})
		}
	}
	return out, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// decide writes one outbox entry per target, each under its stable id;
// an entry already there (decided before, here or elsewhere) stays.
// A final notification (the booking is over) keeps the SMS target's
// number in the entry until it is sent, as the citizen's number goes now.
func (s *Service) decide(ctx context.Context, k Kind, ref string, f facts, due time.Time, ts []target, fill func(*Entry)) error {
	now := s.cfg.Clock.Now()
	for _, t := range ts {
		tid := t.device
		if t.channel == SMS {
			tid = shortHash(t.subs)
		}
		e := Entry{ID: string(k) + "." + ref + "." + string(t.channel) + "." + tid, Kind: k, Channel: t.channel,
			Subs: t.subs, Device: t.device, Msg: message(k, f, t.lang), Due: due, State: Pending, Created: now}
		if fill != nil {
			fill(&e)
		}
		if e.Phone != "" {
			e.Phone = t.phone // final: fill asked for the number
		}
		body, _ := json.Marshal(e)
		if _, err := s.outbox.Create(ctx, e.ID, body); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return err
		}
	}
	return nil
}

// ---- sending ----

func (s *Service) runSender(ctx context.Context) { retry(ctx, s.log, "sender", s.sendLoop) }

type pending struct {
	e   Entry
	rev uint64
}

// sendLoop watches the outbox and sends what is due. This goroutine owns
// the index of entries not yet done; deliveries run beside it and report
// back on done.
func (s *Service) sendLoop(ctx context.Context) error {
	w, err := s.outbox.WatchAll(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	idx := map[string]pending{}
	busy := map[string]bool{}
	done := make(chan string, 64)
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			for len(busy) > 0 {
				delete(busy, <-done)
			}
			return nil
		case u, ok := <-w.Updates():
			if !ok {
				return errors.New("outbox watcher closed")
			}
			if u == nil {
				continue
			}
			var e Entry
			if u.Operation() != jetstream.KeyValuePut || json.Unmarshal(u.Value(), &e) != nil || (e.State != Pending && e.State != Sending) {
				delete(idx, u.Key())
				continue
			}
			idx[u.Key()] = pending{e, u.Revision()}
		case id := <-done:
			delete(busy, id)
		case <-tick.C:
			now, wall := s.cfg.Clock.Now(), time.Now()
			for id, p := range idx {
				if busy[id] || len(busy) >= 16 || p.e.Due.After(now) || p.e.NextAt.After(wall) ||
					p.e.State == Sending && p.e.Until.After(wall) {
					continue
				}
				busy[id] = true
				go func() { defer func() { done <- id }(); s.deliver(ctx, id, p.rev) }()
			}
		}
	}
}

func topic(id string) string {
	h := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(h[:])[:32]
}

// deliver claims the entry at revision rev and sends it.
func (s *Service) deliver(ctx context.Context, id string, rev uint64) {
	e, cur, err := get[Entry](ctx, s.outbox, id)
	if err != nil || cur != rev {
		return // changed meanwhile: the watcher brings the new revision
	}
	e.State, e.Owner, e.Until, e.Attempts = Sending, s.id, time.Now().Add(s.cfg.LeaseTTL), e.Attempts+1
	body, _ := json.Marshal(e)
	claim, err := s.outbox.Update(ctx, id, body, rev)
	if err != nil {
		return // another process claimed it first
	}
	if s.cfg.BeforeSend != nil {
		s.cfg.BeforeSend(ctx, e)
	}
	if ctx.Err() != nil {
		return // stopping: the claim lapses and another process sends
	}
	sendErr := s.send(ctx, &e)
	if ctx.Err() != nil && sendErr != nil {
		return
	}
	now := time.Now()
	e.Owner, e.Until = "", time.Time{}
	final := sendErr == nil || errors.Is(sendErr, errDropped) || errors.Is(sendErr, errGone) || errors.As(sendErr, new(errPermanent)) || e.Attempts >= s.cfg.MaxAttempts
	if final {
		e.Phone = "" // the number served this message only
	}
	var perm errPermanent
	switch {
	case sendErr == nil:
		e.State, e.SentAt, e.Err = Sent, now, ""
	case errors.Is(sendErr, errDropped), errors.Is(sendErr, errGone):
		e.State, e.Err = Dropped, sendErr.Error()
		if errors.Is(sendErr, errGone) {
			s.forgetDevice(ctx, e.Subs, e.Device)
		}
	case errors.As(sendErr, &perm) || e.Attempts >= s.cfg.MaxAttempts:
		e.State, e.Err = Failed, sendErr.Error()
		s.log.Warn("notify: notification failed", "id", e.ID, "attempts", e.Attempts, "err", sendErr)
	default:
		d := s.cfg.BaseBackoff << min(e.Attempts-1, 20)
		d = min(d, s.cfg.MaxBackoff)
		e.State, e.NextAt, e.Err = Pending, now.Add(d), sendErr.Error()
	}
	body, _ = json.Marshal(e)
	if _, err := s.outbox.Update(ctx, id, body, claim); err != nil {
		s.log.Warn("notify: the outcome of a notification was not recorded; its claim lapses", "id", id, "err", err)
	}
}

var errDropped = errors.New("no longer wanted")

// send resolves the entry's target as it is now and sends.
func (s *Service) send(ctx context.Context, e *Entry) error {
	if e.Booking != "" { // a reminder: only for the booking as it still is
		b, err := s.booking(ctx, e.Booking)
		if err != nil {
			return fmt.Errorf("%w: the booking is unreadable (%v)", errDropped, err)
		}
		if b.Status != "booked" || !b.SlotStart.Equal(e.Slot) {
			return fmt.Errorf("%w: the booking is %s for %s", errDropped, b.Status, b.SlotStart.Format(time.RFC3339))
		}
	}
	ttl := 4 * 3600
	if e.Kind == Ahead || e.Kind == Called {
		ttl = 600 // stale within minutes
	}
	key := e.Subs
	if strings.HasPrefix(key, "f.") {
		f, _, err := get[Follow](ctx, s.subs, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return fmt.Errorf("%w: the ticket is no longer followed", errDropped)
		}
		if err != nil {
			return err
		}
		if f.Device != nil {
			return s.push.send(ctx, f.Device.Sub, e.ID, e.Kind, e.Msg, topic(e.ID), ttl)
		}
		key = "c." + f.Citizen // a citizen's follow: their devices and phone
	}
	p, _, err := get[Prefs](ctx, s.subs, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("%w: no choices any more", errDropped)
	}
	if err != nil {
		return err
	}
	switch e.Channel {
	case Push:
		if !slices.Contains(p.Push, e.Kind) {
			return fmt.Errorf("%w: push of %s turned off", errDropped, e.Kind)
		}
		i := slices.IndexFunc(p.Devices, func(d Device) bool { return d.ID == e.Device })
		if i < 0 {
			return fmt.Errorf("%w: the device unsubscribed", errDropped)
		}
		return s.push.send(ctx, p.Devices[i].Sub, e.ID, e.Kind, e.Msg, topic(e.ID), ttl)
	case SMS:
		if !slices.Contains(p.SMS, e.Kind) {
			return fmt.Errorf("%w: SMS of %s turned off", errDropped, e.Kind)
		}
		if s.sms == nil {
			return fmt.Errorf("%w: SMS is not configured", errDropped)
		}
		ph, _, err := get[Phone](ctx, s.subs, "p."+strings.TrimPrefix(key, "c."))
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) && e.Phone != "":
			ph.Number = e.Phone // the booking is over and the number gone with it: this last message still goes
		case errors.Is(err, jetstream.ErrKeyNotFound):
			return fmt.Errorf("%w: the phone number was deleted", errDropped)
		case err != nil:
			return err
		}
		return s.sms.send(ctx, ph.Number, e.Msg, e.ID)
	}
	return errPermanent{"unknown channel " + string(e.Channel)}
}

// forgetDevice removes a push subscription the push service says is gone.
func (s *Service) forgetDevice(ctx context.Context, subs, device string) {
	if strings.HasPrefix(subs, "f.") {
		_, _ = update(ctx, s.subs, subs, func(f *Follow, exists bool) (bool, error) {
			if !exists || f.Device == nil {
				return false, errNoChange
			}
			return true, nil
		})
		return
	}
	_, _ = update(ctx, s.subs, subs, func(p *Prefs, exists bool) (bool, error) {
		n := len(p.Devices)
		p.Devices = slices.DeleteFunc(p.Devices, func(d Device) bool { return d.ID == device })
		if !exists || n == len(p.Devices) {
			return false, errNoChange
		}
		return false, nil
	})
}

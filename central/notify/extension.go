package notify

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"hallq/central/auth"
	"hallq/central/booking"
	"hallq/central/platform"
)

// Extension wires the notifier into a central process (platform.Main's
// extension). authOf gives the citizen authenticator once the booking
// extension has started (booking.AuthenticatorOf); without one the
// citizen routes answer 401 and only the ticket routes serve. Flags:
// -notify-ahead, -notify-remind-evening, -notify-remind-before,
// -notify-sms-config, -notify-vapid-subject (docs/central.md).
func Extension(authOf func() booking.Authenticator) platform.Extension {
	return &extension{authOf: authOf}
}

type extension struct {
	authOf                 func() booking.Authenticator
	ahead                  int
	evening, smsFile, vsub string
	before                 time.Duration
	off                    bool
}

func (e *extension) Flags(fs *flag.FlagSet) {
	fs.BoolVar(&e.off, "notify-off", false, "send no notifications (Web Push, SMS)")
	fs.IntVar(&e.ahead, "notify-ahead", 3, "tell a citizen when this few people are ahead of their ticket")
	fs.StringVar(&e.evening, "notify-remind-evening", "20:00", "hall time of the reminder the evening before a booked slot (HH:MM, or off)")
	fs.DurationVar(&e.before, "notify-remind-before", 2*time.Hour, "the second reminder this long before the slot (0 or negative: none)")
	fs.StringVar(&e.smsFile, "notify-sms-config", "", "SMS provider configuration (JSON, Tencent Cloud SMS; see docs/central.md); empty: no SMS")
	fs.StringVar(&e.vsub, "notify-vapid-subject", "mailto:notify@hallq.invalid", "VAPID contact the push services may write to (mailto: or https:)")
}

func (e *extension) Start(ctx context.Context, p *platform.Process, log *slog.Logger) error {
	if e.off {
		log.Info("notifications off (-notify-off)")
		return nil
	}
	c := Config{JS: p.JS, Replicas: p.Replicas(), Log: log.With("part", "notify"), Ahead: e.ahead,
		RemindEvening: e.evening, RemindBefore: e.before, VAPIDSubject: e.vsub}
	if c.RemindBefore == 0 {
		c.RemindBefore = -1
	}
	if e.smsFile != "" {
		sc, err := LoadSMSConfig(e.smsFile)
		if err != nil {
			return fmt.Errorf("-notify-sms-config: %w", err)
		}
		c.SMS = sc
	}
	svc, err := New(ctx, c)
	if err != nil {
		return err
	}
	var a booking.Authenticator
	if e.authOf != nil {
		a = e.authOf()
	}
	if a == nil {
		a = noAuth{}
		log.Warn("notify: no citizen sign-in (bookings off): only ticket notifications are served")
	}
	for pattern, h := range Routes(svc, a) {
		p.API.Handle(pattern, h)
	}
	go svc.Run(ctx)
	log.Info("notifications served", "sms", c.SMS != nil, "ahead", c.Ahead)
	return nil
}

type noAuth struct{}

func (noAuth) Request(*http.Request) (*auth.Principal, error) { return nil, auth.ErrNoToken }

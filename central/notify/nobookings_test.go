package notify_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/booking"
	"hallq/central/natsembed"
	"hallq/central/notify"
	"hallq/central/platform"
	"hallq/internal/testclock"
)

// A central without bookings (no province key) has no BOOKINGS bucket: the
// notifier waits for its stream, saying so once however long it waits, and
// consumes the booking changes as soon as a booking side makes it.
func TestTheNotifierWaitsQuietlyForBookingsThatStartLater(t *testing.T) {
	ns, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Stop)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := platform.Start(ctx, platform.Config{NATSURLs: ns.URL(), HTTP: "127.0.0.1:0", Log: testLog(t),
		Views: platform.ViewOptions{LeaseTTL: 2 * time.Second, Partitions: 4}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	// Every look the notifier takes for the bookings' stream is a
	// JetStream API request naming it.
	nc, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var looks atomic.Int32
	sub, err := nc.Subscribe("$JS.API.>", func(m *nats.Msg) {
		if strings.Contains(m.Subject, "KV_"+booking.BookingsBucket) {
			looks.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	var logs logBuf
	clock := testclock.New(friday0900)
	n, err := notify.New(ctx, notify.Config{JS: p.JS, Clock: clock, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		LeaseTTL: 2 * time.Second, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	run, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.Run(run) }()
	t.Cleanup(func() { stop(); <-done })

	eventually(t, "the notifier looked for the bookings three times", func() bool { return looks.Load() >= 3 })
	if got := strings.Count(logs.String(), "booking consumer stopped"); got != 0 {
		t.Fatalf("logged %d times that the booking consumer stopped:\n%s", got, logs.String())
	}
	if got := strings.Count(logs.String(), "waiting for their stream"); got != 1 {
		t.Fatalf("said %d times that it waits:\n%s", got, logs.String())
	}

	if _, err := booking.New(ctx, booking.Config{JS: p.JS, ProvinceKey: provinceKey, Clock: clock, Log: testLog(t)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the notifier consumes the booking changes", func() bool {
		_, err := p.JS.Consumer(ctx, "KV_"+booking.BookingsBucket, notify.BookingsConsumer)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Fatal(err)
		}
		return err == nil
	})
	eventually(t, "it says it found the stream", func() bool { return strings.Contains(logs.String(), "stream found") })
	if strings.Contains(logs.String(), "level=WARN") {
		t.Fatalf("warned:\n%s", logs.String())
	}
}

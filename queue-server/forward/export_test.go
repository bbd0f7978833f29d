package forward

import (
	"context"

	"github.com/nats-io/nats.go"

	"hallq/queue-server/hall"
)

// PublishWithoutMark sends one batch from the outbox and does NOT mark it
// forwarded: what a hall killed between publish and mark leaves behind.
func PublishWithoutMark(ctx context.Context, f *Forwarder) (acked uint64, err error) {
	if err := f.sink.start(ctx); err != nil {
		return 0, err
	}
	defer f.sink.close()
	evs, err := f.outbox.Outbox(f.cfg.BatchSize)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	res, err := f.sink.send(ctx, evs)
	return res.acked, err
}

// WireMsg is the JetStream message the NATS sink sends for ev (its subject,
// data and headers) under cfg's hall id: what a benchmark's bare
// JetStream client publishes as its reference.
func WireMsg(cfg Config, ev *hall.Event) (*nats.Msg, error) {
	return (&natsSink{cfg: &cfg}).msg(ev)
}

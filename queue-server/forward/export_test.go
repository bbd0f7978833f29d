package forward

import "context"

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

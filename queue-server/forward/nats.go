package forward

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/hall"
)

// connect opens a NATS connection that never gives up: an unreachable
// server at start is retried in the background, and publishes fail fast
// while disconnected (no reconnect buffer), so nothing queued behind a lost
// message can reach the stream ahead of it.
func connect(cfg *Config, name string, log *slog.Logger, onReconnect func()) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1),
		nats.ReconnectWait(cfg.MinBackoff),
		nats.ReconnectJitter(cfg.MinBackoff, cfg.MinBackoff),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from the central NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to the central NATS", "url", nc.ConnectedUrlRedacted())
			if onReconnect != nil {
				onReconnect()
			}
		}),
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.TLS != nil {
		opts = append(opts, nats.Secure(cfg.TLS))
	}
	nc, err := nats.Connect(cfg.NATSURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("forward: connect to %s: %w", cfg.NATSURL, err)
	}
	return nc, nil
}

type natsSink struct {
	cfg         *Config
	log         *slog.Logger
	onReconnect func()
	nc          *nats.Conn
	js          jetstream.JetStream
	up          atomic.Bool
}

func (s *natsSink) name() string { return "nats" }

func (s *natsSink) start(context.Context) error {
	nc, err := connect(s.cfg, "hallq-forward-"+s.cfg.HallID, s.log, s.onReconnect)
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(s.cfg.AckTimeout),
		jetstream.WithPublishAsyncMaxPending(max(s.cfg.BatchSize, 256)))
	if err != nil {
		nc.Close()
		return err
	}
	s.nc, s.js = nc, js
	s.up.Store(true)
	return nil
}

func (s *natsSink) connected() bool { return s.up.Load() && s.nc.IsConnected() }

func (s *natsSink) close() {
	if s.up.Swap(false) {
		s.nc.Close()
	}
}

// send publishes the batch asynchronously — all of it in flight at once —
// then waits for every ack. It stops publishing at the first error and
// reports the contiguously acknowledged prefix.
func (s *natsSink) send(ctx context.Context, evs []hall.Event) (sendResult, error) {
	var res sendResult
	futs := make([]jetstream.PubAckFuture, 0, len(evs))
	var pubErr error
	for i := range evs {
		data, err := json.Marshal(&evs[i])
		if err != nil {
			pubErr = fmt.Errorf("encode event %d: %w", evs[i].Seq, err)
			break
		}
		m := &nats.Msg{Subject: Subject(s.cfg.HallID, evs[i].Type), Data: data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, MsgID(s.cfg.HallID, evs[i].Seq))
		fut, err := s.js.PublishMsgAsync(m)
		if err != nil {
			pubErr = fmt.Errorf("publish event %d: %w", evs[i].Seq, err)
			break
		}
		futs = append(futs, fut)
	}
	contiguous := true
	var ackErr error
	for i, fut := range futs {
		select {
		case ack := <-fut.Ok():
			if ack.Duplicate {
				res.duplicates++
			}
			if contiguous {
				res.acked = evs[i].Seq
			} else if !ack.Duplicate {
				// Stored past a hole: re-publishing the hole puts it after
				// this one. Consumers following the (hall, seq) rule see it.
				s.log.Error("event stored after an unacknowledged one; the stream is out of order for this hall", "seq", evs[i].Seq)
			}
		case err := <-fut.Err():
			if contiguous {
				ackErr = fmt.Errorf("ack for event %d: %w", evs[i].Seq, err)
			}
			contiguous = false
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	return res, errors.Join(ackErr, pubErr)
}

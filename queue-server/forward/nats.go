package forward

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

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
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
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

// ClientTLS builds the TLS configuration of the link to the central
// platform (NATS, or the HTTPS sink) from PEM files: caFile, when set, is
// the only CA trusted for the central's certificate (a province CA rather
// than the system's); certFile and keyFile, both or neither, are the
// hall's client certificate for a central that verifies halls (mutual
// TLS). It returns nil when no file is given.
func ClientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("forward: the client certificate and its key go together")
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("forward: the central's CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("forward: %s holds no PEM certificate", caFile)
		}
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("forward: the hall's client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

type natsSink struct {
	cfg         *Config
	log         *slog.Logger
	onReconnect func()
	nc          *nats.Conn
	js          jetstream.JetStream
	up          atomic.Bool
	// proven: the last send was stored in full. Until then (at the start,
	// after any failure) the first event of a batch goes alone and the rest
	// only once it is stored, so a stream that appears or a link that comes
	// back in the middle of a pipelined batch cannot store a later event
	// ahead of an earlier one that failed. Only the forwarder's goroutine
	// calls send.
	proven bool
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
// reports the contiguously acknowledged prefix. Until a send has been
// stored in full, the first event is published alone first (see proven).
func (s *natsSink) send(ctx context.Context, evs []hall.Event) (res sendResult, err error) {
	defer func() { s.proven = err == nil }()
	seqs := make([]uint64, len(evs))
	for i := range evs {
		seqs[i] = evs[i].Seq
	}
	return publishInOrder(ctx, s.js, s.cfg.AckTimeout, s.proven, "event", seqs, func(i int) (*nats.Msg, error) { return s.msg(&evs[i]) }, func(seq uint64) {
		// Stored past a hole: re-publishing the hole puts it after
		// this one. Consumers following the (hall, seq) rule see it.
		s.log.Error("event stored after an unacknowledged one; the stream is out of order for this hall", "seq", seq)
	})
}

// publishInOrder publishes the messages msg(0…) numbered seqs (of what:
// "event", "audit record"), in order,
// and reports the highest seq of the contiguously acknowledged prefix.
// Unless proven, the first goes alone until it is stored; the rest are in
// flight at once. outOfOrder is told of a message stored after one that
// failed.
func publishInOrder(ctx context.Context, js jetstream.JetStream, ackTimeout time.Duration, proven bool, what string, seqs []uint64,
	msg func(i int) (*nats.Msg, error), outOfOrder func(seq uint64)) (res sendResult, err error) {
	start := 0
	if !proven {
		m, err := msg(0)
		if err != nil {
			return res, err
		}
		actx, cancel := context.WithTimeout(ctx, ackTimeout)
		ack, err := js.PublishMsg(actx, m)
		cancel()
		if err != nil {
			return res, fmt.Errorf("publish %s %d: %w", what, seqs[0], err)
		}
		res.acked = seqs[0]
		if ack.Duplicate {
			res.duplicates++
		}
		if start = 1; len(seqs) == 1 {
			return res, nil
		}
	}
	futs := make([]jetstream.PubAckFuture, 0, len(seqs)-start)
	var pubErr error
	for i := start; i < len(seqs); i++ {
		m, err := msg(i)
		if err != nil {
			pubErr = err
			break
		}
		fut, err := js.PublishMsgAsync(m)
		if err != nil {
			pubErr = fmt.Errorf("publish %s %d: %w", what, seqs[i], err)
			break
		}
		futs = append(futs, fut)
	}
	contiguous := true
	var ackErr error
	for i, fut := range futs {
		seq := seqs[start+i]
		select {
		case ack := <-fut.Ok():
			if ack.Duplicate {
				res.duplicates++
			}
			if contiguous {
				res.acked = seq
			} else if !ack.Duplicate {
				outOfOrder(seq)
			}
		case err := <-fut.Err():
			if contiguous {
				ackErr = fmt.Errorf("ack for %s %d: %w", what, seq, err)
			}
			contiguous = false
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	return res, errors.Join(ackErr, pubErr)
}

// msg is the JetStream message for one event, with its Nats-Msg-Id.
func (s *natsSink) msg(ev *hall.Event) (*nats.Msg, error) {
	data, err := json.Marshal(onWire(ev))
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", ev.Seq, err)
	}
	m := &nats.Msg{Subject: Subject(s.cfg.HallID, ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, EpochMsgID(s.cfg.HallID, s.cfg.epochOf(ev.Seq), ev.Seq))
	m.Header.Set(HeaderKeyScheme, s.cfg.keyScheme())
	return m, nil
}

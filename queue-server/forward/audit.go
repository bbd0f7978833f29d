package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/audit"
)

// The hall's audit trail (package audit) goes to the province as well,
// record by record, exactly once and in order: its own forwarder, beside
// the events' one, reading the trail file itself (the records are durable
// there) from the forwarded mark (audit.MarkFile) on, and moving the mark
// after each acknowledgement.
//
//   - NATS: each record is one message on AuditSubject (stream HALL_AUDIT
//     at the central), its data the record's line exactly as in audit.log,
//     with Nats-Msg-Id AuditMsgID "<hall-id>:audit:<seq>".
//   - HTTPS: batches are POSTed to Config.AuditHTTPSURL as an AuditBatch,
//     signed like the event batches, with Idempotency-Key
//     "<hall-id>:audit:<first>-<last>". Nothing is ever set aside: a refused
//     batch is retried (and alerted) until the central takes it, as the
//     records must all arrive.

// AuditBlock is how many records share one subject of stream HALL_AUDIT:
// record seq s of a hall goes on hallaudit.<hall-id>.<s / AuditBlock>, so
// the central reads a hall's records a block at a time, newest first.
const AuditBlock = 1000

// AuditSubject is the subject of a hall's audit record seq.
func AuditSubject(hallID string, seq uint64) string {
	return "hallaudit." + hallID + "." + strconv.FormatUint(seq/AuditBlock, 10)
}

// AuditMsgID is the Nats-Msg-Id of a hall's audit record seq.
func AuditMsgID(hallID string, seq uint64) string {
	return hallID + ":audit:" + strconv.FormatUint(seq, 10)
}

// AuditIdempotencyKey is the Idempotency-Key of an HTTPS batch of audit
// records first…last.
func AuditIdempotencyKey(hallID string, first, last uint64) string {
	return hallID + ":audit:" + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10)
}

// AuditBatch is the JSON body of the HTTPS sink's audit POST: the records
// as stored, each its audit.log line.
type AuditBatch struct {
	Hall     string            `json:"hall"`
	FirstSeq uint64            `json:"first_seq"`
	LastSeq  uint64            `json:"last_seq"`
	Records  []json.RawMessage `json:"records"`
}

// AuditStats is the audit forwarder's health, for /healthz and /metrics.
type AuditStats struct {
	Sink         string    `json:"sink"`
	Connected    bool      `json:"connected"`
	ForwardedSeq uint64    `json:"forwarded_seq"` // the mark: the province holds every record through it
	LastSeq      uint64    `json:"last_seq"`      // the trail's last record
	Backlog      uint64    `json:"backlog"`       // records not yet acknowledged
	Sent         uint64    `json:"sent"`          // records acknowledged since start
	Duplicates   uint64    `json:"duplicates"`
	LastAck      time.Time `json:"last_ack,omitzero"`
	LastError    string    `json:"last_error,omitempty"` // cleared by the next success
	LastErrorAt  time.Time `json:"last_error_at,omitzero"`
	Errors       uint64    `json:"errors"`
	Alert        string    `json:"alert,omitempty"` // the central refuses the records: an operator must look; cleared by the next success
}

// AuditForwarder forwards the audit trail in a data directory.
type AuditForwarder struct {
	cfg   Config
	dir   string
	last  func() audit.Head
	log   *slog.Logger
	r     *audit.Reader
	wake  chan struct{}
	retry chan struct{}

	// NATS
	nc     *nats.Conn
	js     jetstream.JetStream
	up     atomic.Bool
	proven bool
	// HTTPS
	client *http.Client

	mu   sync.Mutex
	st   AuditStats
	mark audit.Head
}

// NewAudit returns the forwarder of the trail in dir (audit.FileName,
// audit.MarkFile) over cfg's sink; last reports the trail's last record
// (audit.Log.Last). Run starts it.
func NewAudit(cfg Config, dir string, last func() audit.Head, logger *slog.Logger) (*AuditForwarder, error) {
	if !ValidHallID(cfg.HallID) {
		return nil, fmt.Errorf("forward: hall id %q must be 1–64 characters from A–Z a–z 0–9 _ -", cfg.HallID)
	}
	if (cfg.NATSURL == "") == (cfg.HTTPSURL == "") {
		return nil, errors.New("forward: configure exactly one of the NATS URL and the HTTPS URL")
	}
	if cfg.NATSURL == "" && len(cfg.HTTPSSecret) < 16 {
		return nil, errors.New("forward: the HTTPS sink needs a signing secret of at least 16 bytes")
	}
	cfg.setDefaults()
	if cfg.AuditHTTPSURL == "" && cfg.HTTPSURL != "" {
		cfg.AuditHTTPSURL = strings.TrimSuffix(cfg.HTTPSURL, "/") + "/audit"
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mark, err := audit.ReadMark(dir)
	if err != nil {
		return nil, err
	}
	if last != nil && last().Seq < mark.Seq {
		// the trail ends before what the province acknowledged: audit.log
		// was lost or replaced. Forward the trail there is from its start;
		// the province reports the new beginning.
		logger.Error("the audit trail ends before the records the province acknowledged: it was lost or replaced; forwarding it from its start",
			"forwarded_seq", mark.Seq, "trail_last_seq", last().Seq)
		mark = audit.Head{}
	}
	f := &AuditForwarder{cfg: cfg, dir: dir, last: last, log: logger.With("component", "forward-audit"), r: audit.NewReader(dir),
		wake: make(chan struct{}, 1), retry: make(chan struct{}, 1), mark: mark}
	f.st.Sink = "nats"
	if cfg.NATSURL == "" {
		f.st.Sink = "https"
		f.client = newHTTPSink(&f.cfg).client
	}
	return f, nil
}

// Notify tells the forwarder that records were written; it never blocks.
func (f *AuditForwarder) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Stats returns the audit forwarder's health; safe from any goroutine.
func (f *AuditForwarder) Stats() AuditStats {
	f.mu.Lock()
	s := f.st
	s.ForwardedSeq = f.mark.Seq
	nc := f.nc
	f.mu.Unlock()
	if nc != nil {
		s.Connected = f.up.Load() && nc.IsConnected()
	} else {
		s.Connected = f.client != nil && f.up.Load()
	}
	if f.last != nil {
		s.LastSeq = f.last().Seq
		if s.LastSeq > s.ForwardedSeq {
			s.Backlog = s.LastSeq - s.ForwardedSeq
		}
	}
	return s
}

// Run forwards until ctx is cancelled, then returns nil; an unreachable
// central is waited out.
func (f *AuditForwarder) Run(ctx context.Context) error {
	if f.cfg.NATSURL != "" {
		nc, err := connect(&f.cfg, "hallq-forward-audit-"+f.cfg.HallID, f.log, func() {
			select {
			case f.retry <- struct{}{}:
			default:
			}
			f.Notify()
		})
		if err != nil {
			return err
		}
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(f.cfg.AckTimeout),
			jetstream.WithPublishAsyncMaxPending(max(f.cfg.BatchSize, 256)))
		if err != nil {
			nc.Close()
			return err
		}
		f.mu.Lock()
		f.nc, f.js = nc, js
		f.mu.Unlock()
		f.up.Store(true)
		defer func() { f.up.Store(false); nc.Close() }()
	} else {
		defer f.client.CloseIdleConnections()
	}
	ticker := time.NewTicker(f.cfg.PollInterval)
	defer ticker.Stop()
	attempt := 0
	for ctx.Err() == nil {
		sent, err := f.step(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			attempt++
			d := backoff(f.cfg.MinBackoff, f.cfg.MaxBackoff, attempt)
			f.mu.Lock()
			f.st.LastError, f.st.LastErrorAt = err.Error(), f.cfg.Now()
			f.st.Errors++
			f.mu.Unlock()
			f.log.Warn("forwarding the audit trail failed; retrying", "err", err, "retry_in", d.Round(time.Millisecond), "attempt", attempt)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-f.retry:
			}
			t.Stop()
			continue
		}
		attempt = 0
		if sent {
			continue
		}
		select {
		case <-ctx.Done():
		case <-f.wake:
		case <-ticker.C:
		}
	}
	return nil
}

// step sends the records after the mark, one batch, and moves the mark to
// the last one acknowledged. It reports whether anything was sent.
func (f *AuditForwarder) step(ctx context.Context) (bool, error) {
	lines, err := f.r.After(f.mark.Seq, f.cfg.BatchSize)
	if err != nil {
		return false, fmt.Errorf("read the audit trail: %w", err)
	}
	if len(lines) == 0 {
		return false, nil
	}
	var res sendResult
	if f.js != nil {
		res, err = f.sendNATS(ctx, lines)
	} else {
		res, err = f.sendHTTPS(ctx, lines)
	}
	if res.acked > f.mark.Seq {
		n := 0
		var head audit.Head
		for _, l := range lines {
			if l.Seq > res.acked {
				break
			}
			n++
			head = audit.Head{Seq: l.Seq, Hash: l.Hash}
		}
		if merr := audit.WriteMark(f.dir, head); merr != nil {
			return false, fmt.Errorf("mark the audit trail forwarded: %w", merr)
		}
		f.mu.Lock()
		f.mark = head
		f.st.Sent += uint64(n)
		f.st.Duplicates += uint64(res.duplicates)
		f.st.LastAck = f.cfg.Now()
		if err == nil {
			f.st.LastError, f.st.Alert = "", ""
		}
		f.mu.Unlock()
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

func (f *AuditForwarder) sendNATS(ctx context.Context, lines []audit.Line) (res sendResult, err error) {
	defer func() { f.proven = err == nil }()
	seqs := make([]uint64, len(lines))
	for i := range lines {
		seqs[i] = lines[i].Seq
	}
	return publishInOrder(ctx, f.js, f.cfg.AckTimeout, f.proven, "audit record", seqs, func(i int) (*nats.Msg, error) {
		m := &nats.Msg{Subject: AuditSubject(f.cfg.HallID, lines[i].Seq), Data: lines[i].Data, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, AuditMsgID(f.cfg.HallID, lines[i].Seq))
		return m, nil
	}, func(seq uint64) {
		f.log.Error("audit record stored after an unacknowledged one; the province will report the trail out of order", "seq", seq)
	})
}

func (f *AuditForwarder) sendHTTPS(ctx context.Context, lines []audit.Line) (sendResult, error) {
	b := AuditBatch{Hall: f.cfg.HallID, FirstSeq: lines[0].Seq, LastSeq: lines[len(lines)-1].Seq, Records: make([]json.RawMessage, len(lines))}
	for i := range lines {
		b.Records[i] = lines[i].Data
	}
	body, err := json.Marshal(b)
	if err != nil {
		return sendResult{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.AuditHTTPSURL, bytes.NewReader(body))
	if err != nil {
		return sendResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, Sign(f.cfg.HTTPSSecret, body))
	req.Header.Set(HeaderIdempotency, AuditIdempotencyKey(f.cfg.HallID, b.FirstSeq, b.LastSeq))
	req.Header.Set(HeaderHall, f.cfg.HallID)
	resp, err := f.client.Do(req)
	if err != nil {
		f.up.Store(false)
		return sendResult{}, fmt.Errorf("POST audit records %d–%d: %w", b.FirstSeq, b.LastSeq, err)
	}
	f.up.Store(true)
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return sendResult{acked: b.LastSeq}, nil
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		f.up.Store(false)
		return sendResult{}, fmt.Errorf("POST audit records %d–%d: the central refused the hall's credentials (HTTP %d %s): check the shared secret (-https-sink-secret-file)",
			b.FirstSeq, b.LastSeq, c, bytes.TrimSpace(msg))
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500 || c < 200:
		return sendResult{}, fmt.Errorf("POST audit records %d–%d: HTTP %d %s", b.FirstSeq, b.LastSeq, c, bytes.TrimSpace(msg))
	default:
		err := fmt.Errorf("POST audit records %d–%d: the central refused them (HTTP %d %s); kept and retried, as every record must reach the province", b.FirstSeq, b.LastSeq, c, bytes.TrimSpace(msg))
		f.mu.Lock()
		f.st.Alert = err.Error()
		f.mu.Unlock()
		return sendResult{}, err
	}
}

package forward

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"

	"hallq/queue-server/hall"
)

// Batch is the JSON body the HTTPS sink POSTs.
type Batch struct {
	Hall     string       `json:"hall"`
	Epoch    string       `json:"epoch,omitempty"` // the store epoch of every event in the batch (see EpochMsgID)
	FirstSeq uint64       `json:"first_seq"`
	LastSeq  uint64       `json:"last_seq"`
	Events   []hall.Event `json:"events"`
}

// HTTPS request headers.
const (
	HeaderSignature   = "X-Hallq-Signature" // "sha256=" + lowercase hex HMAC-SHA256(secret, body)
	HeaderIdempotency = "Idempotency-Key"   // "<hall-id>:<first seq>-<last seq>[@<epoch>]"
	HeaderHall        = "X-Hallq-Hall"
	// HeaderKeyScheme (NATS and HTTPS alike) says how the hall keys
	// citizens: KeySchemeSHA256 or KeySchemeSM3. A message without it is
	// from a hall before the 国密 option: hmac-sha256.
	HeaderKeyScheme = "Hallq-Key-Scheme"
)

// Sign returns the X-Hallq-Signature value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks an X-Hallq-Signature value in constant time.
func VerifySignature(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// IdempotencyKey is the Idempotency-Key of a batch of the empty epoch.
func IdempotencyKey(hallID string, first, last uint64) string {
	return hallID + ":" + strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(last, 10)
}

// EpochIdempotencyKey is the Idempotency-Key of a batch of a store epoch:
// "<hall-id>:<first>-<last>@<epoch>" (IdempotencyKey's form for "").
func EpochIdempotencyKey(hallID, epoch string, first, last uint64) string {
	if epoch == "" {
		return IdempotencyKey(hallID, first, last)
	}
	return IdempotencyKey(hallID, first, last) + "@" + epoch
}

type httpSink struct {
	cfg    *Config
	client *http.Client
	up     atomic.Bool
}

func newHTTPSink(cfg *Config) *httpSink {
	c := cfg.HTTPClient
	if c == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.TLS != nil {
			tr.TLSClientConfig = cfg.TLS
		}
		c = &http.Client{Transport: tr, Timeout: cfg.HTTPTimeout}
	}
	return &httpSink{cfg: cfg, client: c}
}

func (s *httpSink) name() string                { return "https" }
func (s *httpSink) start(context.Context) error { return nil }
func (s *httpSink) connected() bool             { return s.up.Load() }
func (s *httpSink) close()                      { s.client.CloseIdleConnections() }

// send POSTs the batch. The forwarder keeps a failed batch unchanged and
// sends exactly the same body again, so the Idempotency-Key of a retry
// matches the first attempt.
func (s *httpSink) send(ctx context.Context, evs []hall.Event) (sendResult, error) {
	first, last := evs[0].Seq, evs[len(evs)-1].Seq
	out := make([]wireEvent, len(evs))
	for i := range evs {
		out[i] = onWire(&evs[i])
	}
	body, err := json.Marshal(struct {
		Batch
		Events []wireEvent `json:"events"`
	}{Batch: Batch{Hall: s.cfg.HallID, Epoch: s.cfg.epochOf(first), FirstSeq: first, LastSeq: last}, Events: out})
	if err != nil {
		return sendResult{}, fmt.Errorf("encode batch %d–%d: %w", first, last, err)
	}
	return s.post(ctx, first, last, body)
}

// post sends one batch's body, signed, with the batch's Idempotency-Key.
func (s *httpSink) post(ctx context.Context, first, last uint64, body []byte) (sendResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.HTTPSURL, bytes.NewReader(body))
	if err != nil {
		return sendResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderSignature, Sign(s.cfg.HTTPSSecret, body))
	req.Header.Set(HeaderIdempotency, EpochIdempotencyKey(s.cfg.HallID, s.cfg.epochOf(first), first, last))
	req.Header.Set(HeaderHall, s.cfg.HallID)
	req.Header.Set(HeaderKeyScheme, s.cfg.keyScheme())
	resp, err := s.client.Do(req)
	if err != nil {
		s.up.Store(false)
		return sendResult{}, fmt.Errorf("POST batch %d–%d: %w", first, last, err)
	}
	s.up.Store(true)
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return sendResult{acked: last}, nil
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		// the hall's credentials, not the batch: every batch would be
		// refused alike, so retry (and count as not connected) until an
		// operator fixes the secret or the central its side
		s.up.Store(false)
		return sendResult{}, fmt.Errorf("POST batch %d–%d: the central refused the hall's credentials (HTTP %d %s): check the shared secret (-https-sink-secret-file)",
			first, last, c, bytes.TrimSpace(msg))
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500 || c < 200:
		return sendResult{}, fmt.Errorf("POST batch %d–%d: HTTP %d %s", first, last, c, bytes.TrimSpace(msg))
	default:
		return sendResult{rejected: &rejection{status: c, reason: string(bytes.TrimSpace(msg)), body: body}}, nil
	}
}

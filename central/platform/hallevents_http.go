package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// The HTTPS ingest of a hall's events (the hall's HTTPS sink, the
// alternative to NATS; docs/central.md "Hall → central over HTTPS"):
//
//	POST /api/v1/halls/{id}   a forward.Batch, signed with the hall's secret
//
// The hall's -https-sink is https://<central>/api/v1/halls/<hall-id>, so
// its audit trail's default, the sink URL + /audit, is the audit ingest
// (hallaudit_http.go). The same URL with a trailing slash is taken too
// (the hall's default audit URL trims it), so a slash copied into the
// hall's setting does not turn every batch into a dead letter.
func (s *Server) registerEventIngestRoutes() {
	s.Handle("POST /api/v1/halls/{id}", http.HandlerFunc(s.eventIngest))
	s.Handle("POST /api/v1/halls/{id}/{$}", http.HandlerFunc(s.eventIngest))
}

// Limits of one HTTPS batch of events. The hall sends 200 events a batch
// by default (forward.Config.BatchSize).
const (
	ingestMaxBody   = 32 << 20
	ingestMaxEvents = 10000
	// ingestPublishTimeout bounds the wait for one event's publish ack.
	ingestPublishTimeout = 10 * time.Second
)

// IngestResult is the answer to an accepted batch: Stored events were
// stored in HALLS now, Duplicates were there already (a batch sent again:
// JetStream's duplicate window knew their message ids, or the hall's
// durable view had applied them) and were not stored again.
type IngestResult struct {
	Stored     int `json:"stored"`
	Duplicates int `json:"duplicates"`
}

// eventIngest takes a batch of a hall's events over HTTPS. In this order:
// the hall's secret (-hall-secrets) and X-Hallq-Hall (403), the body's
// size (413), the signature over the raw body in constant time, before
// anything is parsed (401), the batch itself (400, every fault named: the
// hall sets such a batch aside as a dead letter). Then each event is
// published to HALLS exactly as the hall's NATS sink publishes it — the
// same subject, Nats-Msg-Id and Hallq-Key-Scheme header, the event's JSON
// as the hall wrote it — one at a time and in order, and the batch is
// answered 200 once every event is stored. JetStream unreachable is 503,
// and the hall sends the same batch again: what was stored of it is known
// by its message ids.
//
// A repeat is never applied twice: events the hall's durable view has
// already applied (the batch's epoch is the hall's current one and the seq
// is at most its last) are not published again, and the rest dedupe on
// their message ids within the duplicate window of HALLS (-duplicate-window,
// 24 h; the hall re-sends within its back-off, at most a minute). So a
// batch sent again, however late, is answered 200 and applied once.
func (s *Server) eventIngest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.o.JS == nil {
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "this central process does not take hall events")
		return
	}
	body, ok := s.signedByHall(w, r, id, "events")
	if !ok {
		return
	}
	msgs, epoch, seqs, err := ingestBatch(id, body, r.Header)
	if err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return
	}
	if !s.o.JS.Conn().IsConnected() {
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the central's JetStream is unreachable now; send the batch again")
		return
	}
	applied, err := s.appliedThrough(r.Context(), id, epoch)
	if err != nil {
		s.o.Log.Error("reading a hall's entry for its HTTPS batch", "hall", id, "err", err)
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the hall's entry cannot be read now; send the batch again")
		return
	}
	var res IngestResult
	for i, m := range msgs { // one at a time, in order: none is stored ahead of one that failed
		if seqs[i] <= applied {
			res.Duplicates++
			continue
		}
		ctx, cancel := context.WithTimeout(r.Context(), ingestPublishTimeout)
		ack, err := s.o.JS.PublishMsg(ctx, m)
		cancel()
		if err != nil {
			s.o.Log.Error("storing a hall's HTTPS batch", "hall", id, "seq", seqs[i], "err", err)
			WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, fmt.Sprintf("event %d (seq %d) of %d could not be stored now; send the batch again", i+1, seqs[i], len(msgs)))
			return
		}
		if ack.Duplicate {
			res.Duplicates++
		} else {
			res.Stored++
		}
	}
	WriteJSON(w, http.StatusOK, res)
}

// appliedThrough is the last seq of epoch the hall's durable view has
// applied (0: none, or the view is of another epoch).
// signedByHall reads the body of a hall's HTTPS batch and checks that
// hall id sent it: the hall has a secret here (-hall-secrets), X-Hallq-Hall
// names it, the body is at most ingestMaxBody, and its HMAC signature
// matches — in that order, before anything of the body is parsed. On a
// refusal it has answered and returns false. what names the batch's
// contents in the size error.
func (s *Server) signedByHall(w http.ResponseWriter, r *http.Request, id, what string) ([]byte, bool) {
	secret, ok := s.o.HallSecrets[id]
	if !ok {
		WriteError(w, http.StatusForbidden, CodeForbidden, "hall "+id+" has no HTTPS secret at this central (-hall-secrets)")
		return nil, false
	}
	if hh := r.Header.Get(forward.HeaderHall); hh != id {
		WriteError(w, http.StatusForbidden, CodeForbidden, fmt.Sprintf("%s %q is not hall %s of the URL", forward.HeaderHall, hh, id))
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, ingestMaxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			WriteError(w, http.StatusRequestEntityTooLarge, CodeInvalid, fmt.Sprintf("a batch of %s is at most %d MiB; send fewer a batch (-batch-size)", what, ingestMaxBody>>20))
			return nil, false
		}
		WriteError(w, http.StatusBadRequest, CodeInvalid, "the body could not be read: "+err.Error())
		return nil, false
	}
	if !forward.VerifySignature(secret, body, r.Header.Get(forward.HeaderSignature)) {
		WriteError(w, http.StatusUnauthorized, CodeUnauthorized, forward.HeaderSignature+" does not match the body with hall "+id+"'s secret")
		return nil, false
	}
	return body, true
}

func (s *Server) appliedThrough(ctx context.Context, id, epoch string) (uint64, error) {
	if s.o.Views == nil || s.o.Views.b == nil || s.o.Views.b.Halls == nil {
		return 0, nil
	}
	e, err := s.o.Views.b.Halls.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var st struct {
		Epoch   string `json:"epoch"`
		LastSeq uint64 `json:"last_seq"`
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil || st.Epoch != epoch {
		return 0, nil // judged by message id alone
	}
	return st.LastSeq, nil
}

// ingestBatch checks a signed batch of hall id and makes its events' HALLS
// messages, as the hall's NATS sink would publish them. The error says
// what is wrong with the batch.
func ingestBatch(id string, body []byte, h http.Header) (msgs []*nats.Msg, epoch string, seqs []uint64, err error) {
	var b struct {
		Hall     string            `json:"hall"`
		Epoch    string            `json:"epoch"`
		FirstSeq uint64            `json:"first_seq"`
		LastSeq  uint64            `json:"last_seq"`
		Events   []json.RawMessage `json:"events"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		return nil, "", nil, fmt.Errorf("the body is not a batch of events (JSON): %v", err)
	}
	if dec.More() {
		return nil, "", nil, errors.New("the body has data after the batch")
	}
	switch {
	case b.Hall != id:
		return nil, "", nil, fmt.Errorf("the batch is of hall %q, not of hall %s that %s names", b.Hall, id, forward.HeaderHall)
	case !validEpoch(b.Epoch):
		return nil, "", nil, fmt.Errorf("epoch %q is not a store epoch (1 to 64 lowercase hex digits, or none)", b.Epoch)
	case b.FirstSeq == 0 || b.LastSeq < b.FirstSeq:
		return nil, "", nil, fmt.Errorf("first_seq %d and last_seq %d are not a range of seqs from 1", b.FirstSeq, b.LastSeq)
	case b.LastSeq-b.FirstSeq >= ingestMaxEvents:
		return nil, "", nil, fmt.Errorf("a batch holds at most %d events, this one %d–%d", ingestMaxEvents, b.FirstSeq, b.LastSeq)
	case uint64(len(b.Events)) != b.LastSeq-b.FirstSeq+1:
		return nil, "", nil, fmt.Errorf("events %d–%d are %d events, the batch holds %d", b.FirstSeq, b.LastSeq, b.LastSeq-b.FirstSeq+1, len(b.Events))
	}
	want := forward.EpochIdempotencyKey(id, b.Epoch, b.FirstSeq, b.LastSeq)
	if k := h.Get(forward.HeaderIdempotency); k != want {
		return nil, "", nil, fmt.Errorf("%s %q is not the batch's: want %q", forward.HeaderIdempotency, k, want)
	}
	scheme := h.Get(forward.HeaderKeyScheme)
	if scheme != "" && scheme != forward.KeySchemeSHA256 && scheme != forward.KeySchemeSM3 {
		return nil, "", nil, fmt.Errorf("%s %q is neither %s nor %s", forward.HeaderKeyScheme, scheme, forward.KeySchemeSHA256, forward.KeySchemeSM3)
	}
	msgs, seqs = make([]*nats.Msg, len(b.Events)), make([]uint64, len(b.Events))
	for i, raw := range b.Events {
		seq := b.FirstSeq + uint64(i)
		var ev hall.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, "", nil, fmt.Errorf("event %d (seq %d) is not a hall event: %v", i, seq, err)
		}
		if ev.Seq != seq {
			return nil, "", nil, fmt.Errorf("event %d has seq %d, want %d (the batch is %d–%d, in order)", i, ev.Seq, seq, b.FirstSeq, b.LastSeq)
		}
		if ev.Type == "" {
			return nil, "", nil, fmt.Errorf("event %d (seq %d) has no type", i, seq)
		}
		var data bytes.Buffer
		if err := json.Compact(&data, raw); err != nil {
			return nil, "", nil, fmt.Errorf("event %d (seq %d): %v", i, seq, err)
		}
		m := &nats.Msg{Subject: forward.Subject(id, ev.Type), Data: data.Bytes(), Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, forward.EpochMsgID(id, b.Epoch, seq))
		if scheme != "" { // a hall before the 国密 option sends none, over NATS too
			m.Header.Set(forward.HeaderKeyScheme, scheme)
		}
		msgs[i], seqs[i] = m, seq
	}
	return msgs, b.Epoch, seqs, nil
}

func validEpoch(e string) bool {
	if len(e) > 64 {
		return false
	}
	for _, r := range e {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

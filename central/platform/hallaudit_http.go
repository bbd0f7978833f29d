package platform

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/forward"
)

// The routes of a hall's audit trail at the central (hallaudit.go):
//
//	GET  /api/v1/halls/{id}/audit/head   staff: the last record kept and whether the trail is intact
//	GET  /api/v1/halls/{id}/audit        staff: the records, newest first (?before=SEQ&limit=N)
//	POST /api/v1/halls/{id}/audit        the hall's HTTPS sink: a forward.AuditBatch, signed
func (s *Server) registerAuditRoutes() {
	s.Handle("GET /api/v1/halls/{id}/audit/head", s.staff(s.auditHead))
	s.Handle("GET /api/v1/halls/{id}/audit", s.staff(s.auditRecords))
	s.Handle("POST /api/v1/halls/{id}/audit", http.HandlerFunc(s.auditIngest))
}

// LoadHallSecrets reads the -hall-secrets file: a JSON object of hall id
// to its HTTPS signing secret in hex (at least 32 hex digits, what the
// hall's -https-sink-secret-file holds). An empty path is none.
func LoadHallSecrets(path string) (map[string][]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hall secrets: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("hall secrets %s: want a JSON object of hall id to secret: %v", path, err)
	}
	out := map[string][]byte{}
	for id, sec := range m {
		if !forward.ValidHallID(id) {
			return nil, fmt.Errorf("hall secrets %s: %q is not a hall id", path, id)
		}
		key, err := hex.DecodeString(strings.TrimSpace(sec))
		if err != nil || len(key) < 16 {
			return nil, fmt.Errorf("hall secrets %s: the secret of %s must be at least 32 hex digits", path, id)
		}
		out[id] = key
	}
	return out, nil
}

// AuditHead is GET /api/v1/halls/{id}/audit/head: the trail as the central
// judged it, with its summary in words.
type AuditHead struct {
	AuditTrail
	Intact  bool   `json:"intact"`
	Summary string `json:"summary"`
}

func (s *Server) seeHall(w http.ResponseWriter, r *http.Request, who *Staff, allowed ...string) (string, bool) {
	id := r.PathValue("id")
	if err := query(r, allowed...); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, err.Error())
		return "", false
	}
	if !who.CanSee(id) {
		WriteError(w, http.StatusForbidden, CodeForbidden, who.Name+" may not see hall "+id)
		return "", false
	}
	return id, true
}

func (s *Server) auditHead(w http.ResponseWriter, r *http.Request, who *Staff) {
	id, ok := s.seeHall(w, r, who)
	if !ok {
		return
	}
	t, ok := s.trail(r.Context(), id)
	if !ok {
		WriteError(w, http.StatusNotFound, CodeNotFound, "hall "+id+" has forwarded no audit record")
		return
	}
	WriteJSON(w, http.StatusOK, AuditHead{AuditTrail: *t, Intact: t.Intact(), Summary: t.Summary()})
}

// trail reads a hall's trail from the bucket (the read copy may lag a
// record behind; a verification wants the last one).
func (s *Server) trail(ctx context.Context, id string) (*AuditTrail, bool) {
	if s.o.Views == nil || s.o.Views.b == nil || s.o.Views.b.Audit == nil {
		return nil, false
	}
	e, err := s.o.Views.b.Audit.Get(ctx, auditKey(id))
	if err != nil {
		return s.o.Views.Trail(id)
	}
	var t AuditTrail
	if json.Unmarshal(e.Value(), &t) != nil {
		return nil, false
	}
	return &t, true
}

// AuditPage is GET /api/v1/halls/{id}/audit: records newest first;
// NextBefore, when not 0, is the before= of the next page.
type AuditPage struct {
	Hall       string         `json:"hall"`
	Records    []StoredRecord `json:"records"`
	NextBefore uint64         `json:"next_before,omitempty"`
}

func (s *Server) auditRecords(w http.ResponseWriter, r *http.Request, who *Staff) {
	id, ok := s.seeHall(w, r, who, "before", "limit")
	if !ok {
		return
	}
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			WriteError(w, http.StatusBadRequest, CodeInvalid, "limit must be a whole number from 1 to 500, got "+strconv.Quote(v))
			return
		}
		limit = n
	}
	t, ok := s.trail(r.Context(), id)
	if !ok {
		WriteError(w, http.StatusNotFound, CodeNotFound, "hall "+id+" has forwarded no audit record")
		return
	}
	before := t.LastSeq + 1
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 2 {
			WriteError(w, http.StatusBadRequest, CodeInvalid, "before must be a record seq of 2 or more, got "+strconv.Quote(v))
			return
		}
		before = n
	}
	if s.o.JS == nil {
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "this central process does not serve audit records")
		return
	}
	page := AuditPage{Hall: id, Records: []StoredRecord{}}
	for block := int64((before - 1) / forward.AuditBlock); block >= 0 && len(page.Records) < limit; block-- {
		recs, err := readBlock(r.Context(), s.o.JS, id, uint64(block), 0)
		if err != nil {
			s.o.Log.Error("reading a hall's audit records", "hall", id, "err", err)
			WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "the audit records cannot be read now; try again")
			return
		}
		recs = slices.DeleteFunc(recs, func(x StoredRecord) bool { return x.Seq >= before })
		slices.SortStableFunc(recs, func(a, b StoredRecord) int { return cmp.Or(cmp.Compare(b.Seq, a.Seq), cmp.Compare(b.Stream, a.Stream)) })
		for _, x := range recs {
			if len(page.Records) == limit {
				break
			}
			page.Records = append(page.Records, x)
		}
	}
	if n := len(page.Records); n == limit && page.Records[n-1].Seq > 1 {
		page.NextBefore = page.Records[n-1].Seq
	}
	WriteJSON(w, http.StatusOK, page)
}

// auditIngest takes a hall's audit records over HTTPS (its HTTPS sink):
// the signature over the raw body with the hall's secret first, then each
// record is published to HALL_AUDIT exactly as a hall on NATS publishes it
// (same subject and Nats-Msg-Id, so a batch sent again is stored once) and
// the batch acknowledged once every record is stored. The records are
// judged by the checker like any others.
func (s *Server) auditIngest(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.o.JS == nil {
		WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, "this central process does not take audit records")
		return
	}
	body, ok := s.signedByHall(w, r, id, "audit records")
	if !ok {
		return
	}
	var b forward.AuditBatch
	if err := json.Unmarshal(body, &b); err != nil {
		WriteError(w, http.StatusBadRequest, CodeInvalid, "bad JSON body: "+err.Error())
		return
	}
	if b.Hall != id || len(b.Records) == 0 || len(b.Records) > 10000 {
		WriteError(w, http.StatusBadRequest, CodeInvalid, fmt.Sprintf("the batch must be of hall %s and hold 1 to 10000 records (hall %q, %d records)", id, b.Hall, len(b.Records)))
		return
	}
	msgs := make([]*nats.Msg, len(b.Records))
	for i, raw := range b.Records {
		var peek struct {
			Seq uint64 `json:"seq"`
		}
		if json.Unmarshal(raw, &peek) != nil || peek.Seq < b.FirstSeq || peek.Seq > b.LastSeq {
			WriteError(w, http.StatusBadRequest, CodeInvalid, fmt.Sprintf("record %d has no seq from %d to %d", i, b.FirstSeq, b.LastSeq))
			return
		}
		m := &nats.Msg{Subject: forward.AuditSubject(id, peek.Seq), Data: raw, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, forward.AuditMsgID(id, peek.Seq))
		msgs[i] = m
	}
	dups := 0
	for i, m := range msgs { // one at a time, in order: none is stored ahead of one that failed
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		ack, err := s.o.JS.PublishMsg(ctx, m)
		cancel()
		if err != nil {
			s.o.Log.Error("storing a hall's audit records", "hall", id, "err", err)
			WriteError(w, http.StatusServiceUnavailable, CodeUnavailable, fmt.Sprintf("record %d of %d could not be stored now; send the batch again", i+1, len(msgs)))
			return
		}
		if ack.Duplicate {
			dups++
		}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"stored": len(msgs) - dups, "duplicates": dups})
}

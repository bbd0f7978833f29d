// Package audit is the province's audit trail of staff changes: who (the
// signed-in staff member's name and role), when, what (an action and its
// target), why (a reason where one is asked), and the state before and
// after where it is small. The hall keeps its own trail
// (hallq/queue-server/audit); this one is the platform's.
//
// The trail is the JetStream stream AUDIT (subjects audit.<scope>.<action>,
// scope "province" or a hall id), append-only: the stream denies deleting
// and purging messages, keeps them without a limit of age or count, and
// has the replicas of the platform's other streams. Every central process
// writes to it; an entry's ID is its Nats-Msg-Id, so an entry recorded
// twice by a retried request within the stream's duplicate window is
// stored once. Recent reads the newest entries back, newest first.
//
// No entry holds an ID number, a token or a phone number: a citizen is
// named by the masked number only.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
)

// Stream is the trail's stream.
const Stream = "AUDIT"

// MaxState is the largest Before or After kept; a larger state is
// replaced by a note that it was too large.
const MaxState = 4 << 10

// Actions recorded by the platform.
const (
	BanLifted         = "ban.lifted"
	CatalogPublished  = "catalog.published"
	HallSaved         = "hall.saved"
	WorkOrderFollowUp = "workorder.followed_up"
	WorkOrderClosed   = "workorder.closed"
)

// Entry is one audited change.
type Entry struct {
	ID     string          `json:"id"` // the same ID is stored once
	At     time.Time       `json:"at"`
	Who    string          `json:"who"`  // the staff member's name (the identity provider's subject)
	Role   string          `json:"role"` // province_admin, hall_supervisor
	Action string          `json:"action"`
	Hall   string          `json:"hall,omitempty"` // the hall it concerns; "" province-wide
	Target string          `json:"target"`         // what it changed: a booking, a matter list version, a work order
	Reason string          `json:"reason,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	Seq    uint64          `json:"seq,omitempty"` // the stream's sequence, set when read
}

// State is v as an entry's Before or After: its JSON when at most
// MaxState bytes, else a note.
func State(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{"note":"not representable"}`)
	}
	if len(b) > MaxState {
		return json.RawMessage(fmt.Sprintf(`{"note":"too large to keep (%d bytes)"}`, len(b)))
	}
	return b
}

// Log is the trail as one process writes and reads it.
type Log struct {
	js jetstream.JetStream
	st jetstream.Stream
}

// Open creates or binds the stream (idempotent).
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Log, error) {
	st, err := platform.EnsureStream(ctx, js, jetstream.StreamConfig{
		Name:        Stream,
		Description: "the province's audit trail of staff changes (append-only)",
		Subjects:    []string{"audit.>"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		DenyDelete:  true,
		DenyPurge:   true,
		Duplicates:  10 * time.Minute,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("audit: stream %s: %w", Stream, err)
	}
	return &Log{js: js, st: st}, nil
}

func token(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

// Record appends e. ID, Who, Action and Target are required; At is set
// when zero.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.ID == "" || e.Who == "" || e.Action == "" || e.Target == "" {
		return errors.New("audit: an entry needs an id, who, an action and a target")
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.Seq = 0
	scope := "province"
	if e.Hall != "" {
		scope = token(e.Hall)
	}
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: "audit." + scope + "." + token(e.Action), Data: body, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, e.ID)
	if _, err := l.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Filter chooses entries in Recent.
type Filter struct {
	Halls []string // nil: every entry; else only entries of these halls
	Limit int      // at most this many (default 100, at most 1000)
}

// maxScan bounds how many entries Recent reads looking for matches.
const maxScan = 20000

// Recent returns the newest entries matching f, newest first.
func (l *Log) Recent(ctx context.Context, f Filter) ([]Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	info, err := l.st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := []Entry{}
	first, last := info.State.FirstSeq, info.State.LastSeq
	for seq, n := last, 0; seq >= first && seq > 0 && len(out) < f.Limit && n < maxScan; seq, n = seq-1, n+1 {
		m, err := l.st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		var e Entry
		if json.Unmarshal(m.Data, &e) != nil {
			continue
		}
		if f.Halls != nil && !slices.Contains(f.Halls, e.Hall) {
			continue
		}
		e.Seq = m.Sequence
		out = append(out, e)
	}
	return out, nil
}

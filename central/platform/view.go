package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// HallView is the central's picture of one hall.
type HallView struct {
	Hall      string    `json:"hall"`
	Day       string    `json:"day"` // the latest hall day seen; counters below are for it
	Issued    int       `json:"issued"`
	Served    int       `json:"served"`
	NoShow    int       `json:"no_show"`
	MeanWaitS float64   `json:"mean_wait_s"` // issue → first call, over today's calls
	Ratings   [6]int    `json:"ratings"`     // count per score 1..5
	Remote    int       `json:"remote_issued"`
	LastSeq   uint64    `json:"last_seq"`
	Epoch     string    `json:"epoch,omitempty"` // the hall store's current epoch (see the epoch rule in docs/central.md)
	LastAt    time.Time `json:"last_event_at,omitzero"`
	LagS      float64   `json:"lag_s"` // now − time of the last event seen
	Events    uint64    `json:"events"`
	Summaries int       `json:"day_summaries"`

	// The oracle: with exactly-once, in-order delivery all of these stay 0.
	Duplicates uint64   `json:"duplicates"` // seq ≤ last seen: dropped
	Gaps       uint64   `json:"gaps"`       // sequence numbers skipped
	GapRanges  []string `json:"gap_ranges,omitempty"`
	BadIDs     uint64   `json:"bad_msg_ids"` // Nats-Msg-Id not "<hall>:<seq>[@<epoch>]" for the event
	// Restores counts new epochs after the first (a store restored from a
	// backup, or a new hall under the same id); Superseded counts events of
	// an epoch that a later one replaced, dropped.
	Restores   int    `json:"restores"`
	Superseded uint64 `json:"superseded"`
	// KeySchemeRefused counts events refused because the hall keys
	// citizens another way than the province (keyscheme.go), and
	// KeySchemeError says so.
	KeySchemeRefused uint64 `json:"key_scheme_refused,omitempty"`
	KeySchemeError   string `json:"key_scheme_error,omitempty"`

	old     map[string]bool // epochs replaced by a later one
	waitSum time.Duration
	waitN   int
}

// View consumes stream HALLS into per-hall views. The zero value is not
// usable; call NewView.
type View struct {
	log *slog.Logger
	now func() time.Time
	// KeyScheme is the province's citizen-key scheme (KeySchemeSHA256 when
	// ""); a hall's events of another are refused. Set before Run.
	KeyScheme string

	mu    sync.Mutex
	halls map[string]*HallView
	total uint64
}

// NewView returns an empty view.
func NewView(logger *slog.Logger) *View {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &View{log: logger, now: time.Now, halls: map[string]*HallView{}}
}

// Run consumes HALLS from the beginning with an ordered consumer until ctx
// is cancelled (then it returns nil). The view is in memory and rebuilt
// from the stream on restart.
func (v *View) Run(ctx context.Context, js jetstream.JetStream) error {
	for ctx.Err() == nil {
		err := v.consume(ctx, js)
		if ctx.Err() != nil {
			break
		}
		v.log.Warn("central view consumer stopped; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	return nil
}

func (v *View) consume(ctx context.Context, js jetstream.JetStream) error {
	v.mu.Lock()
	start := v.total
	v.mu.Unlock()
	cfg := jetstream.OrderedConsumerConfig{}
	if start > 0 { // resume after what was applied (stream seq)
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start+1
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	cons, err := js.OrderedConsumer(cctx, HallsStream, cfg)
	cancel()
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err()
			}
			return err
		}
		var streamSeq uint64
		if md, err := msg.Metadata(); err == nil {
			streamSeq = md.Sequence.Stream
		}
		if v.refuseScheme(msg.Subject(), msg.Headers().Get(forward.HeaderKeyScheme), streamSeq) {
			continue
		}
		v.apply(msg.Subject(), msg.Headers().Get(jetstream.MsgIDHeader), msg.Data(), streamSeq)
	}
}

// hallOf extracts the hall id from hall.<id>.events.<type>.
func hallOf(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, "hall.")
	if !ok {
		return "", false
	}
	id, rest, ok := strings.Cut(rest, ".")
	return id, ok && strings.HasPrefix(rest, "events.")
}

func (v *View) apply(subject, msgID string, data []byte, streamSeq uint64) {
	id, ok := hallOf(subject)
	var ev hall.Event
	if err := json.Unmarshal(data, &ev); !ok || err != nil || ev.Seq == 0 {
		v.log.Error("unreadable hall event", "subject", subject, "err", err)
		v.mu.Lock()
		v.total = max(v.total, streamSeq)
		v.mu.Unlock()
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.total = max(v.total, streamSeq)
	h := v.halls[id]
	if h == nil {
		h = &HallView{Hall: id}
		v.halls[id] = h
	}
	mHall, epoch, mSeq, valid := forward.ParseMsgID(msgID)
	if !valid || mHall != id || mSeq != ev.Seq {
		h.BadIDs++
		epoch = h.Epoch // judged by seq alone
	}
	// The epoch rule: a hall's store epoch changes when it is restored from
	// a backup (or a new hall takes the id); sequence numbers are unique
	// within an epoch. Events of the current epoch follow the dedupe rule;
	// a new epoch replaces the current one and numbers from wherever the
	// restored store stopped; events of a replaced epoch are dropped.
	switch {
	case epoch == h.Epoch:
	case h.old[epoch]:
		h.Superseded++
		return
	default:
		if h.Events > 0 || h.LastSeq > 0 {
			if h.old == nil {
				h.old = map[string]bool{}
			}
			h.old[h.Epoch] = true
			h.Restores++
			h.LastSeq = ev.Seq - 1
		}
		h.Epoch = epoch
	}
	// The dedupe rule: (hall-id, epoch, seq) is unique and increasing.
	switch {
	case ev.Seq <= h.LastSeq:
		h.Duplicates++
		return
	case ev.Seq > h.LastSeq+1:
		h.Gaps += ev.Seq - h.LastSeq - 1
		if len(h.GapRanges) < 20 {
			h.GapRanges = append(h.GapRanges, fmt.Sprintf("%d-%d", h.LastSeq+1, ev.Seq-1))
		}
	}
	h.LastSeq, h.LastAt = ev.Seq, ev.At
	h.Events++
	if ev.Day > h.Day {
		*h = HallView{Hall: h.Hall, Day: ev.Day, LastSeq: h.LastSeq, LastAt: h.LastAt, Events: h.Events, Summaries: h.Summaries,
			Duplicates: h.Duplicates, Gaps: h.Gaps, GapRanges: h.GapRanges, BadIDs: h.BadIDs,
			Epoch: h.Epoch, Restores: h.Restores, Superseded: h.Superseded, old: h.old}
	}
	t := ev.Ticket
	switch ev.Type {
	case hall.EvTicketIssued:
		if t != nil && t.Day == h.Day {
			h.Issued++
			if t.Channel == hall.Remote {
				h.Remote++
			}
		}
	case hall.EvTicketCalled:
		if t != nil && t.Recalls == 0 && !t.CalledAt.IsZero() {
			h.waitSum += t.CalledAt.Sub(t.IssuedAt)
			h.waitN++
			h.MeanWaitS = (h.waitSum / time.Duration(h.waitN)).Seconds()
		}
	case hall.EvTicketCompleted:
		h.Served++
	case hall.EvTicketNoShow:
		h.NoShow++
	case hall.EvTicketRated:
		if t != nil && t.Rating != nil && t.Rating.Score >= 1 && t.Rating.Score <= 5 {
			h.Ratings[t.Rating.Score]++
		}
	case hall.EvDayClosed:
		h.Summaries++
	}
}

// Halls returns every hall's view, sorted by hall id.
func (v *View) Halls() []HallView {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	out := make([]HallView, 0, len(v.halls))
	for _, id := range slices.Sorted(maps.Keys(v.halls)) {
		h := *v.halls[id]
		h.GapRanges = slices.Clone(h.GapRanges)
		if !h.LastAt.IsZero() {
			h.LagS = max(0, now.Sub(h.LastAt).Seconds())
		}
		out = append(out, h)
	}
	return out
}

// Hall returns one hall's view.
func (v *View) Hall(id string) (HallView, bool) {
	for _, h := range v.Halls() {
		if h.Hall == id {
			return h, true
		}
	}
	return HallView{}, false
}

// WaitSeq waits until the view has applied hall id's event seq (or
// anything after it).
func (v *View) WaitSeq(ctx context.Context, id string, seq uint64) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		v.mu.Lock()
		h := v.halls[id]
		done := h != nil && h.LastSeq >= seq
		v.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hall %s: waiting for seq %d: %w", id, seq, ctx.Err())
		case <-t.C:
		}
	}
}

// ServeHTTP serves GET /halls: the JSON list of hall views.
func (v *View) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"halls": v.Halls()})
}

// Handler routes GET /halls to the view.
func (v *View) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /halls", v)
	return mux
}

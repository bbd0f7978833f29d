package platform_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

// The hall time zone of the tests (not UTC).
var shanghai = time.FixedZone("CST", 8*3600)

// simHall plays a hall's day as the events its store would commit: a
// window opens, then for each ticket i it is issued and ticket i-3 is
// called, started, completed and (every third) rated 5 — so three tickets
// are waiting at the end. It knows the exact views that must result.
type simHall struct {
	ID, Epoch, Day string
	Events         []hall.Event
	Tickets        []string // ticket ids in issue order
}

func newSimHall(id string, tickets int) *simHall {
	h := &simHall{ID: id, Epoch: "9f2c4e01a7b3d655", Day: "2026-11-27"}
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, shanghai)
	tk := map[int]*hall.Ticket{}
	add := func(typ string, t *hall.Ticket, w *hall.Window) {
		at = at.Add(10 * time.Second)
		ev := hall.Event{Seq: uint64(len(h.Events) + 1), Type: typ, At: at, Day: h.Day, Window: w}
		if t != nil {
			c := *t
			ev.Ticket = &c
		}
		h.Events = append(h.Events, ev)
	}
	add(hall.EvWindowOpened, nil, &hall.Window{Number: 1, Services: []string{"A"}, Status: hall.WindowOpen, Since: at})
	for i := 0; i < tickets+3; i++ {
		if i < tickets {
			t := &hall.Ticket{ID: fmt.Sprintf("%s-t%05d", strings.ToLower(id), i), Number: fmt.Sprintf("A%03d", i+1), Service: "A",
				Day: h.Day, Channel: hall.WalkIn, Status: hall.Waiting, IssuedAt: at, QueuedAt: at}
			tk[i] = t
			h.Tickets = append(h.Tickets, t.ID)
			add(hall.EvTicketIssued, t, nil)
		}
		if t := tk[i-3]; i >= 3 && i-3 < tickets-3 {
			t.Status, t.Window, t.CalledAt = hall.Called, 1, at
			add(hall.EvTicketCalled, t, nil)
			t.Status, t.StartedAt = hall.Serving, at
			add(hall.EvTicketStarted, t, nil)
			t.Status, t.FinishedAt = hall.Done, t.StartedAt.Add(2*time.Minute)
			add(hall.EvTicketCompleted, t, nil)
			if (i-3)%3 == 0 {
				t.Rating = &hall.Rating{Score: 5, At: at}
				add(hall.EvTicketRated, t, nil)
			}
		}
	}
	return h
}

func (h *simHall) served() int { return len(h.Tickets) - 3 }

func (h *simHall) rated() int { return (h.served() + 2) / 3 }

func (h *simHall) msg(i int) *nats.Msg {
	ev := h.Events[i]
	data, _ := json.Marshal(ev)
	if strings.HasPrefix(ev.Reason, "{") { // raw fields to add to the event's JSON (tests of spellings)
		ev.Reason = ""
		data, _ = json.Marshal(ev)
		data = append(append(data[:len(data)-1], ','), ev2raw(h.Events[i].Reason)...)
	}
	m := &nats.Msg{Subject: forward.Subject(h.ID, ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("%s:%d@%s", h.ID, ev.Seq, h.Epoch))
	return m
}

// publish sends events from … to (exclusive) the way the forwarder does:
// a batch in flight, then every ack; a failed batch is sent again whole
// (JetStream's duplicate window drops what was stored already).
func (h *simHall) publish(ctx context.Context, t testing.TB, js jetstream.JetStream, from, to, batch int) {
	for i := from; i < to; {
		n := min(batch, to-i)
		var futs []jetstream.PubAckFuture
		ok := true
		for j := i; j < i+n; j++ {
			f, err := js.PublishMsgAsync(h.msg(j))
			if err != nil {
				ok = false
				break
			}
			futs = append(futs, f)
		}
		for _, f := range futs {
			select {
			case <-f.Ok():
			case <-f.Err():
				ok = false
			case <-ctx.Done():
				return
			}
		}
		if ok && len(futs) == n {
			i += n
			continue
		}
		select { // the central's NATS is away: back off and send the batch again
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// staffFile writes a static token file with an admin and a supervisor of
// one hall; it returns the file and the two tokens.
func staffFile(t testing.TB, supervised string) (path, admin, super string) {
	t.Helper()
	admin, super = "admin-token-0123456789", "super-token-0123456789"
	sum := func(s string) string { x := sha256.Sum256([]byte(s)); return hex.EncodeToString(x[:]) }
	body := fmt.Sprintf(`{"staff":[{"name":"ops","role":"province_admin","token_sha256":%q},{"name":"sup","role":"hall_supervisor","halls":[%q],"token_sha256":%q}]}`,
		sum(admin), supervised, sum(super))
	path = filepath.Join(t.TempDir(), "staff.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, admin, super
}

// getJSON GETs url with an optional bearer token and decodes the answer.
func getJSON(t testing.TB, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %d %q: %v", url, res.StatusCode, body, err)
		}
	}
	return res.StatusCode
}

// waitHall waits until the hall's entry in JetStream has applied seq last,
// failing when nothing moved for 90 s (a stalled applier, not a slow disk
// or a partition waiting for a dead process's lease to run out).
func waitHall(t testing.TB, p *platform.Process, id string, last uint64) platform.HallState {
	b := p.Buckets
	t.Helper()
	var prev uint64
	moved := time.Now()
	for {
		var st platform.HallState
		if e, err := b.Halls.Get(context.Background(), id); err == nil {
			_ = json.Unmarshal(e.Value(), &st)
		}
		if st.LastSeq >= last {
			return st
		}
		if st.LastSeq != prev {
			prev, moved = st.LastSeq, time.Now()
		}
		if time.Since(moved) > 90*time.Second {
			var inStream uint64
			if s, err := p.JS.Stream(context.Background(), platform.HallsStream); err == nil {
				if si, err := s.Info(context.Background(), jetstream.WithSubjectFilter("hall."+id+".events.>")); err == nil {
					for _, n := range si.State.Subjects {
						inStream += n
					}
				}
			}
			t.Fatalf("hall %s stuck at seq %d of %d (the stream holds %d of its events)", id, st.LastSeq, last, inStream)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// ev2raw turns `{"k":v}` into `"k":v}` to splice into an event's JSON.
func ev2raw(obj string) []byte { return []byte(obj[1:]) }

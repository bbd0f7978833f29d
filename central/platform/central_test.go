package platform_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/central/platform"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
)

func mustJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv, err := natsembed.Start(natsembed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := platform.EnsureStreams(t.Context(), js, platform.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	return js
}

func publishEvent(t *testing.T, js jetstream.JetStream, hallID string, ev hall.Event, msgID string) {
	t.Helper()
	data, _ := json.Marshal(ev)
	m := &nats.Msg{Subject: forward.Subject(hallID, ev.Type), Data: data, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	if _, err := js.PublishMsg(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

// The oracle reports gaps and duplicates per hall, and the view is served
// at GET /halls.
func TestViewReportsGapsAndDuplicates(t *testing.T) {
	js := mustJS(t)
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	tk := func(seq uint64, typ string) hall.Event {
		t := &hall.Ticket{ID: "t" + strconv.FormatUint(seq, 10), Day: "2026-11-27", Channel: hall.WalkIn, IssuedAt: at, CalledAt: at.Add(2 * time.Minute)}
		if typ == hall.EvTicketRated {
			t.Rating = &hall.Rating{Score: 4}
		}
		return hall.Event{Seq: seq, Type: typ, At: at, Day: "2026-11-27", Ticket: t}
	}
	// hall A: 1, 2, 2 (a copy outside the duplicate window), 5 (3–4 missing)
	publishEvent(t, js, "A-1", tk(1, hall.EvTicketIssued), "A-1:1")
	publishEvent(t, js, "A-1", tk(2, hall.EvTicketCalled), "A-1:2")
	publishEvent(t, js, "A-1", tk(2, hall.EvTicketCalled), "A-1:2#late-copy")
	publishEvent(t, js, "A-1", tk(5, hall.EvTicketRated), "A-1:5")
	publishEvent(t, js, "A-1", tk(5, hall.EvTicketRated), "A-1:5") // dropped by JetStream
	// hall B: clean
	publishEvent(t, js, "B-2", tk(1, hall.EvTicketIssued), "B-2:1")
	publishEvent(t, js, "B-2", tk(2, hall.EvTicketCompleted), "B-2:2")

	v := platform.NewView(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); v.Run(ctx, js) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := v.WaitSeq(wctx, "A-1", 5); err != nil {
		t.Fatal(err)
	}
	if err := v.WaitSeq(wctx, "B-2", 2); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(v.Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/halls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Halls []platform.HallView }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Halls) != 2 {
		t.Fatalf("GET /halls: %v %+v", err, body)
	}
	a, b := body.Halls[0], body.Halls[1]
	if a.Hall != "A-1" || a.Duplicates != 1 || a.Gaps != 2 || len(a.GapRanges) != 1 || a.GapRanges[0] != "3-4" ||
		a.BadIDs != 1 || a.LastSeq != 5 || a.Issued != 1 || a.Ratings[4] != 1 || a.MeanWaitS != 120 || a.LagS <= 0 {
		t.Fatalf("hall A: %+v", a)
	}
	if b.Hall != "B-2" || b.Duplicates != 0 || b.Gaps != 0 || b.Served != 1 || b.LastSeq != 2 {
		t.Fatalf("hall B: %+v", b)
	}
}

func TestCitizenKey(t *testing.T) {
	// GB 11643's example number; lowercase x and spaces normalise away.
	id := "11010519491231002X"
	k1, err := platform.CitizenKey([]byte("k"), id)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := platform.CitizenKey([]byte("k"), " 110105194912310 02x ")
	if k1 != k2 || len(k1) != 64 {
		t.Fatalf("%s %s", k1, k2)
	}
	if _, err := platform.CitizenKey([]byte("k"), "110105194912310021"); err == nil {
		t.Fatal("bad check character accepted")
	}
	if m := platform.MaskID(id); m != "1101**********002X" {
		t.Fatal(m)
	}
	t.Logf("example key: %s", k1)
}

// Main serves the view at the address it logs, and stops cleanly when
// asked to — also while it is still starting (under load, setting up the
// streams can take longer than any fixed wait).
func TestMainRuns(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &lineWriter{t: t, lines: make(chan string, 100)}
	errc := make(chan error, 1)
	go func() {
		errc <- platform.Main(ctx, []string{"-data", t.TempDir(), "-nats-listen", "127.0.0.1:0", "-http", "127.0.0.1:0"}, logs)
	}()
	var url string
	for url == "" {
		select {
		case line := <-logs.lines:
			if strings.Contains(line, `msg="central view"`) {
				_, rest, _ := strings.Cut(line, "url=")
				url, _, _ = strings.Cut(rest, " ")
				url = strings.TrimSpace(url)
			}
		case err := <-errc:
			t.Fatalf("Main returned before serving the view: %v", err)
		}
	}
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Halls []platform.HallView }
	err = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || err != nil || body.Halls == nil {
		t.Fatalf("GET %s: %d %v %+v", url, res.StatusCode, err, body)
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// Stopped before it could set anything up, Main says nothing went wrong.
func TestMainStoppedWhileStarting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := platform.Main(ctx, []string{"-data", t.TempDir(), "-nats-listen", "127.0.0.1:0", "-http", "127.0.0.1:0"}, testWriter{t}); err != nil {
		t.Fatalf("a stop while starting is an error: %v", err)
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// lineWriter logs what Main writes and hands each line to the test.
type lineWriter struct {
	t     *testing.T
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		select {
		case w.lines <- l:
		default:
		}
	}
	return len(p), nil
}

// The example in docs/central.md.
func TestDocExampleCitizenKey(t *testing.T) {
	k, err := platform.CitizenKey([]byte("example-province-key"), "11010519491231002X")
	if err != nil || k != "66f10242fe50b08a2f3f0154c3255228b970936d0fd9027d2e67fc080e0d00f5" {
		t.Fatalf("%s %v", k, err)
	}
}

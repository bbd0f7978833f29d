package forward_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// backlog commits n synthetic ticket.issued events straight through
// Store.Commit, in large batches.
func backlog(b *testing.B, s *store.Store, n int) {
	b.Helper()
	st, err := s.OutboxStats()
	if err != nil {
		b.Fatal(err)
	}
	seq := st.Last
	const chunk = 10_000
	for done := 0; done < n; {
		evs := make([]hall.Event, 0, chunk)
		for range min(chunk, n-done) {
			seq++
			done++
			evs = append(evs, benchEvent(seq))
		}
		if err := s.Commit(evs); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvent is the synthetic ticket.issued event number seq of a backlog.
func benchEvent(seq uint64) hall.Event {
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, cst)
	key := make([]byte, 32)
	rand.Read(key)
	num := int(seq)
	t := &hall.Ticket{ID: fmt.Sprintf("bench%011d", seq), Number: hall.FormatNumber("A", num%1_000_000, 6), Service: "A", Day: "2026-11-27",
		Channel: hall.WalkIn, Status: hall.Waiting, CitizenKey: hex.EncodeToString(key), MaskedID: "4201**********1234",
		AgeClass: hall.AgeAdult, IssuedAt: at, QueuedAt: at, Kiosk: "kiosk-1"}
	return hall.Event{Seq: seq, Type: hall.EvTicketIssued, At: at, Day: "2026-11-27", Actor: "kiosk-1", Ticket: t,
		Counter: &hall.Counter{Day: "2026-11-27", Service: "A", Last: num}}
}

func drain(b *testing.B, h *Hall, cfg forward.Config, n int) (rate float64) {
	b.Helper()
	for range b.N {
		b.StopTimer()
		backlog(b, h.Store, n)
		last := h.LastSeq(b)
		b.StartTimer()
		start := time.Now()
		f, stop := h.StartForwarder(b, cfg)
		for {
			st, _ := h.Store.OutboxStats()
			if st.Forwarded >= last {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		el := time.Since(start)
		b.StopTimer()
		stop()
		if st := f.Stats(); st.LastError != "" && st.Sent < uint64(n) {
			b.Fatalf("forwarder: %+v", st)
		}
		rate = float64(n) / el.Seconds()
		b.ReportMetric(rate, "events/s")
		b.StartTimer()
	}
	b.StopTimer()
	entries, bytes, err := h.Store.OutboxBytes()
	if err == nil && entries > 0 {
		b.ReportMetric(float64(bytes)/float64(entries), "outbox-B/event")
	}
	return rate
}

// BenchmarkDrainJetStream drains a 100k-event backlog to the embedded
// JetStream. With sync_interval always the server fsyncs every message, so
// the rate is bounded by the disk: fsync-ratio is events/s divided by this
// machine's rate of small synced writes (1.0 = the disk's limit). The
// in-run reference raw-events/s is what a bare JetStream client reaches
// on the same server, publishing the same messages (subject, data,
// headers; encoded in advance) with 4096 in flight and no store behind it (half before the drain, half
// after, so a change of load during the run weighs on both); of-raw is
// events/s divided by it (1.0 = the forwarder costs nothing over
// JetStream itself). The relaxed variant (sync every 2 min) shows the
// forwarder's own ceiling.
func BenchmarkDrainJetStream(b *testing.B) {
	for _, v := range []struct {
		name string
		sync time.Duration
	}{{"sync-always", 0}, {"sync-2m", 2 * time.Minute}} {
		b.Run(v.name, func(b *testing.B) {
			c := mustCentralOpts(b, natsembed.Options{Dir: b.TempDir(), SyncInterval: v.sync})
			h := MustHall(b, "", fastConfig(), nil)
			const n = 100_000
			before := rawPublishRate(b, c, n/2, 4096)
			rate := drain(b, h, forward.Config{NATSURL: c.Srv.URL(), Retention: -1}, n)
			raw := (before + rawPublishRate(b, c, n/2, 4096)) / 2
			b.ReportMetric(raw, "raw-events/s")
			b.ReportMetric(rate/raw, "of-raw")
			if v.sync == 0 {
				b.ReportMetric(rate/fsyncRate(b), "fsync-ratio")
			}
		})
	}
}

// rawPublishRate publishes n backlog events to the stream HALLS as the
// NATS sink would (the same subject, data and headers; forward.WireMsg),
// under a hall id of their own, encoded before the clock starts, with up
// to window unacknowledged, and returns the acknowledged messages per
// second.
func rawPublishRate(b *testing.B, c *Central, n, window int) float64 {
	b.Helper()
	nc, err := nats.Connect(c.Srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window+1))
	if err != nil {
		b.Fatal(err)
	}
	raws.Add(1)
	cfg := forward.Config{HallID: fmt.Sprintf("420102-raw%d", raws.Load())}
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		ev := benchEvent(uint64(i + 1))
		if msgs[i], err = forward.WireMsg(cfg, &ev); err != nil {
			b.Fatal(err)
		}
	}
	futs := make([]jetstream.PubAckFuture, 0, n)
	wait := func(f jetstream.PubAckFuture) {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			b.Fatal(err)
		}
	}
	start := time.Now()
	for i, m := range msgs {
		if i >= window {
			wait(futs[i-window])
		}
		f, err := js.PublishMsgAsync(m)
		if err != nil {
			b.Fatal(err)
		}
		futs = append(futs, f)
	}
	for _, f := range futs[max(0, n-window):] {
		wait(f)
	}
	return float64(n) / time.Since(start).Seconds()
}

// raws numbers rawPublishRate's runs: each publishes under a hall id of its own.
var raws atomic.Int64

// fsyncRate measures synced 600-byte appends per second in a temp dir.
func fsyncRate(b *testing.B) float64 {
	f, err := os.Create(filepath.Join(b.TempDir(), "fsync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 600)
	const n = 1000
	start := time.Now()
	for range n {
		f.Write(buf)
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
	}
	return n / time.Since(start).Seconds()
}

// BenchmarkDrainHTTPS drains a 100k-event backlog to an httptest server
// that checks each batch's signature.
func BenchmarkDrainHTTPS(b *testing.B) {
	secret := []byte("bench-secret-0123456789abcdef")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !forward.VerifySignature(secret, body, r.Header.Get(forward.HeaderSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
		}
	}))
	b.Cleanup(srv.Close)
	h := MustHall(b, "", fastConfig(), nil)
	drain(b, h, forward.Config{HTTPSURL: srv.URL, HTTPSSecret: secret, HTTPClient: srv.Client(), BatchSize: 500, Retention: -1}, 100_000)
}

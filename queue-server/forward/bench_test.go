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
	"testing"
	"time"

	"hallq/central/natsembed"
	"hallq/queue-server/forward"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// backlog commits n synthetic ticket.issued events straight through
// Store.Commit, in large batches.
func backlog(b *testing.B, s *store.Store, n int) {
	b.Helper()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, cst)
	st, err := s.OutboxStats()
	if err != nil {
		b.Fatal(err)
	}
	seq := st.Last
	const chunk = 10_000
	key := make([]byte, 32)
	for done := 0; done < n; {
		evs := make([]hall.Event, 0, chunk)
		for range min(chunk, n-done) {
			seq++
			done++
			rand.Read(key)
			num := int(seq)
			t := &hall.Ticket{ID: fmt.Sprintf("bench%011d", seq), Number: hall.FormatNumber("A", num%1_000_000, 6), Service: "A", Day: "2026-11-27",
				Channel: hall.WalkIn, Status: hall.Waiting, CitizenKey: hex.EncodeToString(key), MaskedID: "4201**********1234",
				AgeClass: hall.AgeAdult, IssuedAt: at, QueuedAt: at, Kiosk: "kiosk-1"}
			evs = append(evs, hall.Event{Seq: seq, Type: hall.EvTicketIssued, At: at, Day: "2026-11-27", Actor: "kiosk-1", Ticket: t,
				Counter: &hall.Counter{Day: "2026-11-27", Service: "A", Last: num}})
		}
		if err := s.Commit(evs); err != nil {
			b.Fatal(err)
		}
	}
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
// relaxed variant (sync every 2 min) shows the forwarder's own ceiling.
func BenchmarkDrainJetStream(b *testing.B) {
	for _, v := range []struct {
		name string
		sync time.Duration
	}{{"sync-always", 0}, {"sync-2m", 2 * time.Minute}} {
		b.Run(v.name, func(b *testing.B) {
			c := mustCentralOpts(b, natsembed.Options{Dir: b.TempDir(), SyncInterval: v.sync})
			h := MustHall(b, "", fastConfig(), nil)
			rate := drain(b, h, forward.Config{NATSURL: c.Srv.URL(), Retention: -1}, 100_000)
			if v.sync == 0 {
				b.ReportMetric(rate/fsyncRate(b), "fsync-ratio")
			}
		})
	}
}

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

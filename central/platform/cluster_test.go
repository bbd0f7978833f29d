package platform_test

import (
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"hallq/central/natsembed"
	"hallq/central/platform"
)

func mustCluster(t testing.TB) (*natsembed.Cluster, jetstream.JetStream) {
	t.Helper()
	c, err := natsembed.StartCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	nc, err := nats.Connect(c.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	return c, js
}

// On a three-node NATS cluster (streams and buckets with 3 replicas), two
// central processes apply ten thousand events from four halls while one
// NATS node and one central process are killed mid-stream: every view
// exact, 0 gaps, 0 duplicates, and a third process started afterwards
// answers the same.
func TestClusterViewsExactWhileANodeAndAProcessDie(t *testing.T) {
	c, js := mustCluster(t)
	staff, admin, _ := staffFile(t, "C-1")
	// The default lease TTL: on a loaded machine a 3-replica write can take
	// seconds, and shorter leases would move all the time.
	cfg := platform.Config{StaffTokens: staff, Views: platform.ViewOptions{Replicas: 3, LeaseTTL: 10 * time.Second}}
	p1 := mustProcess(t, c.URLs(), cfg)
	p2 := mustProcess(t, c.URLs(), cfg)
	for _, b := range []string{platform.HallsStream, "KV_" + platform.HallsBucket, "KV_" + platform.TicketsBucket} {
		s, err := js.Stream(t.Context(), b)
		if err != nil || s.CachedInfo().Config.Replicas != 3 {
			t.Fatalf("%s: %v replicas %d", b, err, s.CachedInfo().Config.Replicas)
		}
	}
	halls := []*simHall{newSimHall("C-1", 580), newSimHall("C-2", 580), newSimHall("C-3", 580), newSimHall("C-4", 580)}
	var wg sync.WaitGroup
	for _, h := range halls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.publish(t.Context(), t, js, 0, len(h.Events), 200)
		}()
	}
	waitHall(t, p1, "C-1", 1000)
	c.Kill(1) // one NATS node of three: the quorum stays
	p1.Kill() // and a central process, as a crash
	waitHall(t, p2, "C-2", 1800)
	p3 := mustProcess(t, c.URLs(), cfg)
	wg.Wait()
	for _, h := range halls {
		waitHall(t, p3, h.ID, uint64(len(h.Events)))
	}
	if err := c.Restart(1); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*platform.Process{p2, p3} {
		for _, h := range halls {
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if st, ok := p.Views.Hall(h.ID); ok && st.LastSeq == uint64(len(h.Events)) {
					break
				}
			}
			checkSim(t, p.URL(), admin, h)
		}
	}
}

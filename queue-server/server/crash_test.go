package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// TestCrashKill9KeepsEveryAcknowledgedTicket runs the real server in a
// child process, issues tickets from several clients, kills the process
// with SIGKILL at a random moment, restarts it and checks: every ticket
// acknowledged to a client exists, no number was issued twice, and the
// event log has no gaps and matches the outbox. HALLQ_CRASH_ROUNDS sets the
// number of rounds (make chaos runs 50).
func TestCrashKill9KeepsEveryAcknowledgedTicket(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("HALLQ_CRASH_ROUNDS")); err == nil {
		rounds = v
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	rng := rand.New(rand.NewPCG(7, 7))
	acked := map[string]string{} // id → number
	var mu sync.Mutex
	for round := range rounds {
		cmd := startChild(t, dir, addr)
		tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
		c := client.New("http://"+addr, strings.TrimSpace(string(tok)))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					tk, err := c.Issue(ctx, fmt.Sprintf("r%d-w%d-%d", round, w, i), hall.IssueRequest{Service: "E"})
					if err == nil {
						mu.Lock()
						acked[tk.ID] = tk.Number
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cancel()
		wg.Wait()
	}
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.Events(0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	numbers := map[string]string{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event log gap at %d: seq %d", i, ev.Seq)
		}
		if ev.Type == hall.EvTicketIssued {
			key := ev.Ticket.Day + "/" + ev.Ticket.Number
			if other, dup := numbers[key]; dup && other != ev.Ticket.ID {
				t.Fatalf("number %s issued twice", key)
			}
			numbers[key] = ev.Ticket.ID
			found[ev.Ticket.ID] = ev.Ticket.Number
		}
	}
	for id, num := range acked {
		if found[id] != num {
			t.Fatalf("acknowledged ticket %s (%s) lost after kill -9", num, id)
		}
	}
	ob, _ := s.OutboxStats()
	if ob.Last != uint64(len(evs)) || ob.Backlog != uint64(len(evs)) {
		t.Fatalf("outbox %+v does not match %d events", ob, len(evs))
	}
	t.Logf("%d rounds of kill -9: %d tickets acknowledged, %d in the log, 0 lost, 0 duplicate numbers", rounds, len(acked), len(found))
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startChild runs the server (Main) in a child process and waits until it
// answers.
func startChild(t *testing.T, dir, addr string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerProcessHelper$")
	cmd.Env = append(os.Environ(), "HALLQ_CHILD_SERVER=1", "HALLQ_DATA="+dir, "HALLQ_ADDR="+addr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := client.New("http://"+addr, "").Do(context.Background(), "GET", "/healthz", "", nil, nil); err == nil {
			return cmd
		}
	}
	cmd.Process.Kill()
	t.Fatal("child server did not start")
	return nil
}

// TestServerProcessHelper is not a test: the crash test runs the test
// binary with HALLQ_CHILD_SERVER set to get a real server process.
func TestServerProcessHelper(t *testing.T) {
	if os.Getenv("HALLQ_CHILD_SERVER") == "" {
		t.Skip("helper process for the crash test")
	}
	os.Exit(Main([]string{"-open-all-day", "-log", "json"}, os.Stdout, os.Stderr))
}

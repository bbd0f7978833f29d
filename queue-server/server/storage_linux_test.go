package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// mustTmpfs mounts a tmpfs of size on a temp dir (root only; the test is
// skipped otherwise) and unmounts it on cleanup.
func mustTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a %s tmpfs (needs root): %v %s", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

func startOn(t *testing.T, data string) (*Server, *client.Client) {
	t.Helper()
	cfg := hall.SampleConfig()
	cfg.OpenAllDay()
	s, err := Start(Options{DataDir: data, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := os.ReadFile(filepath.Join(data, BootstrapFile))
	if err != nil {
		t.Fatal(err)
	}
	return s, client.New(s.URL, strings.TrimSpace(string(tok)))
}

// storageStatus returns /healthz's storage status.
func storageStatus(t *testing.T, c *client.Client) string {
	t.Helper()
	var h struct {
		Status  string `json:"status"`
		Storage struct {
			Status string `json:"status"`
		} `json:"storage"`
	}
	if status, err := c.Do(context.Background(), "GET", "/healthz", "", nil, &h); err != nil || status != 200 {
		t.Fatalf("healthz: %d %v", status, err)
	}
	if h.Status != h.Storage.Status {
		t.Fatalf("healthz top-level status %q, storage %q: a degraded store must show at the top", h.Status, h.Storage.Status)
	}
	return h.Storage.Status
}

// TestDiskFullRefusesAndRecovers runs a hall on a 2 MB tmpfs, fills the
// disk, and checks: new tickets are refused with 503 unavailable/storage,
// reads keep working, /healthz reports the storage degraded; once space
// returns issuing works again; and the reopened file holds exactly the
// acknowledged tickets, with a gap-free log and a clean bbolt check.
func TestDiskFullRefusesAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	mnt := mustTmpfs(t, "2m")
	data := filepath.Join(mnt, "data")
	s, admin := startOn(t, data)
	defer func() { s.Close() }()
	ctx := context.Background()

	acked := map[string]string{}
	issue := func(key string) (int, hall.TicketView, error) {
		var tv hall.TicketView
		status, err := admin.Do(ctx, "POST", "/api/v1/tickets", key, hall.IssueRequest{Service: "E"}, &tv)
		if err == nil {
			acked[tv.ID] = tv.Number
		}
		return status, tv, err
	}
	var first hall.TicketView
	for i := range 20 {
		_, tv, err := issue("before-" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		first = tv
	}

	// HALLQ_DISKFULL_ROUNDS fill-and-free cycles (make chaos runs 20).
	rounds := 1
	if v, err := strconv.Atoi(os.Getenv("HALLQ_DISKFULL_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	refusals := 0
	for round := range rounds {
		// Fill the disk.
		filler, err := os.Create(filepath.Join(mnt, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]byte, 16<<10)
		for {
			if _, err := filler.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the disk: %v", err)
				}
				break
			}
		}
		filler.Close()

		// Issue until the store runs out of room (freed pages are reused first).
		var refused error
		var status, okWhileFull int
		for i := 0; i < 20000 && refused == nil; i++ {
			status, _, refused = issue(fmt.Sprintf("full-%d-%d", round, i))
			if refused == nil {
				okWhileFull++
			}
		}
		if refused == nil {
			t.Fatal("20000 tickets fitted on a full 2 MB disk")
		}
		if status != http.StatusServiceUnavailable || hall.ErrorCode(refused) != hall.Unavailable || hall.ErrorReason(refused) != "storage" {
			t.Fatalf("a full disk gave %d %v, want 503 unavailable/storage", status, refused)
		}
		if round == 0 {
			t.Logf("disk full after %d more tickets: %v", okWhileFull, refused)
		}
		refusals++
		for i := range 5 { // refused cleanly, or fitted into pages bbolt freed
			st, _, err := issue(fmt.Sprintf("still-full-%d-%d", round, i))
			switch {
			case st == http.StatusServiceUnavailable && hall.ErrorReason(err) == "storage":
				refusals++
			case err != nil:
				t.Fatalf("issue on a full disk: %d %v", st, err)
			}
		}
		// Reads keep working.
		if _, err := admin.Services(ctx); err != nil {
			t.Fatalf("services while full: %v", err)
		}
		if _, err := admin.Overview(ctx); err != nil {
			t.Fatalf("overview while full: %v", err)
		}
		if tv, err := admin.Ticket(ctx, first.ID); err != nil || tv.Number != first.Number {
			t.Fatalf("ticket while full: %v %+v", err, tv)
		}
		if _, err := admin.Tickets(ctx); err != nil {
			t.Fatalf("ticket list while full: %v", err)
		}
		if got := storageStatus(t, admin); got != "degraded" {
			t.Fatalf("healthz storage %q while the disk is full, want degraded", got)
		}

		// Space returns: issuing works at once.
		if err := os.Remove(filepath.Join(mnt, "filler")); err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if _, _, err := issue(fmt.Sprintf("after-%d-%d", round, i)); err != nil {
				t.Fatalf("issue after space returned: %v", err)
			}
		}
		if got := storageStatus(t, admin); got != "ok" {
			t.Fatalf("healthz storage %q after recovery", got)
		}
	}
	t.Logf("%d disk-full rounds: %d issues refused with 503 unavailable/storage, reads served throughout, %d tickets acknowledged", rounds, refusals, len(acked))
	s.Close()
	checkStore(t, data, acked)
	s, _ = startOn(t, data) // and the hall starts again on it
}

// checkStore reopens the data dir and checks that exactly the acknowledged
// tickets are in a gap-free log matching the outbox, and that bbolt's own
// consistency check passes.
func checkStore(t *testing.T, data string, acked map[string]string) {
	t.Helper()
	st, err := store.Open(data)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := st.Load(); err != nil {
		t.Fatalf("load: %v", err)
	}
	evs, err := st.Events(0, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	issued := map[string]string{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("event log gap at %d: seq %d", i, ev.Seq)
		}
		if ev.Type == hall.EvTicketIssued {
			issued[ev.Ticket.ID] = ev.Ticket.Number
		}
	}
	for id, num := range acked {
		if issued[id] != num {
			t.Fatalf("acknowledged ticket %s (%s) missing", num, id)
		}
	}
	if len(issued) != len(acked) {
		t.Fatalf("%d tickets in the log, %d acknowledged: a refused ticket was kept", len(issued), len(acked))
	}
	ob, _ := st.OutboxStats()
	if ob.Last != uint64(len(evs)) {
		t.Fatalf("outbox %+v does not match %d events", ob, len(evs))
	}
	st.Close()
	db, err := bolt.Open(filepath.Join(data, store.FileName), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("bbolt check: %v", err)
	}
	t.Logf("reopened: %d events, %d tickets, all acknowledged ones present, bbolt check clean", len(evs), len(issued))
}

// TestReadOnlyDataDir: Linux refuses to remount a file system read-only
// while the hall holds its file open for writing (EBUSY), so a running
// hall cannot be caught by it; a hall started on a read-only data
// directory refuses to start with a clear error, and the file stays intact.
func TestReadOnlyDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	mnt := mustTmpfs(t, "8m")
	data := filepath.Join(mnt, "data")
	s, admin := startOn(t, data)
	acked := map[string]string{}
	for i := range 10 {
		tv, err := admin.Issue(context.Background(), fmt.Sprint("ro-", i), hall.IssueRequest{Service: "E"})
		if err != nil {
			t.Fatal(err)
		}
		acked[tv.ID] = tv.Number
	}
	out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput()
	if err == nil {
		t.Fatalf("remounted read-only under a running hall; extend this test: %s", out)
	}
	t.Logf("remount read-only while the hall runs: refused (%s)", strings.TrimSpace(string(out)))
	if _, err := admin.Issue(context.Background(), "ro-after", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatalf("issue after the refused remount: %v", err)
	}
	s.Close()

	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	cfg := hall.SampleConfig()
	_, err = Start(Options{DataDir: data, Addr: "127.0.0.1:0", Config: &cfg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("start on a read-only data dir: %v, want a clear read-only error", err)
	}
	t.Logf("start on a read-only data dir: %v", err)
	if out, err := exec.Command("mount", "-o", "remount,rw", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v %s", err, out)
	}
	s, admin = startOn(t, data)
	defer s.Close()
	tks, err := admin.Tickets(context.Background())
	if err != nil || len(tks) != 11 {
		t.Fatalf("after read-write again: %v, %d tickets, want 11", err, len(tks))
	}
}

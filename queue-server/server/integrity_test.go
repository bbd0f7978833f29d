package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

func startIn(dir string, o Options) (*Server, error) {
	cfg := hall.SampleConfig()
	o.DataDir, o.Addr, o.Config = dir, "127.0.0.1:0", &cfg
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	return Start(o)
}

// A hall whose hall.db became 0 bytes does not start as a new hall: the
// start fails naming the file and the restore command, and the existing
// bootstrap-token is untouched. With -new-hall over a directory that still
// holds a bootstrap-token, the start fails too rather than overwrite it.
func TestZeroByteStoreDoesNotStartANewHall(t *testing.T) {
	h := MustHall(t)
	dir := h.dir
	tokBefore, _ := os.ReadFile(filepath.Join(dir, BootstrapFile))
	h.Close()
	path := filepath.Join(dir, store.FileName)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := startIn(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "queue-server restore") {
		t.Fatalf("start on a 0-byte hall.db: %v", err)
	}
	var stderr bytes.Buffer
	if code := Main([]string{"-data", dir, "-addr", "127.0.0.1:0"}, io.Discard, &stderr); code != ExitRefusedStore || !strings.Contains(stderr.String(), "0 bytes") {
		t.Fatalf("queue-server on a 0-byte hall.db: exit %d, %s", code, stderr.String())
	}
	if _, err := startIn(dir, Options{NewHall: true}); err == nil || !strings.Contains(err.Error(), BootstrapFile) {
		t.Fatalf("-new-hall with an old bootstrap-token: %v", err)
	}
	if tok, _ := os.ReadFile(filepath.Join(dir, BootstrapFile)); !bytes.Equal(tok, tokBefore) {
		t.Fatal("the bootstrap-token was overwritten")
	}
	os.Rename(filepath.Join(dir, BootstrapFile), filepath.Join(t.TempDir(), "old-token"))
	s, err := startIn(dir, Options{NewHall: true})
	if err != nil {
		t.Fatalf("-new-hall once the old token is moved away: %v", err)
	}
	s.Close()
}

// `queue-server check` passes a sound store and a backup, and refuses a
// truncated one with a message instead of a panic; a hall will not start
// on the truncated one either.
func TestCheckCommand(t *testing.T) {
	h := MustHall(t)
	if _, err := h.admin.Issue(context.Background(), "", hall.IssueRequest{Service: "E"}); err != nil {
		t.Fatal(err)
	}
	dir := h.dir
	h.Close()
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"check", dir}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "ok") || !strings.Contains(stdout.String(), "epoch") {
		t.Fatalf("check a sound store: exit %d, %s %s", code, stdout.String(), stderr.String())
	}
	raw, _ := os.ReadFile(filepath.Join(dir, store.FileName))
	info, err := store.Inspect(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	// cut within the pages in use: bbolt grows the file ahead, and a cut
	// in that tail loses nothing
	bad := filepath.Join(t.TempDir(), store.FileName)
	os.WriteFile(bad, raw[:info.Used*2/3], 0o600)
	stdout.Reset()
	stderr.Reset()
	if code := Main([]string{"check", bad}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), bad) || strings.Contains(stderr.String(), "goroutine") {
		t.Fatalf("check a truncated store: exit %d, %s", code, stderr.String())
	}
	if _, err := startIn(filepath.Dir(bad), Options{}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("start on a truncated store: %v", err)
	}
}

// `queue-server restore` puts a checked backup in place, keeps the file
// it replaces, refuses while the hall runs, and the restored hall begins a
// new epoch with the backed-up tickets and tokens.
func TestRestoreCommand(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	tk, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	f, _ := os.Create(backup)
	if _, err := h.Store.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var stderr bytes.Buffer
	if code := Main([]string{"restore", "-data", h.dir, backup}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "stop the hall") {
		t.Fatalf("restore under a running hall: exit %d, %s", code, stderr.String())
	}
	epoch := h.Store.Epoch()
	h.Close()
	var stdout bytes.Buffer
	if code := Main([]string{"restore", "-data", h.dir, backup}, &stdout, &stderr); code != 0 {
		t.Fatalf("restore: exit %d, %s", code, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(h.dir, store.FileName+".replaced-*")); len(left) != 1 {
		t.Fatalf("the replaced file is not kept: %v", left)
	}
	h.start(h.Addr)
	if h.Store.Epoch() == epoch || !h.Store.Restored() {
		t.Fatalf("after restore: epoch %q (was %q), restored %v", h.Store.Epoch(), epoch, h.Store.Restored())
	}
	if got, err := client.New(h.URL, h.admin.Token).Ticket(ctx, tk.ID); err != nil || got.Number != tk.Number {
		t.Fatalf("the backed-up ticket after restore: %v %+v", err, got)
	}
}

// A websocket client resuming from the hall's epoch gets the events after
// its seq; one resuming from another epoch (its numbers were counted in a
// store since restored from a backup) gets a resync, never events by
// number; the welcome names the epoch.
func TestResumeFromAnotherEpochResyncs(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	for range 2 {
		if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	display := h.as("display", 0)
	first := func(r client.Resume) (wire.Frame, string) {
		t.Helper()
		frames := make(chan wire.Frame, 10)
		cn, err := display.DialResume(ctx, r, func(f wire.Frame) {
			if f.Type == wire.FrameEvent || f.Type == wire.FrameResync {
				frames <- f
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cn.Close()
		select {
		case f := <-frames:
			return f, cn.Welcome.Epoch
		case <-time.After(time.Minute):
			t.Fatal("no frame after the welcome")
		}
		return wire.Frame{}, ""
	}
	epoch := h.Store.Epoch()
	f, welcomed := first(client.Resume{Seq: 1, Epoch: epoch})
	if welcomed != epoch || epoch == "" {
		t.Fatalf("the welcome names epoch %q, the store's is %q", welcomed, epoch)
	}
	if f.Type != wire.FrameEvent || f.Event.Seq != 2 {
		t.Fatalf("a resume in the same epoch: %+v", f)
	}
	if f, _ = first(client.Resume{Seq: 1, Epoch: "0123456789abcdef"}); f.Type != wire.FrameResync {
		t.Fatalf("a resume from another epoch: %s frame, want a resync", f.Type)
	}
}

// A hall.db whose pages past the meta pages are garbage does not start —
// with a message, not a panic — however far bbolt gets before noticing.
func TestGarbledStoreDoesNotPanicAtStart(t *testing.T) {
	h := MustHall(t)
	for range 50 {
		if _, err := h.admin.Issue(context.Background(), "", hall.IssueRequest{Service: "E"}); err != nil {
			t.Fatal(err)
		}
	}
	dir := h.dir
	h.Close()
	path := filepath.Join(dir, store.FileName)
	raw, _ := os.ReadFile(path)
	for _, from := range []int{2 * 4096, 4 * 4096, len(raw) / 2} {
		b := append([]byte(nil), raw...)
		for i := from; i < len(b); i++ {
			b[i] = byte(i*13 + 5)
		}
		os.WriteFile(path, b, 0o600)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("garbled from byte %d: panic %v", from, r)
				}
			}()
			s, err := startIn(dir, Options{})
			if err == nil {
				s.Close()
				t.Fatalf("garbled from byte %d: the hall started", from)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("garbled from byte %d: %v", from, err)
			}
		}()
	}
}

// The program exits 3 when the data directory holds no usable hall, so the
// systemd unit stops restarting it (RestartPreventExitStatus=2 3); a failure
// a restart can cure (the port taken) exits 1.
func TestRefusedStoreExitsForTheOperator(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, store.FileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errs strings.Builder
	if code := Main([]string{"-data", dir, "-addr", "127.0.0.1:0"}, &out, &errs); code != ExitRefusedStore {
		t.Fatalf("0-byte hall.db: exit %d, want %d\n%s", code, ExitRefusedStore, errs.String())
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	errs.Reset()
	if code := Main([]string{"-data", t.TempDir(), "-addr", taken.Addr().String()}, &out, &errs); code != 1 {
		t.Fatalf("port taken: exit %d, want 1\n%s", code, errs.String())
	}
}

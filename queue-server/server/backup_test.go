package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/internal/testclock"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
	"hallq/queue-server/wire"
)

// TestBackupCommandRestores runs `queue-server backup` against a running
// hall, restores the file into a new data directory the documented way
// (the file becomes hall.db) and starts a hall there: it holds exactly the
// backed-up tickets, numbering continues after them, and the tokens work.
func TestBackupCommandRestores(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	var ids []string
	for range 3 {
		tk, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	work := t.TempDir()
	tokFile := filepath.Join(work, "admin-token")
	os.WriteFile(tokFile, []byte(h.admin.Token+"\n"), 0o600)
	out := filepath.Join(work, "hall-backup.db")

	var stdout, stderr bytes.Buffer
	if code := Main([]string{"backup", "-server", h.URL, "-token-file", tokFile, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "verified") {
		t.Fatalf("backup said %q", stdout.String())
	}
	if err := store.Verify(out); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode %v: it holds secrets", fi.Mode().Perm())
	}
	if _, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"}); err != nil { // after the backup: lost on restore
		t.Fatal(err)
	}

	// refused: a kiosk token, a missing -o; nothing is left behind
	kiosk := h.as(wire.RoleKiosk, 0)
	kioskTok := filepath.Join(work, "kiosk-token")
	os.WriteFile(kioskTok, []byte(kiosk.Token), 0o600)
	bad := filepath.Join(work, "bad.db")
	stderr.Reset()
	if code := Main([]string{"backup", "-server", h.URL, "-token-file", kioskTok, "-o", bad}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "forbidden") {
		t.Fatalf("backup with a kiosk token: exit %d, %s", code, stderr.String())
	}
	if code := Main([]string{"backup", "-token-file", tokFile}, io.Discard, io.Discard); code != 2 {
		t.Fatalf("backup without -o: exit %d", code)
	}
	if left, _ := filepath.Glob(filepath.Join(work, "*")); len(left) != 3 {
		t.Fatalf("files left behind: %v", left)
	}

	// restore: stop, replace hall.db, start
	dir := t.TempDir()
	b, _ := os.ReadFile(out)
	if err := os.WriteFile(filepath.Join(dir, store.FileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := hall.SampleConfig()
	r, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Store.Restored() || r.Store.Epoch() == h.Store.Epoch() || r.Store.Epoch() == "" {
		t.Fatalf("a hall started on a backup copied by hand: restored %v, epoch %q (the backed-up hall's %q)", r.Store.Restored(), r.Store.Epoch(), h.Store.Epoch())
	}
	if _, err := os.Stat(filepath.Join(dir, BootstrapFile)); err == nil {
		t.Fatal("the restored hall wrote a new bootstrap token: its tokens were not restored")
	}
	admin := client.New(r.URL, h.admin.Token)
	var got []hall.TicketView
	if _, err := admin.Do(ctx, "GET", "/api/v1/tickets", "", nil, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("restored hall has %d tickets today, want the 3 backed up", len(got))
	}
	for i, id := range ids {
		if tk, err := admin.Ticket(ctx, id); err != nil || tk.Number != []string{"E001", "E002", "E003"}[i] {
			t.Fatalf("ticket %s after restore: %v %+v", id, err, tk)
		}
	}
	next, err := admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if err != nil || next.Number != "E004" {
		t.Fatalf("restored hall issued %s (%v), want E004", next.Number, err)
	}
}

// TestRetentionPurgesAtStart: tickets issued through the hall 100 days ago
// lose their citizen keys and masked numbers when the hall starts with the
// default retention of 90 days; today's keep theirs.
func TestRetentionPurgesAtStart(t *testing.T) {
	h := &testHall{t: t, dir: t.TempDir(), clock: testclock.New(time.Date(2026, 8, 19, 10, 0, 0, 0, testclock.Zone))}
	h.start("127.0.0.1:0")
	h.waitPurged()
	tok, _ := os.ReadFile(filepath.Join(h.dir, BootstrapFile))
	admin := client.New(h.URL, strings.TrimSpace(string(tok)))
	ctx := context.Background()
	const oldMasked, newMasked = "4201**********0001", "4201**********0002"
	key2 := strings.Repeat("2", 64)
	if _, err := admin.Issue(ctx, "", hall.IssueRequest{Service: "B", CitizenKey: key1, MaskedID: oldMasked}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(100 * 24 * time.Hour)
	if _, err := admin.Issue(ctx, "", hall.IssueRequest{Service: "B", CitizenKey: key2, MaskedID: newMasked}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(h.Store.Path())
	if !bytes.Contains(raw, []byte(key1)) || !bytes.Contains(raw, []byte(oldMasked)) {
		t.Fatal("the old ticket's personal data is missing before the restart")
	}
	h.restart()
	h.waitPurged()
	raw, _ = os.ReadFile(h.Store.Path())
	if bytes.Contains(raw, []byte(key1)) || bytes.Contains(raw, []byte(oldMasked)) {
		t.Fatal("the 100-day-old ticket still has its citizen key or masked number in hall.db")
	}
	if !bytes.Contains(raw, []byte(key2)) || !bytes.Contains(raw, []byte(newMasked)) {
		t.Fatal("today's ticket lost its personal data")
	}
}

// waitPurged waits for the first retention pass after the hall started.
func (h *testHall) waitPurged() {
	h.t.Helper()
	select {
	case <-h.purged:
	case <-time.After(time.Minute): // a hang, not a slow machine
		h.t.Fatal("the retention pass after start never finished")
	}
}

func TestRetentionFlagDefaultIsTheDefault(t *testing.T) {
	if d, _ := time.ParseDuration("2160h"); d != DefaultPersonalRetention {
		t.Fatalf("the -personal-retention default 2160h is not DefaultPersonalRetention %v", DefaultPersonalRetention)
	}
}

// TestBackupCarriesBoardMedia uploads two images to the board, runs
// `queue-server backup`, restores the file into a new data directory with
// `queue-server restore` and starts a hall there: its board names the same
// media and serves the same bytes. Restoring again over that directory
// keeps the media directory it replaces, as it keeps the hall.db.
func TestBackupCarriesBoardMedia(t *testing.T) {
	h := MustHall(t)
	upload := func(body string) hall.Media {
		t.Helper()
		req, _ := http.NewRequest("POST", h.URL+"/api/v1/board/media?name=welcome", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.admin.Token)
		req.Header.Set("Content-Type", "image/png")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m hall.Media
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %s, %v", resp.Status, err)
		}
		return m
	}
	const png = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
	bodies := map[string]string{}
	for _, tail := range []string{"first picture", strings.Repeat("second picture ", 4000)} {
		m := upload(png + tail)
		bodies[m.ID] = png + tail
	}
	get := func(url, id string) (int, string) {
		t.Helper()
		resp, err := http.Get(url + "/api/v1/board/media/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	work := t.TempDir()
	tokFile := filepath.Join(work, "admin-token")
	os.WriteFile(tokFile, []byte(h.admin.Token+"\n"), 0o600)
	out := filepath.Join(work, "hall-backup.db")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"backup", "-server", h.URL, "-token-file", tokFile, "-o", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("backup exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "verified; the store and 2 board media files") {
		t.Fatalf("backup said %q", stdout.String())
	}

	dir := t.TempDir()
	restoreInto := func() string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := Main([]string{"restore", "-data", dir, out}, &stdout, &stderr); code != 0 {
			t.Fatalf("restore exit %d: %s", code, stderr.String())
		}
		return stdout.String()
	}
	if said := restoreInto(); !strings.Contains(said, "the board's media restored into "+filepath.Join(dir, "board-media")) || strings.Contains(said, "has no file") {
		t.Fatalf("restore said %q", said)
	}
	cfg := hall.SampleConfig()
	r, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if media := r.Service.Config().Board.Media; len(media) != 2 {
		t.Fatalf("the restored board names %d media, want 2", len(media))
	}
	for id, want := range bodies {
		if status, got := get(r.URL, id); status != http.StatusOK || got != want {
			t.Fatalf("media %s from the restored hall: %d, %d bytes (want %d)", id, status, len(got), len(want))
		}
	}
	r.Close()

	// again, over the restored hall: the media directory it replaces is kept
	os.WriteFile(filepath.Join(dir, "board-media", "stray"), []byte("x"), 0o600)
	if said := restoreInto(); !strings.Contains(said, "the media directory it replaced is kept as "+filepath.Join(dir, "board-media.replaced-")) {
		t.Fatalf("restore over a hall said %q", said)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "board-media")); len(left) != 2 {
		t.Fatalf("the restored media directory holds %d files, want the 2 of the backup", len(left))
	}
	if kept, _ := filepath.Glob(filepath.Join(dir, "board-media.replaced-*", "stray")); len(kept) != 1 {
		t.Fatal("the replaced media directory is not kept")
	}
}

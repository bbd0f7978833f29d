package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/store"
)

// With -sm4-key-file the backup is written SM4-encrypted (no bbolt page in
// the clear, not a store until opened); restore needs the same key file,
// refuses a missing or wrong key and a damaged file, and with the key
// restores the tickets.
func TestBackupEncryptedWithSM4(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	tk, err := h.admin.Issue(ctx, "", hall.IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	tokFile := filepath.Join(work, "admin-token")
	os.WriteFile(tokFile, []byte(h.admin.Token+"\n"), 0o600)
	keyFile, wrongKey, badKey := filepath.Join(work, "sm4.key"), filepath.Join(work, "wrong.key"), filepath.Join(work, "bad.key")
	os.WriteFile(keyFile, []byte("00112233445566778899aabbccddeeff\n"), 0o600)
	os.WriteFile(wrongKey, []byte("ffeeddccbbaa99887766554433221100"), 0o600)
	os.WriteFile(badKey, []byte("0011"), 0o600)
	out := filepath.Join(work, "hall-backup.db.sm4")

	var stdout, stderr bytes.Buffer
	if code := Main([]string{"backup", "-server", h.URL, "-token-file", tokFile, "-sm4-key-file", badKey, "-o", out}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "32 hex digits") {
		t.Fatalf("a short key: exit %d, %s", code, stderr.String())
	}
	if code := Main([]string{"backup", "-server", h.URL, "-token-file", tokFile, "-sm4-key-file", keyFile, "-o", out}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "SM4") {
		t.Fatalf("backup exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	sealed, _ := os.ReadFile(out)
	if err := store.Verify(out); err == nil {
		t.Fatal("the encrypted backup opens as a store")
	}
	if bytes.Contains(sealed, []byte(tk.ID)) || bytes.Contains(sealed, []byte("E001")) {
		t.Fatal("the encrypted backup shows a ticket")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v", fi.Mode().Perm())
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"restore", "-data", dir, out}, "encrypted with SM4"},
		{"the wrong key", []string{"restore", "-data", dir, "-sm4-key-file", wrongKey, out}, "sealed with another key"},
	} {
		stderr.Reset()
		if code := Main(tc.args, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Fatalf("restore with %s: exit %d, %s", tc.name, code, stderr.String())
		}
	}
	cut := filepath.Join(work, "cut.sm4")
	os.WriteFile(cut, sealed[:len(sealed)-100], 0o600)
	stderr.Reset()
	if code := Main([]string{"restore", "-data", dir, "-sm4-key-file", keyFile, cut}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "cut short") {
		t.Fatalf("restore of a cut file: exit %d, %s", code, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("refused restores left %v", left)
	}
	stdout.Reset()
	if code := Main([]string{"restore", "-data", dir, "-sm4-key-file", keyFile, out}, &stdout, &stderr); code != 0 {
		t.Fatalf("restore: exit %d, %s", code, stderr.String())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("the restore left %v", left)
	}
	cfg := hall.SampleConfig()
	r, err := Start(Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := client.New(r.URL, h.admin.Token).Ticket(ctx, tk.ID); err != nil || got.Number != "E001" {
		t.Fatalf("the restored hall: %+v, %v", got, err)
	}
}

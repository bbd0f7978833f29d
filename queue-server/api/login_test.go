package api_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"hallq/queue-server/api"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/server"
	"hallq/queue-server/wire"
)

func mustLoginHall(t *testing.T) (*server.Server, *client.Client) {
	t.Helper()
	dir := t.TempDir()
	cfg := hall.SampleConfig()
	s, err := server.Start(server.Options{DataDir: dir, Addr: "127.0.0.1:0", Config: &cfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, _ := os.ReadFile(filepath.Join(dir, server.BootstrapFile))
	admin := client.New(s.URL, strings.TrimSpace(string(tok)))
	admin.HTTP.Timeout = 0 // hashing a password under -race on a busy machine
	if _, err := admin.Do(context.Background(), "POST", "/api/v1/users", "", wire.UserRequest{Name: "wang", Password: "right password", Role: wire.RoleClerk, Window: 1}, nil); err != nil {
		t.Fatal(err)
	}
	return s, admin
}

// 100 parallel guesses for one name: only the first few are hashed, the
// rest are refused before bcrypt runs.
func TestParallelGuessesAreNotAllChecked(t *testing.T) {
	s, _ := mustLoginHall(t)
	anon := client.New(s.URL, "")
	anon.HTTP.Timeout = 0 // bcrypt under -race on a busy machine takes seconds per check; a hang fails the test's own deadline
	before := api.PasswordHashes()
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[hall.Code]int{}
	for range 100 {
		wg.Go(func() {
			_, err := anon.Do(context.Background(), "POST", "/api/v1/login", "", wire.LoginRequest{Name: "wang", Password: "guess"}, nil)
			mu.Lock()
			codes[hall.ErrorCode(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := api.PasswordHashes() - before; n > 5 {
		t.Fatalf("100 parallel guesses: %d passwords hashed, want at most 5 (%v)", n, codes)
	}
	if codes[hall.QuotaExceeded] < 95 {
		t.Fatalf("answers: %v", codes)
	}
}

// An unknown name costs one bcrypt check, like a known name with a wrong
// password: the work (and so the time) does not tell which names exist.
func TestUnknownNameCostsAHash(t *testing.T) {
	s, _ := mustLoginHall(t)
	anon := client.New(s.URL, "")
	anon.HTTP.Timeout = 0 // see TestParallelGuessesAreNotAllChecked
	for _, name := range []string{"wang", "nobody-by-this-name"} {
		before := api.PasswordHashes()
		_, err := anon.Do(context.Background(), "POST", "/api/v1/login", "", wire.LoginRequest{Name: name, Password: "guess"}, nil)
		if hall.ErrorCode(err) != hall.Unauthorized || err.Error() == "" {
			t.Fatalf("%s: %v", name, err)
		}
		if n := api.PasswordHashes() - before; n != 1 {
			t.Fatalf("a login as %s hashed %d passwords, want 1", name, n)
		}
	}
}

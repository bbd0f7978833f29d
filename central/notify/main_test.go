package notify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"hallq/central/notify"
	"hallq/central/platform"
)

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The central command's wiring: with the notifier's flags, Main serves its
// routes; a bad flag value stops it with the flag named.
func TestMainServesNotifications(t *testing.T) {
	sms := mustSMSService(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs logBuf
	done := make(chan error, 1)
	go func() {
		done <- platform.Main(ctx, []string{"-data", filepath.Join(t.TempDir(), "central"), "-nats-listen", "127.0.0.1:0", "-http", "127.0.0.1:0",
			"-notify-ahead", "2", "-notify-remind-evening", "19:30", "-notify-sms-config", sms.configFile(t)}, &logs, notify.Extension(nil))
	}()
	t.Cleanup(func() { cancel(); <-done })
	re := regexp.MustCompile(`msg="central view" url=(\S+)/halls`)
	var base string
	eventually(t, "the central serves", func() bool {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})
	get := func(path string, v any) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	var k struct {
		PublicKey string `json:"public_key"`
	}
	if st := get("/api/v1/notifications/vapid-key", &k); st != 200 || k.PublicKey == "" {
		t.Fatalf("vapid-key: %d %+v", st, k)
	}
	var e struct{ Error notify.Error }
	if st := get("/api/v1/notifications", &e); st != 401 || e.Error.Reason != notify.ReasonNoToken {
		t.Fatalf("without bookings' sign-in: %d %+v", st, e)
	}
	if !strings.Contains(logs.String(), "notifications served") || !strings.Contains(logs.String(), "sms=true") {
		t.Fatalf("log: %s", logs.String())
	}

	err := platform.Main(context.Background(), []string{"-data", filepath.Join(t.TempDir(), "c2"), "-nats-listen", "127.0.0.1:0", "-http", "127.0.0.1:0",
		"-notify-remind-evening", "25:00"}, &logBuf{}, notify.Extension(nil))
	if err == nil || !strings.Contains(err.Error(), "25:00") {
		t.Fatalf("a bad evening time: %v", err)
	}
	_ = time.Second
}

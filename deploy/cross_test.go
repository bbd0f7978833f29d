package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The foreign architectures `make dist` builds the hall server for, each
// with the Debian qemu-user-static emulator that runs its binary here.
var foreign = []struct{ arch, qemu string }{
	{"arm64", "qemu-aarch64-static"},       // Kunpeng, Phytium
	{"loong64", "qemu-loongarch64-static"}, // Loongson 3A5000/3A6000
}

var (
	crossMu   sync.Mutex
	crossBins = map[string]string{}
)

// crossBuild builds the queue-server for linux/arch exactly as `make dist`
// does (once per test run per architecture; the compile cache is shared
// with make dist) and returns its path.
func crossBuild(t *testing.T, arch string) string {
	t.Helper()
	crossMu.Lock()
	defer crossMu.Unlock()
	if bin, ok := crossBins[arch]; ok {
		return bin
	}
	if buildDir == "" {
		var err error
		if buildDir, err = os.MkdirTemp("", "hallq-deploy-"); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(buildDir, "queue-server-linux-"+arch)
	ldflags := fmt.Sprintf("-s -w -X %[1]s.Version=%[2]s -X %[1]s.Commit=%[3]s -X %[1]s.BuildDate=%[4]s",
		pkgServer, stampVersion, stampCommit, stampDate)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./queue-server")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build for linux/%s: %v\n%s", arch, err, out)
	}
	crossBins[arch] = bin
	return bin
}

// TestForeignArchitectures runs the linux/arm64 and linux/loong64 release
// binaries under qemu-user: -version, /healthz, a ticket issued and called
// through the API, a clean stop on SIGTERM — and the store the emulated
// server wrote passes `queue-server check` by the host's amd64 binary
// (bbolt's file is in the host's byte order; all three are little-endian,
// so a hall.db or backup moves between them).
func TestForeignArchitectures(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and emulates the release binaries; skipped with -short")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the emulated runs are set up for a linux/amd64 host, not %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	host := MustBuild(t)
	for _, f := range foreign {
		t.Run(f.arch, func(t *testing.T) {
			qemu, err := exec.LookPath(f.qemu)
			if err != nil {
				t.Skipf("%s is not installed (Debian package qemu-user-static; `make deps` installs it)", f.qemu)
			}
			bin := crossBuild(t, f.arch)
			out, errOut, code := run(t, qemu, bin, "-version")
			want := fmt.Sprintf("queue-server %s (commit %s, built %s)\n", stampVersion, stampCommit, stampDate)
			if code != 0 || out != want {
				t.Fatalf("-version: exit %d, stdout %q, stderr %q; want exit 0, %q", code, out, errOut, want)
			}

			// Registered first, so it runs last: after mustStart's cleanup
			// has stopped the server (SIGTERM, a clean exit checked), the
			// host's binary checks the store the emulated one left.
			data := t.TempDir()
			t.Cleanup(func() {
				if t.Failed() {
					return
				}
				db := filepath.Join(data, "hall.db")
				if out, errOut, code := run(t, host, "check", db); code != 0 || !strings.Contains(out, ": ok") {
					t.Errorf("the host's queue-server check of the %s store: exit %d, %q %q", f.arch, code, out, errOut)
				}
			})
			{
				s := mustStart(t, data, []string{qemu, bin}, "-open-all-day")
				var h map[string]any
				getJSON(t, s.URL+"/healthz", "", &h)
				if h["status"] != "ok" || h["version"] != stampVersion {
					t.Fatalf("/healthz = %v, want status ok and version %s", h, stampVersion)
				}
				admin, err := os.ReadFile(filepath.Join(s.Data, "bootstrap-token"))
				if err != nil {
					t.Fatal(err)
				}
				token := strings.TrimSpace(string(admin))
				var ticket struct{ ID, Number, Status string }
				postJSON(t, s.URL+"/api/v1/tickets", token, `{"service":"E"}`, 201, &ticket)
				if ticket.Number != "E001" || ticket.Status != "waiting" {
					t.Fatalf("issued %+v, want E001 waiting", ticket)
				}
				postJSON(t, s.URL+"/api/v1/windows/1/open", token, ``, 200, nil)
				var called struct{ ID, Status string }
				postJSON(t, s.URL+"/api/v1/windows/1/call", token, ``, 200, &called)
				if called.ID != ticket.ID || called.Status != "called" {
					t.Fatalf("window 1 called %+v, want ticket %s called", called, ticket.ID)
				}
				var again struct{ Status string }
				getJSON(t, s.URL+"/api/v1/tickets/"+ticket.ID, token, &again)
				if again.Status != "called" {
					t.Fatalf("the ticket reads %q after the call, want called", again.Status)
				}
			}
		})
	}
}

// postJSON POSTs body with a bearer token, wants status and decodes the
// reply into v (when not nil).
func postJSON(t *testing.T, url, token, body string, status int, v any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		t.Fatalf("POST %s: %s %s; want %d", url, res.Status, b, status)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("POST %s: %v in %s", url, err, b)
		}
	}
}

// The mains embed the time-zone database (time/tzdata): a Kylin/UOS or
// minimal container image may lack /usr/share/zoneinfo, and the hall's
// Asia/Shanghai must still load.
func TestMainsEmbedTimeZoneData(t *testing.T) {
	for _, pkg := range []string{"./queue-server", "./central", "./kiosk"} {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		if !strings.Contains("\n"+string(out), "\ntime/tzdata\n") {
			t.Errorf("%s does not link time/tzdata", pkg)
		}
	}
}

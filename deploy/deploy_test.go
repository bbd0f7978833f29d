package deploy

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The stamp the test build carries, and the flags `make dist` uses for every
// target (CGO_ENABLED=0, -trimpath, -s -w, -X …): keep the two in step.
const (
	stampVersion = "1.2.3-test"
	stampCommit  = "0123456789ab"
	stampDate    = "2026-11-28T02:00:00Z"
	pkgServer    = "hallq/queue-server/server"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// MustBuild builds the linux/amd64 queue-server exactly as `make dist` does
// (once per test run) and returns its path. Skipped with -short.
func MustBuild(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the release binary; skipped with -short")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the linux/amd64 release binary cannot run on %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "hallq-deploy-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "queue-server-linux-amd64")
		ldflags := fmt.Sprintf("-s -w -X %[1]s.Version=%[2]s -X %[1]s.Commit=%[3]s -X %[1]s.BuildDate=%[4]s",
			pkgServer, stampVersion, stampCommit, stampDate)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", binPath, "./queue-server")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// run runs the binary and returns stdout, stderr and the exit code.
func run(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return o.String(), e.String(), code
}

func TestVersionStamp(t *testing.T) {
	bin := MustBuild(t)
	out, errOut, code := run(t, bin, "-version")
	want := fmt.Sprintf("queue-server %s (commit %s, built %s)\n", stampVersion, stampCommit, stampDate)
	if code != 0 || out != want {
		t.Fatalf("-version: exit %d, stdout %q, stderr %q; want exit 0, %q", code, out, errOut, want)
	}
}

// The release binary carries no central platform and no NATS server (the
// province side is its own program, ./central): its module list has no
// nats-server, and the old in-process stand-in flag is gone.
func TestServerBinaryCarriesNoCentral(t *testing.T) {
	bin := MustBuild(t)
	out, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "go.etcd.io/bbolt") {
		t.Fatalf("go version -m lists no modules, so it proves nothing:\n%s", out)
	}
	if strings.Contains(string(out), "nats-server") {
		t.Errorf("the queue-server binary links nats-server:\n%s", out)
	}
	if _, errOut, code := run(t, bin, "-demo-central"); code != 2 || !strings.Contains(errOut, "flag provided but not defined: -demo-central") {
		t.Errorf("-demo-central: exit %d, %q; want the flag refused (run ./central next to the server instead)", code, errOut)
	}
}

func TestCheckConfig(t *testing.T) {
	bin := MustBuild(t)
	example := filepath.Join("..", "queue-server", "hall", "sample-hall.json")
	if out, errOut, code := run(t, bin, "-check-config", example); code != 0 || !strings.HasSuffix(out, ": ok\n") {
		t.Fatalf("shipped example: exit %d, stdout %q, stderr %q; want exit 0 and ok", code, out, errOut)
	}
	good, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mistake, old, new, want string
	}{
		{"unknown key", `"recalls_before_no_show"`, `"recals_before_no_show"`, `unknown field "recals_before_no_show"`},
		{"bad time", `"open": "08:30"`, `"open": "8.30"`, `services[0].hours: open: want HH:MM, got "8.30"`},
		{"duplicate service", `{"code": "B"`, `{"code": "A"`, `services[1].code: duplicate service "A"`},
		{"window serving an unknown service", `"services": ["C"]}`, `"services": ["Z"]}`, `windows[4].services: unknown service "Z"`},
		{"bad time zone", `"Asia/Shanghai"`, `"Asia/Shangai"`, `hall.time_zone: unknown time zone "Asia/Shangai"`},
	} {
		t.Run(tc.mistake, func(t *testing.T) {
			broken := strings.Replace(string(good), tc.old, tc.new, 1)
			if broken == string(good) {
				t.Fatalf("the example no longer contains %s; update the test", tc.old)
			}
			path := filepath.Join(t.TempDir(), "hall.json")
			if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			_, errOut, code := run(t, bin, "-check-config", path)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 1 and a message containing %q", code, errOut, tc.want)
			}
		})
	}
}

// server is a running release binary.
type server struct {
	URL, Data string
}

// MustStart runs the built binary on a free port with a fresh data dir and
// stops it (SIGTERM) when the test ends.
func MustStart(t *testing.T, bin string) server {
	t.Helper()
	return mustStart(t, t.TempDir(), []string{bin})
}

// mustStart is MustStart for a data directory and a command line: the
// binary, or an emulator and the binary (cross_test.go), then extra flags.
func mustStart(t *testing.T, data string, argv []string, extra ...string) server {
	t.Helper()
	args := append(append(argv[1:len(argv):len(argv)], "-data", data, "-addr", "127.0.0.1:0", "-log", "json"), extra...)
	cmd := exec.Command(argv[0], args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	var log strings.Builder
	var mu sync.Mutex
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "hall ready" {
				ready <- line.Addr
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { <-drained; done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("queue-server did not stop cleanly: %v", err)
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Errorf("queue-server ignored SIGTERM for 60 s")
		}
	})
	select {
	case url := <-ready:
		return server{URL: url, Data: data}
	case <-drained:
		cmd.Wait()
	case <-time.After(90 * time.Second): // an emulated binary starts slower
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("queue-server did not report ready:\n%s", log.String())
	return server{}
}

// getJSON GETs url with an optional bearer token and decodes the reply.
func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, res.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, b)
	}
}

func TestHealthzReportsBuild(t *testing.T) {
	s := MustStart(t, MustBuild(t))
	var h map[string]any
	getJSON(t, s.URL+"/healthz", "", &h)
	for key, want := range map[string]string{"status": "ok", "version": stampVersion, "commit": stampCommit, "build_date": stampDate} {
		if h[key] != want {
			t.Errorf("/healthz %s = %v, want %q (all: %v)", key, h[key], want, h)
		}
	}
}

func TestEnrollKiosk(t *testing.T) {
	for _, tool := range []string{"sh", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("enroll-kiosk.sh needs %s, not installed", tool)
		}
	}
	s := MustStart(t, MustBuild(t))
	admin, err := os.ReadFile(filepath.Join(s.Data, "bootstrap-token"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	const caPEM = "-----BEGIN CERTIFICATE-----\nMIIB…test…\n-----END CERTIFICATE-----"
	if err := os.WriteFile(ca, []byte(caPEM+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	enroll := func(token string, args ...string) (string, error) {
		cmd := exec.Command("sh", append([]string{"enroll-kiosk.sh"}, args...)...)
		cmd.Env = append(os.Environ(), "HALLQ_ADMIN_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	for _, tc := range []struct {
		name string
		ca   string
	}{{"kiosk-3", ""}, {"kiosk-4", ca}} {
		out := filepath.Join(dir, tc.name+".json")
		args := []string{"-o", out, s.URL + "/", tc.name}
		if tc.ca != "" {
			args = append([]string{"-c", tc.ca}, args...)
		}
		if msg, err := enroll(strings.TrimSpace(string(admin)), args...); err != nil {
			t.Fatalf("enroll %s: %v\n%s", tc.name, err, msg)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600 (it holds a token)", out, fi.Mode().Perm())
		}
		b, _ := os.ReadFile(out)
		var f map[string]string
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v in %s", out, err, b)
		}
		if f["server"] != s.URL || !strings.HasPrefix(f["token"], "hq_") {
			t.Errorf("enrolment file %s, want server %s and an hq_ token", b, s.URL)
		}
		if pem, ok := f["ca_pem"]; (tc.ca == "" && ok) || (tc.ca != "" && pem != caPEM) {
			t.Errorf("ca_pem = %q, want %q", pem, map[bool]string{true: caPEM}[tc.ca != ""])
		}
		if len(f) > 3 {
			t.Errorf("enrolment file has keys beyond server, token, ca_pem: %s", b)
		}
		var me struct{ Name, Role string }
		getJSON(t, s.URL+"/api/v1/me", f["token"], &me)
		if me.Name != tc.name || me.Role != "kiosk" {
			t.Errorf("the new token is %s/%s, want %s/kiosk", me.Name, me.Role, tc.name)
		}
	}

	msg, err := enroll("hq_wrong", "-o", filepath.Join(dir, "x.json"), s.URL, "kiosk-5")
	if err == nil || !strings.Contains(msg, "HTTP 401") {
		t.Errorf("a wrong admin token: err %v, output %q; want a failure naming HTTP 401", err, msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.json")); err == nil {
		t.Errorf("a failed enrolment left a file behind")
	}
}

// TestSystemdUnits checks the units with systemd-analyze verify, which needs
// ExecStart's program to exist: each is checked as a temporary copy whose
// program is the freshly built queue-server (server) or true (kiosk, whose
// cage and kiosk binaries are not built here).
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (Debian package systemd); units not verified")
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	for unit, c := range map[string]struct {
		program string
		must    []string
	}{
		"hallq-queue-server.service": {"", []string{
			"User=hallq", "StateDirectory=hallq", "EnvironmentFile=-/etc/hallq/queue-server.env", "Restart=on-failure", "RestartPreventExitStatus=2 3",
			"-data /var/lib/hallq -log json", "ReadWritePaths=/var/lib/hallq",
			"NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "PrivateDevices=yes",
			"ProtectKernelTunables=yes", "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
			"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "CapabilityBoundingSet=\n",
			"SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "LockPersonality=yes"}},
		"hallq-kiosk.service": {trueBin, []string{
			"User=kiosk", "PAMName=login", "TTYPath=/dev/tty1", "Restart=always", "SupplementaryGroups=dialout",
			"ExecStart=/usr/bin/cage -d -- /usr/local/bin/kiosk -config /etc/hallq/kiosk.json"}},
	} {
		t.Run(unit, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("systemd", unit))
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for _, m := range c.must {
				if !strings.Contains(text, m) {
					t.Errorf("%s lacks %q", unit, m)
				}
			}
			program := c.program
			if program == "" {
				program = MustBuild(t)
			}
			var lines []string
			for _, l := range strings.Split(text, "\n") {
				if rest, ok := strings.CutPrefix(l, "ExecStart="); ok {
					_, args, _ := strings.Cut(rest, " ")
					l = "ExecStart=" + program + " " + args
				}
				lines = append(lines, l)
			}
			path := filepath.Join(t.TempDir(), unit)
			if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", path).CombinedOutput()
			// verify exits 0 on unknown keys and bad values; what it says about
			// the file counts as a failure too.
			if err != nil || strings.Contains(string(out), unit) {
				t.Fatalf("systemd-analyze verify %s: %v\n%s", unit, err, out)
			}
		})
	}
}

func TestShellScripts(t *testing.T) {
	scripts, _ := filepath.Glob("*.sh")
	if len(scripts) == 0 {
		t.Fatal("no scripts found")
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", s, err, out)
		}
		if fi, err := os.Stat(s); err != nil || fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
	}
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed; syntax checked only")
	}
	if out, err := exec.Command(sc, append([]string{"--shell=sh"}, scripts...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

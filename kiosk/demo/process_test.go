package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kiosk process, with its Fyne window on an Xvfb screen and a demo
// hall behind it, stops on SIGINT and on SIGTERM (systemd's stop) with exit
// status 0 and without Fyne's complaint that it was called off its
// goroutine: the kiosk used to call the app's Quit from the goroutine that
// saw the signal.
func TestKioskProcessStopsCleanlyOnASignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the kiosk program")
	}
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb is not installed (make deps)")
	}
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "kiosk")
	build := exec.Command("go", "build", "-tags", kioskTags, "-o", bin, "hallq/kiosk")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build the kiosk: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := Start(ctx, Options{DataDir: dir, Addr: "127.0.0.1:0", TimeZone: dayZone(t),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	cfg, _ := json.Marshal(h.Kiosk)
	cfgPath := filepath.Join(dir, "kiosk.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		logs, err := runUntilSignal(t, bin, sig, "-config", cfgPath)
		for try := 2; errors.Is(err, errStartUp) && try <= 3; try++ {
			// another X server on this shared machine took the display
			// between Xvfb choosing it and the kiosk opening it
			t.Logf("%v: try %d: %v", sig, try, err)
			logs, err = runUntilSignal(t, bin, sig, "-config", cfgPath)
		}
		if err != nil {
			t.Errorf("%v: the kiosk exited with %v; its log:\n%s", sig, err, logs)
		}
		if strings.Contains(logs, "Error in Fyne call thread") {
			t.Errorf("%v: Fyne was called off its goroutine; the kiosk's log:\n%s", sig, logs)
		}
	}
}

var errStartUp = errors.New("exited during start-up")

// runUntilSignal runs bin on an Xvfb screen of its own until it has
// started (its first device report is in its log), sends it sig and
// returns its log and how it exited.
func runUntilSignal(t *testing.T, bin string, sig os.Signal, args ...string) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1080x1920x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer func() { x.Process.Kill(); x.Wait() }()
	line, err := bufio.NewReader(r).ReadString('\n') // Xvfb writes the display it chose
	r.Close()
	if err != nil {
		t.Fatalf("Xvfb display: %v", err)
	}
	k := exec.Command(bin, args...)
	k.Env = append(os.Environ(), "DISPLAY=:"+strings.TrimSpace(line))
	var logs syncBuffer
	k.Stderr = &logs
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- k.Wait() }()
	started := time.Now()
	for !strings.Contains(string(logs.Bytes()), `msg="kiosk devices"`) {
		select {
		case err := <-exited:
			return string(logs.Bytes()), fmt.Errorf("%w: %w", errStartUp, err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Since(started) > 2*time.Minute {
			k.Process.Kill()
			<-exited
			return string(logs.Bytes()), errors.New("not started after two minutes")
		}
	}
	if err := k.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		return string(logs.Bytes()), err
	case <-time.After(time.Minute):
		k.Process.Kill()
		<-exited
		return string(logs.Bytes()), errors.New("still running a minute after the signal")
	}
}

package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkKioskProcess runs the real kiosk binary with its Fyne window on
// an Xvfb screen, against a demo hall (queue-server and the simulated
// devices at their line rates, in this process), and measures the kiosk
// process once it has settled on its home screen: resident memory and the
// CPU it uses while nobody touches it (goal ≤ 150 MB, idle CPU ≤ 2 % of
// one core). Then, with the kiosk stopped, the same for its reference: a
// bare Fyne window of the same size on its own Xvfb screen, in a process
// set up as the kiosk's (testdata/barewindow), which shows what Fyne's 60 Hz event loop and the
// Go runtime around it cost any Fyne program on the machine at that
// moment — the idle CPU of such a loop moves with the machine's load (an
// idle machine wakes its sleeping cores for each tick), so the kiosk's own
// share is the difference.
func BenchmarkKioskProcess(b *testing.B) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		b.Skip("Xvfb is not installed (make deps)")
	}
	dir := b.TempDir()
	bin := filepath.Join(b.TempDir(), "kiosk") // not in dir: the demo keeps the kiosk's data in dir/kiosk
	build := exec.Command("go", "build", "-tags", kioskTags, "-o", bin, "hallq/kiosk")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("build the kiosk: %v", err)
	}
	bare := filepath.Join(filepath.Dir(bin), "barewindow")
	build = exec.Command("go", "build", "-tags", kioskTags, "-o", bare, "./testdata/barewindow")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		b.Fatalf("build the bare window: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h, err := Start(ctx, Options{DataDir: dir, Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	cfg, _ := json.Marshal(h.Kiosk)
	cfgPath := filepath.Join(dir, "kiosk.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		b.Fatal(err)
	}
	k, stopK := startSettled(b, "the kiosk", bin, "-config", cfgPath)
	cpu, busiest, wakes := idleCPU(b, k.Process.Pid)
	rss, err := rssKB(k.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	split := rssSplit(k.Process.Pid)
	stopK()
	w, stopW := startSettled(b, "the bare window", bare)
	refCPU, _, refWakes := idleCPU(b, w.Process.Pid)
	stopW()
	b.ReportMetric(float64(rss)/1024, "kiosk-RSS-MB")
	b.ReportMetric(cpu, "kiosk-idle-CPU-%")
	b.ReportMetric(refCPU, "bare-window-idle-CPU-%")
	fmt.Printf("\n  kiosk process (real Fyne window on Xvfb 1080×1920, simulated devices, home screen): RSS %.0f MB (goal ≤ 150 MB), idle CPU %.1f %% of one core over %s (goal ≤ 2 %%), %.0f context switches a second; by thread name: %s\n",
		float64(rss)/1024, cpu, idleFor, wakes, strings.Join(busiest, ", "))
	fmt.Printf("  its RSS: %s\n", split)
	fmt.Printf("  reference, a bare Fyne window of the same size after it, the kiosk's timer slack (Fyne's event loop and the Go runtime alone): idle CPU %.1f %%, %.0f context switches a second; the kiosk's own share %.1f %%\n",
		refCPU, refWakes, cpu-refCPU)
}

// idleFor is how long the benchmark watches an idle process.
const idleFor = 10 * time.Second

// idleCPU watches process pid for idleFor: the CPU it used (% of one
// core), the same by thread name (Go's threads are all named after the
// binary; Mesa's software renderer names its own, llvmpipe-N), and its
// threads' context switches a second (each a wake-up: what an idle
// process's CPU is made of).
func idleCPU(b *testing.B, pid int) (cpu float64, busiest []string, wakes float64) {
	t0, err := cpuTicks(pid)
	if err != nil {
		b.Fatal(err)
	}
	th0, cs0 := threadTicks(pid)
	time.Sleep(idleFor)
	t1, err := cpuTicks(pid)
	if err != nil {
		b.Fatal(err)
	}
	th1, cs1 := threadTicks(pid)
	pct := func(ticks int64) float64 { return float64(ticks) / 100 / idleFor.Seconds() * 100 } // clock ticks are 1/100 s on Linux
	for name, t := range th1 {
		if d := t - th0[name]; d > 0 {
			busiest = append(busiest, fmt.Sprintf("%s %.1f %%", name, pct(d)))
		}
	}
	slices.Sort(busiest)
	return pct(t1 - t0), busiest, float64(cs1-cs0) / idleFor.Seconds()
}

// startSettled starts bin on an Xvfb screen of its own and lets it settle
// (startOnXvfb), trying again when it exits during start-up; stop ends it
// and its screen.
func startSettled(b *testing.B, what, bin string, args ...string) (p *exec.Cmd, stop func()) {
	for attempt := 1; p == nil; attempt++ {
		var logs []byte
		p, stop, logs = startOnXvfb(b, bin, args...)
		if p == nil && attempt == 3 {
			b.Fatalf("%s exited during start-up three times; last:\n%s", what, logs)
		}
	}
	return p, stop
}

// rssSplit says what the resident set is made of, from /proc/PID/smaps:
// the proportional share (Pss: a page shared with other processes counts
// its share), what is private and shared, and the largest parts by mapping
// (a file, the C heap, anonymous memory: the Go heap, buffers).
func rssSplit(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return err.Error()
	}
	sum := map[string]int64{}   // field → KB
	byMap := map[string]int64{} // mapping → Rss KB
	name := ""
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			name = "anonymous"
			if len(f) >= 6 {
				name = filepath.Base(f[5])
			}
		case len(f) == 3 && f[2] == "kB":
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum[f[0]] += n
			if f[0] == "Rss:" {
				byMap[name] += n
			}
		}
	}
	names := make([]string, 0, len(byMap))
	for n := range byMap {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return int(byMap[b] - byMap[a]) })
	var parts []string
	for _, n := range names[:min(6, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.1f", n, float64(byMap[n])/1024))
	}
	mb := func(k string) float64 { return float64(sum[k]) / 1024 }
	return fmt.Sprintf("Pss %.0f MB; private %.0f MB, shared with other processes %.0f MB; largest mappings (MB): %s",
		mb("Pss:"), mb("Private_Clean:")+mb("Private_Dirty:"), mb("Shared_Clean:")+mb("Shared_Dirty:"), strings.Join(parts, ", "))
}

// kioskTags are the build tags the kiosk program is built with, as make dist
// builds it (TestBenchBuildsTheKioskAsShipped): no_emoji leaves Fyne's
// emoji font out, which the kiosk never draws — Fyne parses it for every
// text style all the same (≈ 10 MB resident: its 4 MB in the binary and
// what the shaper keeps of it).
const kioskTags = "no_emoji"

// startOnXvfb starts an Xvfb screen and bin on it, and waits for bin to
// settle. When bin exits during start-up (another X server on this shared
// machine took the display between Xvfb choosing it and bin opening it),
// it stops both and returns nil and bin's log, for another try. stop
// interrupts bin, waits for it and stops the screen; it runs at cleanup
// too if not called before.
func startOnXvfb(b *testing.B, bin string, args ...string) (*exec.Cmd, func(), []byte) {
	// Xvfb picks a free display and writes its number to the pipe
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1080x1920x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{w}
	if err := x.Start(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	stopX := func() { x.Process.Kill(); x.Wait() }
	line, err := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if err != nil {
		stopX()
		b.Fatalf("Xvfb display: %v", err)
	}
	k := exec.Command(bin, args...)
	k.Env = append(os.Environ(), "DISPLAY=:"+strings.TrimSpace(line))
	var logs syncBuffer
	k.Stderr = &logs
	if err := k.Start(); err != nil {
		stopX()
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- k.Wait() }()
	select { // start-up: window, fonts, devices, the server's overview
	case <-exited:
		stopX()
		return nil, nil, logs.Bytes()
	case <-time.After(15 * time.Second):
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			k.Process.Signal(os.Interrupt)
			<-exited
			stopX()
		})
	}
	b.Cleanup(stop)
	return k, stop, nil
}

// cpuTicks is the user+system time of process pid, in clock ticks.
func cpuTicks(pid int) (int64, error) { return cpuTicksOf(fmt.Sprintf("/proc/%d/stat", pid)) }

// cpuTicksOf reads the user+system ticks from a /proc stat file.
func cpuTicksOf(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// the command name may hold spaces: the fields follow its closing ')'
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%s: %q", path, b)
	}
	return utime + stime, nil
}

// threadTicks sums the user+system time of process pid's threads by
// thread name (Go's threads are all named after the binary; Mesa's
// software renderer names its own, llvmpipe-N), and counts their context
// switches, voluntary and not.
func threadTicks(pid int) (ticks map[string]int64, switches int64) {
	out := map[string]int64{}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, t := range tasks {
		comm, err := os.ReadFile(filepath.Join(t, "comm"))
		if err != nil {
			continue
		}
		tid, _ := strconv.Atoi(filepath.Base(t))
		if n, err := cpuTicksOf(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid)); err == nil {
			out[strings.TrimSpace(string(comm))] += n
		}
		status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/status", pid, tid))
		for _, l := range strings.Split(string(status), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				switches += n
			}
		}
	}
	return out, switches
}

// rssKB is the resident set of process pid in KB.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// BenchmarkKioskProcess measures the kiosk as make dist ships it: the
// Makefile builds every kiosk binary with the same tags.
func TestBenchBuildsTheKioskAsShipped(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(mk), "\n") {
		if strings.Contains(l, " build ") && strings.HasSuffix(strings.TrimSpace(l), " ./kiosk") {
			n++
			if !strings.Contains(l, "-tags "+kioskTags+" ") {
				t.Errorf("the Makefile builds a kiosk without -tags %s: %s", kioskTags, strings.TrimSpace(l))
			}
		}
	}
	if n == 0 {
		t.Error("the Makefile builds no kiosk")
	}
}

package window

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Every thread of the kiosk runs with timerSlack of slack — the Go
// runtime's monitor thread above all, which exists before main runs and
// which no call in the program can reach: RaiseTimerSlack re-executes
// the program (here this test binary, in a child) so that all its
// threads inherit the slack. A slack the launcher already gave is kept,
// and the program is not re-executed for it.
func TestEveryThreadRunsWithTheTimerSlack(t *testing.T) {
	if os.Getenv("HALLQ_TEST_SLACK_CHILD") != "" {
		RaiseTimerSlack()
		done := make(chan bool)
		for range 4 { // threads started after it, too
			go func() { time.Sleep(time.Millisecond); done <- true }()
		}
		for range 4 {
			<-done
		}
		tasks, _ := filepath.Glob("/proc/self/task/*")
		for _, task := range tasks {
			b, err := os.ReadFile(filepath.Join("/proc", filepath.Base(task), "timerslack_ns"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("thread %s slack %s", filepath.Base(task), b)
		}
		fmt.Printf("reexec %q\n", os.Getenv(reexecMarker))
		return
	}
	run := func(launcherSlack time.Duration) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEveryThreadRunsWithTheTimerSlack$", "-test.v")
		cmd.Env = append(os.Environ(), "HALLQ_TEST_SLACK_CHILD=1")
		if launcherSlack > 0 { // as systemd's TimerSlackNSec= would: the slack of the process that starts it
			cmd = exec.Command("sh", "-c", fmt.Sprintf("echo %d > /proc/self/timerslack_ns && exec %s -test.run='^TestEveryThreadRunsWithTheTimerSlack$' -test.v",
				launcherSlack.Nanoseconds(), os.Args[0]))
			cmd.Env = append(os.Environ(), "HALLQ_TEST_SLACK_CHILD=1")
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	check := func(out string, want time.Duration, reexec bool) {
		t.Helper()
		threads := 0
		for _, l := range strings.Split(out, "\n") {
			var tid, ns int64
			if n, _ := fmt.Sscanf(l, "thread %d slack %d", &tid, &ns); n == 2 {
				threads++
				if time.Duration(ns) != want {
					t.Errorf("thread %d has a timer slack of %v, want %v", tid, time.Duration(ns), want)
				}
			}
		}
		if threads < 2 {
			t.Fatalf("the child listed %d threads:\n%s", threads, out)
		}
		if got := strings.Contains(out, "reexec "+strconv.Quote(strconv.FormatInt(int64(timerSlack), 10))); got != reexec {
			t.Errorf("re-executed: %v, want %v\n%s", got, reexec, out)
		}
	}
	check(run(0), timerSlack, true)
	check(run(2*time.Millisecond), 2*time.Millisecond, false)
}

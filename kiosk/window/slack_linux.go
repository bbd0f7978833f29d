package window

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// timerSlack is how late the kernel may wake the kiosk's threads from a
// timed sleep (Linux's timer slack; 50 µs unless the launcher set more).
//
// An idle kiosk's CPU is wake-ups: Fyne's event loop runs 60 times a
// second, drawn or not, and each tick's calls into C wake the Go runtime's
// monitor thread (sysmon), which then checks back every 20 µs until the
// tick's work is done — with the default slack about four wake-ups per
// tick, more on an idle machine, where nothing stretches those short
// sleeps (why a quiet run cost more than a run under load; README,
// Measured here). With a millisecond of slack it checks back once.
// Nothing the kiosk does notices a millisecond: the event loop's tick is
// 16.7 ms, the devices' deadlines are tens of milliseconds and more, and
// a touch is handled at the next tick.
const timerSlack = time.Millisecond

// reexecMarker is set in the environment of the program RaiseTimerSlack
// re-executes, so that it never does so twice.
const reexecMarker = "HALLQ_KIOSK_TIMER_SLACK"

const (
	prSetTimerSlack = 29 // PR_SET_TIMERSLACK, linux/prctl.h
	prGetTimerSlack = 30 // PR_GET_TIMERSLACK
)

// RaiseTimerSlack gives every thread of the kiosk timerSlack of timer
// slack, unless the launcher gave it as much already (systemd's
// TimerSlackNSec=). A thread can set only its own slack, and a new thread
// inherits its creator's; the Go runtime starts its monitor thread before
// any of the program's code runs. So it sets the calling thread's slack
// and re-executes the program on it: the new image's threads all descend
// from that thread. Call it in main before the kiosk opens anything (the
// flags and the configuration are read again); it returns only when there
// is nothing to do or the re-execution failed (the kiosk then runs with
// the slack it had).
func RaiseTimerSlack() {
	runtime.LockOSThread() // the prctl and the exec on one thread
	defer runtime.UnlockOSThread()
	cur, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prGetTimerSlack, 0, 0)
	if errno != 0 || time.Duration(cur) >= timerSlack || os.Getenv(reexecMarker) != "" {
		return
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, uintptr(timerSlack), 0); errno != 0 {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), reexecMarker+"="+strconv.FormatInt(int64(timerSlack), 10))
	syscall.Exec(exe, os.Args, env) // returns only on failure
}

package udev

import (
	"os"
	"strings"
	"testing"
)

// Every device rule gives the device its stable name, lets the kiosk user open
// it, and tells ModemManager to leave it alone: ModemManager probes new
// USB-serial ports with AT commands, which a printer prints and a reader takes
// for garbage.
func TestRulesKeepModemManagerAway(t *testing.T) {
	b, err := os.ReadFile("99-hallq-devices.rules")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		_, after, ok := strings.Cut(line, `SYMLINK+="`)
		if !ok {
			t.Errorf("rule without a stable name: %s", line)
			continue
		}
		name, _, _ := strings.Cut(after, `"`)
		names[name] = true
		for _, want := range []string{`SUBSYSTEM=="tty"`, `ENV{ID_MM_DEVICE_IGNORE}="1"`, `GROUP="dialout"`, `MODE="0660"`} {
			if !strings.Contains(line, want) {
				t.Errorf("%s: rule lacks %s", name, want)
			}
		}
	}
	for _, want := range []string{"hallq-idcard", "hallq-printer", "hallq-scanner"} {
		if !names[want] {
			t.Errorf("no rule for /dev/%s", want)
		}
	}
}

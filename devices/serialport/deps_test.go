package serialport_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Dependency rules: the serial library lives only here, pty only in the
// simulators, idcard uses only the standard library, and devices never import
// the server or the kiosk.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "hallq/devices/...").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		for _, imp := range strings.Fields(imports) {
			switch {
			case imp == "github.com/tarm/serial" && pkg != "hallq/devices/serialport":
				t.Errorf("%s imports the serial library; only serialport may", pkg)
			case imp == "github.com/creack/pty" && pkg != "hallq/devices/sim":
				t.Errorf("%s imports creack/pty; only sim may", pkg)
			case imp == "hallq/ui/kiosk/fonts" && pkg == "hallq/devices/sim":
				// bytes only: the simulator draws printed tickets in the kiosk's CJK font
			case strings.HasPrefix(imp, "hallq/queue-server") || strings.HasPrefix(imp, "hallq/kiosk") || strings.HasPrefix(imp, "hallq/ui"):
				t.Errorf("%s imports %s: devices must not depend on the server, kiosk or UI", pkg, imp)
			case pkg == "hallq/devices/idcard" && strings.Contains(strings.Split(imp, "/")[0], "."):
				t.Errorf("idcard imports %s; it must use only the standard library", imp)
			case pkg == "hallq/devices/idcard" && strings.HasPrefix(imp, "hallq/"):
				t.Errorf("idcard imports %s; it must use only the standard library", imp)
			}
		}
	}
}

package hall

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencyRules keeps the architecture honest: the domain imports
// only the standard library, devices never import the server, the screens
// and the kiosk's application never need OpenGL, and each outside module
// lives in its one home package.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test=false", "-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \",\"}}", "hallq/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	imports := map[string][]string{}
	std := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		std[f[0]] = f[1] == "true"
		if f[2] != "" {
			imports[f[0]] = strings.Split(f[2], ",")
		}
	}
	// the domain: standard library only, all the way down
	for _, dep := range deps(imports, "hallq/queue-server/hall") {
		if !std[dep] {
			t.Errorf("the domain hallq/queue-server/hall depends on %s", dep)
		}
	}
	homes := map[string][]string{ // dependency prefix → packages allowed to import it directly
		"go.etcd.io/bbolt":             {"hallq/queue-server/store", "hallq/kiosk/outbox", "hallq/kiosk/app"},
		"github.com/gorilla/websocket": {"hallq/queue-server/api", "hallq/queue-server/client"},
		"github.com/tarm/":             {"hallq/devices/serialport"},
		"github.com/prometheus/":       {"hallq/queue-server/metrics"},
		"github.com/nats-io/":          {"hallq/queue-server/forward", "hallq/queue-server/central"},
		"github.com/creack/pty":        {"hallq/devices/sim"},
		"fyne.io/fyne/v2":              {"hallq/ui/kiosk", "hallq/kiosk"},
		"github.com/chromedp/":         {},
		"golang.org/x/crypto/nacl/":    {"hallq/queue-server/seal"},
	}
	for pkg, imps := range imports {
		if !strings.HasPrefix(pkg, "hallq/") {
			continue
		}
		for _, imp := range imps {
			for prefix, allowed := range homes {
				if strings.HasPrefix(imp, prefix) && !allowedIn(pkg, allowed) {
					t.Errorf("%s imports %s; only %v may", pkg, imp, allowed)
				}
			}
			if strings.HasPrefix(pkg, "hallq/devices") && strings.HasPrefix(imp, "hallq/queue-server") {
				t.Errorf("device package %s imports the server package %s", pkg, imp)
			}
		}
	}
	// Only the kiosk's window (and the mains above it) may pull in OpenGL:
	// the screens and the application build and test without cgo or a display.
	for _, pkg := range []string{"hallq/ui/kiosk", "hallq/ui/kiosk/cmd/kioskshots", "hallq/kiosk/app", "hallq/kiosk/bridge"} {
		for _, dep := range deps(imports, pkg) {
			if strings.HasPrefix(dep, "github.com/go-gl/") {
				t.Errorf("%s depends on OpenGL (%s)", pkg, dep)
			}
		}
	}
}

func allowedIn(pkg string, allowed []string) bool {
	for _, a := range allowed {
		if pkg == a || strings.HasPrefix(pkg, a+"/") {
			return true
		}
	}
	return false
}

func deps(imports map[string][]string, root string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range imports[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(root)
	var out []string
	for d := range seen {
		out = append(out, d)
	}
	return out
}

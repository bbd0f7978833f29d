package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// graph is what `go list -deps -test ./...` says about the module.
type graph struct {
	std   map[string]bool     // package → in the standard library
	prod  map[string][]string // package → its direct imports, without tests
	tests map[string][]string // package → its direct imports including its tests'
}

func listPackages(t *testing.T) *graph {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-test", "-f", `{{.ImportPath}}|{{.Standard}}|{{join .Imports ","}}`, "hallq/...")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("cannot list the packages, so no dependency rule is checked: go list: %v\n%s", err, stderr)
	}
	g := &graph{std: map[string]bool{}, prod: map[string][]string{}, tests: map[string][]string{}}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "|", 3)
		if len(f) != 3 {
			t.Fatalf("go list printed %q", line)
		}
		var imps []string
		if f[2] != "" {
			imps = strings.Split(f[2], ",")
		}
		for i, imp := range imps { // an import of a test variant: "p [q.test]"
			imps[i], _, _ = strings.Cut(imp, " ")
		}
		path, variant, isVariant := strings.Cut(f[0], " ")
		switch {
		case strings.HasSuffix(path, ".test"): // the generated test main
		case isVariant && variant != "": // "p [p.test]" or "p_test [p.test]": p with its tests
			p := strings.TrimSuffix(path, "_test")
			g.tests[p] = append(g.tests[p], imps...)
		default:
			g.std[path] = f[1] == "true"
			g.prod[path] = imps
			g.tests[path] = append(g.tests[path], imps...)
		}
	}
	if len(g.prod["hallq/queue-server/hall"]) == 0 {
		t.Fatalf("go list did not describe hallq/queue-server/hall; the rules would check nothing:\n%.2000s", out)
	}
	return g
}

// deps returns every package root links (transitively, without tests).
func (g *graph) deps(root string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range g.prod[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(root)
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// under reports whether pkg is prefix itself or below it; a prefix ending
// in "/" (a module owner such as "github.com/nats-io/") matches by prefix.
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

func underAny(pkg string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return under(pkg, p) })
}

// rule is one dependency rule.
type rule struct {
	name  string
	why   string
	names []string // the packages and modules it speaks of: each must still be in the build
	check func(g *graph) []string
}

// homes are the outside dependencies with the packages that may import
// them directly (tests of other packages included, unless tests say so).
var homes = []struct {
	dep, why string
	home     []string
	inTests  bool // tests anywhere may import it too
}{
	{"go.etcd.io/bbolt", "the store is embedded and transactional; one package per side knows its API", []string{"hallq/queue-server/store", "hallq/kiosk/outbox", "hallq/kiosk/app"}, true},
	{"github.com/gorilla/websocket", "push to kiosks, consoles and boards: the server's API and the Go client", []string{"hallq/queue-server/api", "hallq/queue-server/client"}, true},
	{"github.com/tarm/", "one port package wraps the serial library; drivers speak io.ReadWriter", []string{"hallq/devices/serialport"}, false},
	{"github.com/creack/pty", "pseudo-terminals are for the device simulators", []string{"hallq/devices/sim"}, true},
	{"github.com/prometheus/", "one metrics package for what operations teams scrape", []string{"hallq/queue-server/metrics"}, false},
	{"github.com/nats-io/nats.go", "JetStream is the hall's forwarder and the platform's, nobody else's", []string{"hallq/queue-server/forward", "hallq/central/platform",
		"hallq/central/booking", "hallq/central/calendars", "hallq/central/catalog", "hallq/central/session", "hallq/central/notify",
		"hallq/central/audit", "hallq/central/workorders", "hallq/central/rating"}, true},
	{"github.com/SherClockHolmes/webpush-go", "Web Push (VAPID, aes128gcm): one package sends the platform's notifications", []string{"hallq/central/notify"}, false},
	{"github.com/coreos/go-oidc", "one package verifies the province's OpenID Connect ID tokens", []string{"hallq/central/auth"}, false},
	{"golang.org/x/oauth2", "one package runs the pages' sign-in flow (authorization code with PKCE)", []string{"hallq/central/session"}, false},
	{"github.com/nats-io/nats-server", "an embedded NATS server is the platform's (and its tests'), started through one package", []string{"hallq/central/natsembed"}, false},
	{"fyne.io/fyne/v2", "the touch UI lives in the screens and the kiosk's window", []string{"hallq/ui/kiosk", "hallq/kiosk"}, true},
	{"github.com/chromedp/", "real Chromium drives the web pages in tests only, through one helper (no program links it: see the rule on it)", []string{"hallq/internal/browsertest"}, false},
	{"golang.org/x/crypto/nacl/", "sealing ID numbers to the hall server's key: one package knows the box construction", []string{"hallq/queue-server/seal"}, false},
	{"github.com/emmansun/gmsm", "the national algorithms (国密: SM2, SM3, SM4): one package wraps them, the rest asks it", []string{"hallq/internal/gm"}, false},
	{"github.com/tjfoc/gmsm", "TLCP (GB/T 38636) between kiosk and hall server: one package wraps gmtls and its x509", []string{"hallq/internal/tlcp"}, false},
	{"github.com/getkin/", "the OpenAPI validator holds API tests to the published document", []string{"hallq/queue-server/api/apispec"}, false},
}

// stdOnly are the small shared packages the domain may import: each is
// itself standard library only (they may import one another).
var stdOnly = []string{"hallq/internal/idnumber", "hallq/internal/catalog", "hallq/internal/calendar"}

var rules = []rule{
	{
		name:  "the domain imports only the standard library",
		why:   "hall speaks the business: it must build, test and be read without storage, network, devices or UI (idnumber, catalog and calendar, shared with the central and the driver, are themselves standard library only)",
		names: append([]string{"hallq/queue-server/hall"}, stdOnly...),
		check: func(g *graph) (bad []string) {
			for _, p := range append([]string{"hallq/queue-server/hall"}, stdOnly...) {
				for _, d := range g.deps(p) {
					if !g.std[d] && !slices.Contains(stdOnly, d) {
						bad = append(bad, p+" links "+d)
					}
				}
			}
			return bad
		},
	},
	{
		name:  "the hall server binary carries neither the platform nor a NATS server",
		why:   "a hall runs the hall: the province side and an embedded NATS server are other programs (central/, make server starts both); what is not linked cannot be switched on by mistake",
		names: []string{"hallq/queue-server", "hallq/central", "github.com/nats-io/nats-server/"},
		check: func(g *graph) (bad []string) {
			for _, d := range g.deps("hallq/queue-server") {
				if under(d, "hallq/central") || strings.HasPrefix(d, "github.com/nats-io/nats-server/") || under(d, "hallq/tools") {
					bad = append(bad, "the queue-server binary links "+d)
				}
			}
			return bad
		},
	},
	{
		name:  "the hall server does not import the ID-card driver (or any device package)",
		why:   "the server reads ID numbers only as typed text; their rules live in internal/idnumber, shared with the driver",
		names: []string{"hallq/queue-server", "hallq/devices", "hallq/devices/idcard"},
		check: func(g *graph) (bad []string) {
			for _, d := range g.deps("hallq/queue-server") {
				if under(d, "hallq/devices") {
					bad = append(bad, "the queue-server binary links "+d)
				}
			}
			return bad
		},
	},
	{
		name:  "the kiosk binary carries neither the platform nor a NATS server",
		why:   "a kiosk can be stolen: it holds no province code and talks only to its hall server",
		names: []string{"hallq/kiosk"},
		check: func(g *graph) (bad []string) {
			for _, d := range g.deps("hallq/kiosk") {
				if under(d, "hallq/central") || strings.HasPrefix(d, "github.com/nats-io/") {
					bad = append(bad, "the kiosk binary links "+d)
				}
			}
			return bad
		},
	},
	{
		name:  "devices do not import the server, the kiosk, the UI or the platform",
		why:   "drivers are written against io.ReadWriter and reused by any terminal; only standard-library helpers (internal/idnumber) are shared",
		names: []string{"hallq/devices", "hallq/queue-server", "hallq/kiosk", "hallq/ui", "hallq/central", "hallq/ui/kiosk/fonts", "hallq/devices/sim"},
		check: func(g *graph) (bad []string) {
			for pkg, imps := range g.tests {
				if !under(pkg, "hallq/devices") {
					continue
				}
				for _, imp := range imps {
					if imp == "hallq/ui/kiosk/fonts" && pkg == "hallq/devices/sim" {
						continue // bytes only: the simulator draws printed tickets in the kiosk's CJK font
					}
					if underAny(imp, []string{"hallq/queue-server", "hallq/kiosk", "hallq/ui", "hallq/central", "hallq/tools"}) {
						bad = append(bad, pkg+" imports "+imp)
					}
				}
			}
			return bad
		},
	},
	{
		name:  "the ID-card driver uses only the standard library",
		why:   "it parses bytes from a reader; nothing outside Go's own packages belongs in it",
		names: []string{"hallq/devices/idcard"},
		check: func(g *graph) (bad []string) {
			for _, d := range g.deps("hallq/devices/idcard") {
				if !g.std[d] && d != "hallq/internal/idnumber" && d != "hallq/devices/devicecode" {
					bad = append(bad, "hallq/devices/idcard links "+d)
				}
			}
			return bad
		},
	},
	{
		name:  "only the kiosk's window pulls in OpenGL",
		why:   "the screens and the kiosk's application build and test without cgo or a display",
		names: []string{"hallq/ui/kiosk", "hallq/kiosk/app", "hallq/kiosk/bridge", "github.com/go-gl/"},
		check: func(g *graph) (bad []string) {
			for _, pkg := range []string{"hallq/ui/kiosk", "hallq/ui/kiosk/cmd/kioskshots", "hallq/kiosk/app", "hallq/kiosk/bridge"} {
				for _, d := range g.deps(pkg) {
					if strings.HasPrefix(d, "github.com/go-gl/") {
						bad = append(bad, pkg+" links "+d)
					}
				}
			}
			return bad
		},
	},
	{
		name:  "no program links the OpenAPI validator",
		why:   "apispec is a test helper: the spec is served as a file, validation belongs to tests",
		names: []string{"hallq/queue-server/api/apispec", "github.com/getkin/"},
		check: func(g *graph) (bad []string) {
			for pkg := range g.prod {
				if !strings.HasPrefix(pkg, "hallq/") || pkg == "hallq/queue-server/api/apispec" {
					continue
				}
				for _, d := range g.deps(pkg) {
					if strings.HasPrefix(d, "github.com/getkin/") {
						bad = append(bad, pkg+" links "+d)
					}
				}
			}
			return bad
		},
	},
	{
		name:  "only tests use the browser helper",
		why:   "real Chromium drives the web pages in tests only: no program links the helper (nor, through it, chromedp)",
		names: []string{"hallq/internal/browsertest"},
		check: func(g *graph) (bad []string) {
			for pkg, imps := range g.prod {
				if strings.HasPrefix(pkg, "hallq/") && slices.Contains(imps, "hallq/internal/browsertest") {
					bad = append(bad, pkg+" imports hallq/internal/browsertest outside its tests")
				}
			}
			return bad
		},
	},
	{
		name:  "each outside dependency lives in its one home",
		why:   "one package per library keeps its API, its quirks and its upgrade in one place",
		names: homeNames(),
		check: func(g *graph) (bad []string) {
			for _, h := range homes {
				for pkg, imps := range g.prod {
					if strings.HasPrefix(pkg, "hallq/") && slices.ContainsFunc(imps, func(i string) bool { return under(i, h.dep) }) && !underAny(pkg, h.home) {
						bad = append(bad, pkg+" imports "+h.dep+" ("+h.why+"); only "+strings.Join(h.home, ", ")+" may")
					}
				}
				if h.inTests {
					continue
				}
				for pkg, imps := range g.tests {
					if strings.HasPrefix(pkg, "hallq/") && slices.ContainsFunc(imps, func(i string) bool { return under(i, h.dep) }) && !underAny(pkg, h.home) {
						bad = append(bad, "the tests of "+pkg+" import "+h.dep+" ("+h.why+"); only "+strings.Join(h.home, ", ")+" may")
					}
				}
			}
			return bad
		},
	},
}

func homeNames() []string {
	var out []string
	for _, h := range homes {
		out = append(append(out, h.dep), h.home...)
	}
	return out
}

// stale returns the names a rule speaks of that are not in the build.
func stale(g *graph, r rule) []string {
	var out []string
	for _, n := range r.names {
		found := false
		for p := range g.tests {
			if under(p, n) || slices.ContainsFunc(g.tests[p], func(i string) bool { return under(i, n) }) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, n)
		}
	}
	return out
}

func TestDependencyRules(t *testing.T) {
	g := listPackages(t)
	for _, r := range rules {
		if r.why == "" {
			t.Errorf("rule %q gives no reason", r.name)
		}
		for _, n := range stale(g, r) {
			t.Errorf("rule %q names %s, which is no longer in the build: update or drop the rule", r.name, n)
		}
		for _, b := range r.check(g) {
			t.Errorf("%s — broken rule: %s (why: %s)", b, r.name, r.why)
		}
	}
}

// The staleness check itself: a rule about a package that moved away fails.
func TestStaleRuleFails(t *testing.T) {
	g := listPackages(t)
	r := rule{name: "old", why: "x", names: []string{"hallq/queue-server/central", "hallq/queue-server/hall"}}
	if got := stale(g, r); !slices.Equal(got, []string{"hallq/queue-server/central"}) {
		t.Fatalf("stale = %v, want only the package that moved", got)
	}
}

// The one way to read a raw ID number, idnumber.Digits, is for the card
// encoder in devices/idcard alone: everything else keys or masks.
func TestRawIDNumberReadOnlyByTheCardEncoder(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	root := strings.TrimSpace(string(out))
	calls := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		dir := filepath.ToSlash(filepath.Dir(rel))
		imported := false
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "hallq/internal/idnumber" {
				imported = true
			}
		}
		if !imported {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Digits" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "idnumber" {
					calls++
					if dir != "devices/idcard" || strings.HasSuffix(path, "_test.go") {
						t.Errorf("%s calls idnumber.Digits: only devices/idcard's encoder may read a raw number", rel)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Error("no call of idnumber.Digits found: the walk read nothing, or the rule is stale")
	}
}

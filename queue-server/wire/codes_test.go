package wire

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const root = "../.."

// The checked-in JS module and docs table are what go generate writes now.
func TestGeneratedCodesAreCurrent(t *testing.T) {
	js, err := os.ReadFile(filepath.Join(root, "ui/web/static/assets/js/codes.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(js, CodesJS()) {
		t.Error("ui/web/static/assets/js/codes.js is stale: run go generate ./queue-server/wire")
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs/protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	out, ok := SpliceDoc(doc)
	if !ok {
		t.Fatal("docs/protocol.md has lost its codes markers")
	}
	if !bytes.Equal(out, doc) {
		t.Error("the Codes table of docs/protocol.md is stale: run go generate ./queue-server/wire")
	}
}

// Each group spells each value once, and its JS names are distinct.
func TestCodeGroupsSpellEachCodeOnce(t *testing.T) {
	names := map[string]bool{}
	for _, g := range CodeGroups {
		if names[g.Name] {
			t.Errorf("group %s twice", g.Name)
		}
		names[g.Name] = true
		seen, js := map[string]bool{}, map[string]bool{}
		for _, v := range g.Values {
			if v == "" || seen[v] || js[jsName(v)] {
				t.Errorf("%s: %q empty or repeated", g.Name, v)
			}
			seen[v], js[jsName(v)] = true, true
		}
	}
}

// domainConsts reads the constants of the domain package from its source:
// by type (Status, Channel, …) and, for untyped ones, by name prefix.
func domainConsts(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(root, "queue-server/hall/*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no domain sources: %v", err)
	}
	out := map[string][]string{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				typ := ""
				if id, ok := vs.Type.(*ast.Ident); ok {
					typ = id.Name
				}
				for i, n := range vs.Names {
					if i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					key := typ
					switch {
					case strings.HasPrefix(n.Name, "EventReason"):
						key = "EventReason"
					case typ == "" && strings.HasPrefix(n.Name, "Ev"):
						key = "Ev"
					case typ == "" && strings.HasPrefix(n.Name, "Act"):
						key = "Act"
					case typ == "" && strings.HasPrefix(n.Name, "Booking"):
						key = "Booking"
					}
					if key != "" && v != "" {
						out[key] = append(out[key], v)
					}
				}
			}
		}
	}
	return out
}

// Every constant of the domain's vocabularies is in its group and every
// value of a group is a constant of the domain: adding a status, an event
// type or a reason without the shared codes fails here.
func TestCodeGroupsMatchTheDomain(t *testing.T) {
	consts := domainConsts(t)
	for kind, group := range map[string]string{"Status": "TicketStatus", "Channel": "Channel", "AgeClass": "AgeClass",
		"WindowStatus": "WindowStatus", "Code": "ErrorCode", "Reason": "Reason", "EventReason": "EventReason",
		"Ev": "EventType", "Act": "Action", "Booking": "BookingStatus"} {
		g, ok := Group(group)
		if !ok {
			t.Fatalf("no group %s", group)
		}
		want := slices.Clone(consts[kind])
		got := slices.Clone(g.Values)
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(slices.Compact(want), got) {
			t.Errorf("group %s: %v\nthe domain's %s constants: %v", group, got, kind, want)
		}
	}
}

func known(groups ...string) map[string]bool {
	out := map[string]bool{}
	for _, name := range groups {
		g, _ := Group(name)
		for _, v := range g.Values {
			out[v] = true
		}
	}
	return out
}

// jsChecks: where a page's JS names a code, and the groups it must be in.
var jsChecks = []struct {
	re     *regexp.Regexp
	groups []string
}{
	{regexp.MustCompile(`\bact\(\s*'([^']*)'`), []string{"Action"}},
	{regexp.MustCompile(`\bsetWindow\(\s*'([^']*)'`), []string{"WindowAction"}},
	{regexp.MustCompile(`\b(?:ev|event|f|frame|msg)\.type\s*[!=]==?\s*'([^']*)'`), []string{"EventType", "FrameType"}},
	{regexp.MustCompile(`\.status\s*[!=]==?\s*'([^']*)'`), []string{"TicketStatus", "WindowStatus", "BookingStatus"}},
	{regexp.MustCompile(`\bstatus:\s*'([^']*)'`), []string{"TicketStatus", "WindowStatus", "BookingStatus"}},
	{regexp.MustCompile(`\.role\s*[!=]==?\s*'([^']*)'`), []string{"Role"}},
	{regexp.MustCompile(`\.code\s*[!=]==?\s*'([^']*)'`), []string{"ErrorCode", "ClientErrorCode"}},
	{regexp.MustCompile(`\.reason\s*[!=]==?\s*'([^']*)'`), []string{"Reason"}},
	{regexp.MustCompile(`\.(?:printer|reader|scanner)\s*[!=]==?\s*'([^']*)'`), []string{"PrinterState", "ReaderState", "ScannerState"}},
}

// codesIn returns each code a JS source names where a code belongs, with
// the groups it must be in.
func codesIn(src string) (found []string, bad []string) {
	for _, c := range jsChecks {
		ok := known(c.groups...)
		for _, m := range c.re.FindAllStringSubmatch(src, -1) {
			found = append(found, m[1])
			if !ok[m[1]] {
				bad = append(bad, m[0])
			}
		}
	}
	return found, bad
}

// A page's JS names only codes the server knows: a misspelt action, event
// type, status, role, error code or reason fails here (the clerk's No-show
// once sent "no_show").
func TestPagesNameOnlyKnownCodes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "ui/web/static/assets/js/*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no page scripts: %v", err)
	}
	total := 0
	for _, f := range files {
		if filepath.Base(f) == "codes.js" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found, bad := codesIn(string(b))
		total += len(found)
		for _, m := range bad {
			t.Errorf("%s: %s names a code the server does not know (see codes.js)", filepath.Base(f), m)
		}
	}
	// constants of the module must exist: Action.NoShw is undefined in JS
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range constRef.FindAllStringSubmatch(string(b), -1) {
			total++
			if g, ok := Group(m[1]); ok && !slices.ContainsFunc(g.Values, func(v string) bool { return jsName(v) == m[2] }) {
				t.Errorf("%s: %s is not in codes.js", filepath.Base(f), m[0])
			}
		}
	}
	if total == 0 {
		t.Fatal("found no codes in the pages at all: the patterns are broken")
	}
	// the check itself catches the bug it is for
	if _, bad := codesIn(`noshow: { key: ['x'], run: act('no_show') },`); len(bad) != 1 {
		t.Fatal("a misspelt action is not caught")
	}
}

var constRef = regexp.MustCompile(`\b([A-Z][A-Za-z]+)\.([A-Z][A-Za-z]*)\b`)

var goReason = regexp.MustCompile(`(?:Refusal\([A-Za-z.]+,\s*|Reason:\s*|ErrorReason\([^)]*\)\s*[!=]=\s*)"([a-z_]*)"`)

// Every reason the Go code refuses with, sets on an error or an event, or
// compares an error's reason to, is declared in hall.Reasons or
// hall.EventReasonList.
func TestEveryReasonIsDeclared(t *testing.T) {
	ok := known("Reason", "EventReason")
	n := 0
	for _, dir := range []string{"queue-server", "kiosk", "ui", "devices"} {
		filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range goReason.FindAllStringSubmatch(string(b), -1) {
				n++
				if m[1] != "" && !ok[m[1]] {
					t.Errorf("%s: %s: reason %q is not declared in hall.Reasons", p, m[0], m[1])
				}
			}
			return nil
		})
	}
	if n < 30 {
		t.Fatalf("found only %d reasons in the code: the pattern is broken", n)
	}
}

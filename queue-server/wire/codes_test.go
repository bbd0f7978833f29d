package wire

import (
	"bytes"
	"fmt"
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
// In these places a page names the code by its constant (Action.NoShow,
// TicketStatus.Waiting, …): any string literal there fails, a known one as
// "spell it by its constant", an unknown one as a code the server does not
// know. The empty string (no reason, no code) is allowed.
var jsChecks = []struct {
	re     *regexp.Regexp
	groups []string
}{
	{regexp.MustCompile(`\bact\([^,()]*,\s*'([^']*)'`), []string{"Action"}},
	{regexp.MustCompile(`\bonCurrent\([^,()]*,\s*'([^']*)'`), []string{"Action"}},
	{regexp.MustCompile(`\bsetWindow\(\s*'([^']*)'`), []string{"WindowAction"}},
	{regexp.MustCompile(`\b(?:ev|event|f|frame|msg)\.type\s*[!=]==?\s*'([^']*)'`), []string{"EventType", "FrameType"}},
	{regexp.MustCompile(`\.status\s*[!=]==?\s*'([^']*)'`), []string{"TicketStatus", "WindowStatus", "BookingStatus"}},
	{regexp.MustCompile(`\bstatus:\s*'([^']*)'`), []string{"TicketStatus", "WindowStatus", "BookingStatus"}},
	{regexp.MustCompile(`\.role\s*[!=]==?\s*'([^']*)'`), []string{"Role"}},
	{regexp.MustCompile(`\.code\s*[!=]==?\s*'([^']*)'`), []string{"ErrorCode", "ClientErrorCode"}},
	{regexp.MustCompile(`\bAPIError\([^,()]*,\s*'([^']*)'`), []string{"ErrorCode", "ClientErrorCode"}},
	{regexp.MustCompile(`\.code\s*\|\|\s*'([^']*)'`), []string{"ErrorCode", "ClientErrorCode"}},
	{regexp.MustCompile(`\.reason\s*[!=]==?\s*'([^']*)'`), []string{"Reason"}},
	{regexp.MustCompile(`\.(?:printer|reader|scanner)\s*[!=]==?\s*'([^']*)'`), []string{"PrinterState", "ReaderState", "ScannerState"}},
}

// Lists and switches over a code: ['a', 'b'].includes(x.status) and the
// cases of switch (x.type) { … } name codes too.
var (
	jsIncludes  = regexp.MustCompile(`\[([^\[\]]*)\]\.includes\(\s*[\w.]*\.(type|status|role|code|reason)\s*\)`)
	jsSwitch    = regexp.MustCompile(`\bswitch\s*\(\s*[\w.]*\.(type|status|role|code|reason)\s*\)\s*\{`)
	jsCase      = regexp.MustCompile(`\bcase\s+'([^']*)'\s*:`)
	jsQuoted    = regexp.MustCompile(`'([^'\\]*)'|"([^"\\]*)"|` + "`([^`$\\\\]*)`")
	jsComment   = regexp.MustCompile(`(?m)(^|\s)//.*$`)
	fieldGroups = map[string][]string{
		"type":   {"EventType", "FrameType"},
		"status": {"TicketStatus", "WindowStatus", "BookingStatus"},
		"role":   {"Role"},
		"code":   {"ErrorCode", "ClientErrorCode"},
		"reason": {"Reason"},
	}
)

// spelt: every code that has a '.', '_' or '-' in it (ticket.called,
// no_show, no-show, not_found, …). Such spellings are no ordinary words,
// labels or field names, so anywhere in a page's JS a string literal that
// equals one is a code spelt by hand instead of by its constant.
func spelt() map[string]string {
	out := map[string]string{}
	for _, g := range CodeGroups {
		for _, v := range g.Values {
			if strings.ContainsAny(v, "._-") {
				if _, ok := out[v]; !ok {
					out[v] = g.Name + "." + jsName(v)
				}
			}
		}
	}
	return out
}

// codesIn returns each string literal a JS source spells where a code
// belongs (found), and for each of them why it is wrong (bad): a page
// names codes only through the constants of codes.js.
func codesIn(src string) (found []string, bad []string) {
	src = jsComment.ReplaceAllString(src, "$1")
	flag := func(lit, where string, groups []string) {
		if lit == "" {
			return
		}
		found = append(found, lit)
		for _, name := range groups {
			if g, ok := Group(name); ok && slices.Contains(g.Values, lit) {
				bad = append(bad, fmt.Sprintf("%s spells %s as a literal: use %s.%s from codes.js", where, lit, name, jsName(lit)))
				return
			}
		}
		bad = append(bad, fmt.Sprintf("%s names a code the server does not know (one of %s in codes.js)", where, strings.Join(groups, ", ")))
	}
	marked := map[int]bool{} // offsets already reported
	for _, c := range jsChecks {
		for _, m := range c.re.FindAllStringSubmatchIndex(src, -1) {
			marked[m[2]] = true
			flag(src[m[2]:m[3]], src[m[0]:m[1]], c.groups)
		}
	}
	for _, m := range jsIncludes.FindAllStringSubmatchIndex(src, -1) {
		list := src[m[2]:m[3]]
		for _, q := range jsQuoted.FindAllStringSubmatchIndex(list, -1) {
			marked[m[2]+q[0]+1] = true
			flag(list[q[0]+1:q[1]-1], src[m[0]:m[1]], fieldGroups[src[m[4]:m[5]]])
		}
	}
	for _, m := range jsSwitch.FindAllStringSubmatchIndex(src, -1) {
		body := src[m[1]:]
		depth := 1
		for i, r := range body {
			if r == '{' {
				depth++
			} else if r == '}' {
				if depth--; depth == 0 {
					body = body[:i]
					break
				}
			}
		}
		for _, c := range jsCase.FindAllStringSubmatchIndex(body, -1) {
			marked[m[1]+c[2]] = true
			flag(body[c[2]:c[3]], src[m[0]:m[1]]+" "+body[c[0]:c[1]], fieldGroups[src[m[2]:m[3]]])
		}
	}
	codes := spelt()
	for _, q := range jsQuoted.FindAllStringSubmatchIndex(src, -1) {
		if marked[q[0]+1] {
			continue
		}
		lit := src[q[0]+1 : q[1]-1]
		if c, ok := codes[lit]; ok {
			found = append(found, lit)
			bad = append(bad, fmt.Sprintf("%s spells a code as a literal: use %s from codes.js", src[q[0]:q[1]], c))
		}
	}
	return found, bad
}

// A page's JS names codes only through the constants of codes.js, and only
// constants that exist: a misspelt action, event type, status, role, error
// code or reason fails here (the clerk's No-show once sent "no_show"), and
// so does a right one spelt as a literal, which the next rename would miss.
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
		_, bad := codesIn(string(b))
		for _, m := range bad {
			t.Errorf("%s: %s", filepath.Base(f), m)
		}
	}
	// constants of the module must exist: Action.NoShw is undefined in JS
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range constRef.FindAllStringSubmatch(string(b), -1) {
			if g, ok := Group(m[1]); ok {
				total++
				if !slices.ContainsFunc(g.Values, func(v string) bool { return jsName(v) == m[2] }) {
					t.Errorf("%s: %s is not in codes.js", filepath.Base(f), m[0])
				}
			}
		}
	}
	if total < 50 {
		t.Fatalf("found only %d uses of codes.js in the pages: the patterns are broken", total)
	}
}

// The check catches what it is for, and leaves ordinary words alone.
func TestCodesInCatchesLiterals(t *testing.T) {
	for _, src := range []string{
		`requeue: { key: ['q'], run: () => act('过号重排 Requeue', 'requeu', t) },`,
		`noshow: { key: ['x'], run: onCurrent('过号 No-show', 'no-show') },`,
		`if (ev.type === 'ticket.called') say();`,
		`if (t.status !== 'waiting') return;`,
		`if (['display'].includes(me.role)) ok();`,
		"switch (f.type) {\n  case 'welcome':\n    hi();\n}",
		`const failed = 'not_found';`,
		`throw new APIError(0, 'network', '', '');`,
		`if (e.reason === 'config_changed') reload();`,
	} {
		if _, bad := codesIn(src); len(bad) != 1 {
			t.Errorf("%s: %d complaints %q, want 1", src, len(bad), bad)
		}
	}
	for _, src := range []string{
		`show('error', ''); if (d.returnValue === 'ok') go();`,
		`field('open', 'opens (HH:MM)', h.open); field('quota', 'daily quota', q, { type: 'number' });`,
		`if (state === 'open') this.set('waiting'); api('GET', 'services');`,
		`if (e.reason === '' && e.code === ErrorCode.Forbidden) show(e.message);`,
		`num(s.waiting, { 'data-field': 'waiting' }); tokens.fromAddress('display');`,
		"// the clerk's No-show once sent 'no_show'\nact('x', Action.NoShow, t);",
	} {
		if _, bad := codesIn(src); len(bad) != 0 {
			t.Errorf("%s: complaints %q about ordinary words", src, bad)
		}
	}
}

var constRef = regexp.MustCompile(`\b([A-Z][A-Za-z]+)\.([A-Z][A-Za-z]*)\b`)

var goReason = regexp.MustCompile(`(?:Refusal\([A-Za-z.]+,\s*|Reason:\s*|ErrorReason\([^)]*\)\s*[!=]=\s*)"([a-z_]*)"`)

// goRefusal finds a refusal's reason argument: a declared constant, or a
// string literal (which must not be: the constant is the one spelling).
var goRefusal = regexp.MustCompile(`Refusal\([A-Za-z.]+,\s*(?:(?:hall\.)?(Reason[A-Z][A-Za-z]*)|("[a-z_]*"))`)

// Every reason the Go code refuses with, sets on an error or an event, or
// compares an error's reason to, is declared in hall.Reasons or
// hall.EventReasonList; a refusal names it by its constant.
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
				if m[1] != "" && !ok[m[1]] {
					t.Errorf("%s: %s: reason %q is not declared in hall.Reasons", p, m[0], m[1])
				}
			}
			for _, m := range goRefusal.FindAllStringSubmatch(string(b), -1) {
				n++
				if m[2] != "" {
					t.Errorf("%s: %s: name the reason by its constant (hall.Reason…), not as a string", p, m[0])
				}
			}
			return nil
		})
	}
	if n < 30 {
		t.Fatalf("found only %d refusals in the code: the pattern is broken", n)
	}
}

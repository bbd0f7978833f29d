package platform_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// nats.go lives in forward and central/platform only; nats-server in central/natsembed only
// (tests of forward and central may start an embedded server through it).
func TestNATSImportsStayHome(t *testing.T) {
	root := "../.." // the module
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case strings.HasPrefix(p, "github.com/nats-io/nats-server"):
				if dir != "../../central/natsembed" {
					t.Errorf("%s imports %s: only central/natsembed may", path, p)
				}
			case strings.HasPrefix(p, "github.com/nats-io/nats.go"):
				if dir != "../../queue-server/forward" && dir != "../../central/platform" {
					t.Errorf("%s imports %s: only forward and central may", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

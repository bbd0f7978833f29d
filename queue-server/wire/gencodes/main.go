// Command gencodes writes the shared codes of wire.CodeGroups where the
// pages and the docs read them: ui/web/static/assets/js/codes.js and the
// "Codes" table of docs/protocol.md; and the province's booking codes
// (booking.CodeGroups: refusal reasons and booking statuses) for the
// citizen portal, ui/portal/static/p/booking-codes.js. Run it with go generate
// ./queue-server/wire (from the repository root or from queue-server/wire).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"hallq/central/booking"
	"hallq/queue-server/wire"
)

func main() {
	root, err := repoRoot()
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(root, "ui/web/static/assets/js/codes.js"), wire.CodesJS(), 0o644); err != nil {
		fail(err)
	}
	if err := os.WriteFile(filepath.Join(root, booking.CodesFile), booking.CodesJS(), 0o644); err != nil {
		fail(err)
	}
	doc := filepath.Join(root, "docs/protocol.md")
	b, err := os.ReadFile(doc)
	if err != nil {
		fail(err)
	}
	out, ok := wire.SpliceDoc(b)
	if !ok {
		fail(fmt.Errorf("%s has no codes markers", doc))
	}
	if err := os.WriteFile(doc, out, 0o644); err != nil {
		fail(err)
	}
}

// repoRoot is the nearest directory above the working one with a go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("gencodes: no go.mod above the working directory")
		}
		dir = up
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencodes:", err)
	os.Exit(1)
}

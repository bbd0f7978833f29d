package api_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestNodeConformance runs examples/conformance: a client in another
// language (Node, with the ws library) written from the OpenAPI document
// alone, which issues, calls over a pipelined websocket and resumes. It
// skips when node is not installed; make deps installs its one package.
func TestNodeConformance(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir, _ := filepath.Abs("../../examples/conformance")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws")); err != nil {
		t.Fatalf("examples/conformance has no node_modules/ws: run make deps (npm ci there)")
	}
	h := mustContractHall(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "conformance.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HALLQ_URL="+h.s.URL, "HALLQ_TOKEN="+h.admin.Token)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the Node conformance client failed: %v", err)
	}
}

package kiosk

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoRealDriver: the screens and kioskshots use Fyne's API and test
// driver only, so they build without cgo and test without GL or a display.
func TestNoRealDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "./cmd/kioskshots").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "fyne.io/fyne/v2/app",
			strings.HasPrefix(dep, "fyne.io/fyne/v2/internal/driver/glfw"),
			strings.HasPrefix(dep, "fyne.io/fyne/v2/internal/driver/mobile"),
			strings.HasPrefix(dep, "github.com/go-gl/"):
			t.Errorf("depends on %s", dep)
		}
	}
}

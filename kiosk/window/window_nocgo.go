//go:build !cgo

// Package window runs a kiosk in a real Fyne window. This build has no cgo,
// so no OpenGL window: Run says so. Everything else (the application, the
// screens with Fyne's test driver) builds and vets without cgo.
package window

import (
	"context"
	"errors"
	"log/slog"

	"hallq/kiosk/app"
)

// Run fails: the kiosk window needs cgo and OpenGL.
func Run(ctx context.Context, cfg app.Config, version string, log *slog.Logger) error {
	return errors.New("this kiosk was built without cgo: the window needs cgo and OpenGL (build with CGO_ENABLED=1)")
}

//go:build cgo

// Package window runs a kiosk in a real Fyne window: it creates the Fyne
// app (the only package besides the mains to do so), draws the screens and
// joins them to the kiosk's application. It needs cgo and a display.
package window

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"hallq/kiosk/app"
	"hallq/kiosk/bridge"
	"hallq/kiosk/voice"
	ui "hallq/ui/kiosk"
)

// Run opens the kiosk described by cfg and shows it until the window closes
// or ctx ends.
func Run(ctx context.Context, cfg app.Config, version string, log *slog.Logger) error {
	limitMemory()
	var size fyne.Size
	if !cfg.IsFullscreen() && os.Getenv("FYNE_SCALE") == "" {
		// the screens are laid out for a 1080×1920 portrait terminal: in a
		// window, scale that layout to the screen (under xvfb-run -s
		// "-screen 0 1080x1920x24" it fills the screen; on a landscape
		// desktop it is as tall as the screen)
		scale := 0.5
		if w, h, ok := screenSize(); ok {
			scale = min(float64(w)/portraitW, float64(h)/portraitH)
		}
		os.Setenv("FYNE_SCALE", strconv.FormatFloat(scale, 'f', 3, 64))
		size = fyne.NewSize(portraitW, portraitH)
	}
	if cfg.Speaker == nil && cfg.Voice != "off" {
		if voice.Available("") {
			cfg.Speaker = voice.Start(ctx, voice.Options{Logger: log})
		} else if cfg.Voice == "espeak-ng" {
			log.Warn("voice: espeak-ng is not installed; the kiosk stays silent")
		}
	}
	a := fyneapp.NewWithID("cn.gov.hallq.kiosk")
	w := a.NewWindow("hallq kiosk")
	w.SetFullScreen(cfg.IsFullscreen())
	var screens *ui.UI
	rel := newReleaser(releaseAfter, releaseMemory)
	defer rel.stop()
	k, err := app.Open(cfg, version, log, func(v app.View) {
		if screens != nil {
			screens.Show(bridge.View(v))
		}
	})
	if err != nil {
		return err
	}
	defer k.Close()
	screens = ui.New(w, bridge.New(k.Flow, k.Core, a.Quit))
	screens.SetDrawn(rel.drawn)
	rel.drawn() // the home screen New drew
	if cfg.IsFullscreen() {
		w.SetCloseIntercept(func() {}) // only the admin PIN's "exit" leaves the kiosk
	} else {
		w.Resize(size)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go k.Run(ctx)
	go func() {
		<-ctx.Done()
		// Fyne's calls belong on its goroutine: a.Quit from here logged
		// "Error in Fyne call thread" at every SIGINT/SIGTERM
		// (kiosk/demo's TestKioskProcessStopsCleanlyOnASignal).
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	return nil
}

// The kiosk's Go memory: what it keeps live is mostly the fonts as Fyne's
// text shaper holds them (≈ 3.4 MB for the CJK font's common subset, ≈ 13
// MB for the whole face once a rare ideograph needs it; ui/kiosk/theme.go)
// and the screen's widgets, ≈ 16–30 MB in all; with Go's default
// (GOGC=100, no limit) the heap it kept from start-up and from redraws was
// twice that, resident for nothing on an idle kiosk. The kiosk collects at
// 50 % growth and keeps its Go memory under a soft limit of 64 MiB, unless
// GOGC or GOMEMLIMIT are set in its environment, which then decide
// (docs/kiosk.md); and it gives freed pages back once its screen stays the
// same (release.go).
const (
	kioskGCPercent   = 50
	kioskMemoryLimit = 64 << 20
)

func limitMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(kioskGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(kioskMemoryLimit)
	}
}

// The kiosk's screen in layout units.
const portraitW, portraitH = 1080, 1920

//go:build cgo

// Package window runs a kiosk in a real Fyne window: it creates the Fyne
// app (the only package besides the mains to do so), draws the screens and
// joins them to the kiosk's application. It needs cgo and a display.
package window

import (
	"context"
	"log/slog"
	"os"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"hallq/kiosk/app"
	"hallq/kiosk/bridge"
	ui "hallq/ui/kiosk"
)

// Run opens the kiosk described by cfg and shows it until the window closes
// or ctx ends.
func Run(ctx context.Context, cfg app.Config, version string, log *slog.Logger) error {
	if !cfg.IsFullscreen() && os.Getenv("FYNE_SCALE") == "" {
		// the screens are laid out for a 1080×1920 portrait terminal: on a
		// desktop, show that whole layout at half size
		os.Setenv("FYNE_SCALE", "0.5")
	}
	a := fyneapp.NewWithID("cn.gov.hallq.kiosk")
	w := a.NewWindow("hallq kiosk")
	w.SetFullScreen(cfg.IsFullscreen())
	var screens *ui.UI
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
	if cfg.IsFullscreen() {
		w.SetCloseIntercept(func() {}) // only the admin PIN's "exit" leaves the kiosk
	} else {
		w.Resize(fyne.NewSize(1080, 1920))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go k.Run(ctx)
	go func() {
		<-ctx.Done()
		a.Quit()
	}()
	w.ShowAndRun()
	return nil
}

package window

import "fyne.io/fyne/v2"

// fyneSize scales a portrait kiosk screen for a desktop window.
func fyneSize(w, h int, scale float32) fyne.Size {
	return fyne.NewSize(float32(w)*scale, float32(h)*scale)
}

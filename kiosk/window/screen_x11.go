//go:build cgo && linux

package window

// #cgo LDFLAGS: -lX11
// #include <stdlib.h>
// #include <X11/Xlib.h>
import "C"

// screenSize is the X display's default screen in pixels.
func screenSize() (w, h int, ok bool) {
	d := C.XOpenDisplay(nil)
	if d == nil {
		return 0, 0, false
	}
	defer C.XCloseDisplay(d)
	s := C.XDefaultScreen(d)
	return int(C.XDisplayWidth(d, s)), int(C.XDisplayHeight(d, s)), true
}

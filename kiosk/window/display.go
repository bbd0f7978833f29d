package window

import "os"

// HasDisplay reports whether a graphical display is available.
func HasDisplay() bool { return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" }

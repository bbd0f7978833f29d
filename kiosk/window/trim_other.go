//go:build cgo && !linux

package window

// trimCHeap does nothing off Linux (malloc_trim is glibc's).
func trimCHeap() {}

//go:build cgo && linux

package window

// #include <malloc.h>
import "C"

// trimCHeap returns the free pages of every malloc arena (glibc's
// malloc_trim: free chunks inside an arena too, not only its top).
func trimCHeap() { C.malloc_trim(0) }

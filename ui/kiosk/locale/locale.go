// Package locale gives the kiosk a language tag Fyne can parse before Fyne
// looks for one. Under LANG=C.UTF-8 or POSIX.UTF-8 (common in systemd units
// and containers) Fyne's lang package, while it initializes, reads the
// first set of LC_ALL, LC_MESSAGES and LANG, takes "C" for a language and
// logs "Error parsing user locale C". LANGUAGE, which it consults first
// for such a value, names a language without touching the character set.
//
// Import it (blank) from a main package: it imports only package os, so
// Go's initialization order (packages sorted by import path, each once its
// dependencies are) runs it right after os, long before Fyne's lang
// package, whose dependencies reach golang.org/x/text.
package locale

import "os"

func init() { Quiet() }

// Quiet sets LANGUAGE to zh_CN when the locale is C or POSIX with a
// character set and LANGUAGE is unset. (Plain C or POSIX switches
// translations off, which Fyne accepts quietly.)
func Quiet() {
	for _, env := range [...]string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(env)
		if v == "" {
			continue
		}
		if (hasPrefix(v, "C.") || hasPrefix(v, "POSIX.")) && os.Getenv("LANGUAGE") == "" {
			os.Setenv("LANGUAGE", "zh_CN")
		}
		return
	}
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Package archtest holds hallq's dependency rules as one test
// (deps_test.go, in the style of tailscale's tstest/deptest): which
// package may import which, and what each binary may link. Every rule
// says why it exists; a rule that names a package or module no longer in
// the build fails, so the rules cannot quietly go stale; and the test
// fails, never skips, when it cannot list the packages.
//
// The package has no code of its own: `go test ./internal/archtest` (part
// of `make test`) is the check.
package archtest

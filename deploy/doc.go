// Package deploy holds what it takes to run hallq on real machines — systemd
// units, udev rules, install and enrolment scripts, the monitoring kit — and
// the tests that keep them honest: the released binary is built with the
// release flags and run (version stamp, -check-config, /healthz, kiosk
// enrolment; the linux/arm64 and linux/loong64 builds under qemu-user:
// -version, /healthz, a ticket issued and called, a clean stop), the units pass systemd-analyze verify, and every metric the
// alerts and dashboard use is one the server exports. See docs/operations.md.
package deploy

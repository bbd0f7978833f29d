// Command loadgen plays a hall day against a running queue-server through
// its API: kiosks issuing, clerks calling and serving, citizens rating.
// See package loadgen; “make demo` runs it against a local hall.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"hallq/tools/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := loadgen.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Command hallq-ca creates a hall's certificate authority and issues the
// certificates queue-server serves HTTPS and WSS with. See package tlsca.
package main

import (
	"os"

	"hallq/queue-server/tlsca"
)

func main() { os.Exit(tlsca.Main(os.Args[1:], os.Stdout, os.Stderr)) }

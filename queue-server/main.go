// Command queue-server runs one hall's queue engine, store and API.
// See README.md and docs/protocol.md.
package main

import (
	"os"
	_ "time/tzdata" // halls run on machines without a zoneinfo database

	"hallq/queue-server/server"
)

func main() { os.Exit(server.Main(os.Args[1:], os.Stdout, os.Stderr)) }

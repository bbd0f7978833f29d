package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"hallq/queue-server/hall"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run plays -days seeded days of the sample hall (seeds 1…days) and prints
// each day and the mean errors; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("estimates", flag.ContinueOnError)
	fs.SetOutput(stderr)
	days := fs.Int("days", 5, "how many seeded days to play (seeds 1…days)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *days < 1 {
		fmt.Fprintf(stderr, "-days must be at least 1, got %d\n", *days)
		return 2
	}
	var est, naive float64
	for seed := uint64(1); seed <= uint64(*days); seed++ {
		p := DefaultParams()
		p.Seed = seed
		r, err := Run(hall.SampleConfig(), p)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "day %d: %v\n", seed, r)
		est += r.RelErr()
		naive += r.NaiveRelErr()
	}
	n := float64(*days)
	fmt.Fprintf(stdout, "mean error over %d days: estimate %.0f%% of the mean wait, naive %.0f%%\n", *days, 100*est/n, 100*naive/n)
	return 0
}

package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"hallq/devices/idcard"
)

// ConsoleHelp lists the console commands.
const ConsoleHelp = `commands:
  card [elderly|expired|foreign|foreign2017|hkmotw]  place a card (default resident)
  remove                                            take the card away
  scan <text>                                       scan a code
  paper out|in|low                                  paper supply
  cover open|closed                                 printer cover
  help                                              this text
  quit                                              stop`

// Console prints one line per device with its terminal path, then runs
// commands read from in until in ends, "quit", or ctx ends. Printed tickets
// are echoed as text to out and, when ticketsDir is set, saved there as PNG
// (paperDots wide).
func Console(ctx context.Context, d *Devices, in io.Reader, out io.Writer, ticketsDir string, paperDots int) error {
	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", a...)
	}
	say("idcard %s", d.IDCard.Path())
	say("printer %s", d.Printer.Path())
	say("scanner %s", d.Scanner.Path())

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() { // the only reader of printed pages
		defer wg.Done()
		n := 0
		for {
			select {
			case <-ctx.Done():
				return
			case pg := <-d.Printer.Pages():
				n++
				say("--- ticket %d ---\n%s", n, strings.TrimRight(pg.Text(), "\n"))
				if ticketsDir != "" {
					if err := savePNG(filepath.Join(ticketsDir, fmt.Sprintf("ticket-%03d.png", n)), pg, paperDots); err != nil {
						say("ticket %d: %v", n, err)
					}
				}
			}
		}
	}()

	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		var line string
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case line, ok = <-lines:
			if !ok {
				return nil
			}
		}
		if strings.TrimSpace(line) == "quit" {
			return nil
		}
		if msg, err := command(d, line); err != nil {
			say("error: %v", err)
		} else if msg != "" {
			say("%s", msg)
		}
	}
}

var consoleCards = map[string]idcard.Card{
	"": SampleResident, "elderly": SampleElderly, "expired": SampleExpired,
	"foreign": SampleForeign, "foreign2017": SampleForeign2017, "hkmotw": SampleHKMOTW,
}

func command(d *Devices, line string) (string, error) {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	switch verb {
	case "":
		return "", nil
	case "help":
		return ConsoleHelp, nil
	case "card":
		c, ok := consoleCards[arg]
		if !ok {
			return "", fmt.Errorf("unknown card %q", arg)
		}
		return fmt.Sprintf("card placed: %v %s", c.Type, c.Number.Masked()), d.IDCard.Place(c)
	case "remove":
		return "card removed", d.IDCard.Remove()
	case "scan":
		return "scanned " + arg, d.Scanner.Scan(arg)
	case "paper":
		p, ok := map[string]Paper{"out": PaperOut, "in": PaperOK, "low": PaperLow}[arg]
		if !ok {
			return "", fmt.Errorf("paper out|in|low")
		}
		return "paper " + arg, d.Printer.SetPaper(p)
	case "cover":
		if arg != "open" && arg != "closed" {
			return "", fmt.Errorf("cover open|closed")
		}
		return "cover " + arg, d.Printer.SetCover(arg == "open")
	}
	return "", fmt.Errorf("unknown command %q (try help)", verb)
}

func savePNG(path string, pg Page, paperDots int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := RenderPNG(f, pg, paperDots); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

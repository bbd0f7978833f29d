package sim

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"hallq/devices/idcard"
)

// ConsoleHelp lists the console commands.
const ConsoleHelp = `commands:
  card [elderly|expired|foreign|foreign2017|hkmotw]  place a card (default resident); a card
                                                    already there is swapped (lifted, then placed)
  card unreadable                                   a card the reader finds but cannot read
  remove                                            take the card away
  reader fault silence|garbage|checksum|truncate|vanish|busy [n]
                                                    bend the reader's next n replies (default 1)
  reader clear                                      no more reader faults
  scan <text>                                       scan a code
  paper out|in|low|runout                           paper supply (runout: ends mid next ticket)
  cover open|closed                                 printer cover
  printer offline|online                            printer online state
  unplug reader|printer|scanner                     the device vanishes (cable pulled)
  plug reader|printer|scanner                       and comes back
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
			case pg := <-d.Printer.TornPages():
				say("--- paper ran out: ticket torn after %d lines (not a ticket; status now says paper end) ---", len(pg.Lines))
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

// readerFaults are the console's names for reader faults.
var readerFaults = map[string]Fault{
	"silence": {Kind: FaultSilence}, "garbage": {Kind: FaultGarbage}, "checksum": {Kind: FaultBadChecksum},
	"truncate": {Kind: FaultTruncate}, "vanish": {Kind: FaultVanish}, "busy": {Kind: FaultStatus, SW3: 0x24},
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
		if arg == "unreadable" {
			return "unreadable card placed: the reader finds it but every read fails", d.IDCard.PlaceUnreadable(SampleResident)
		}
		c, ok := consoleCards[arg]
		if !ok {
			return "", fmt.Errorf("unknown card %q", arg)
		}
		if d.IDCard.Present() { // readers report a card once per placement
			return fmt.Sprintf("card swapped: %v %s", c.Type, c.Number.Masked()), d.IDCard.Swap(c, 3*time.Second)
		}
		return fmt.Sprintf("card placed: %v %s", c.Type, c.Number.Masked()), d.IDCard.Place(c)
	case "remove":
		return "card removed", d.IDCard.Remove()
	case "reader":
		f := strings.Fields(arg)
		if len(f) == 1 && f[0] == "clear" {
			return "reader faults cleared", d.IDCard.ClearFaults()
		}
		if len(f) < 2 || len(f) > 3 || f[0] != "fault" {
			return "", fmt.Errorf("reader fault silence|garbage|checksum|truncate|vanish|busy [n], or reader clear")
		}
		fault, ok := readerFaults[f[1]]
		if !ok {
			return "", fmt.Errorf("unknown reader fault %q (silence|garbage|checksum|truncate|vanish|busy)", f[1])
		}
		fault.Times = 1
		if len(f) == 3 {
			n, err := strconv.Atoi(f[2])
			if err != nil || n < 1 {
				return "", fmt.Errorf("reader fault %s: %q is not a count", f[1], f[2])
			}
			fault.Times = n
		}
		return fmt.Sprintf("reader: next %d replies %s", fault.Times, f[1]), d.IDCard.Inject(fault)
	case "scan":
		return "scanned " + arg, d.Scanner.Scan(arg)
	case "paper":
		if arg == "runout" {
			return "paper will run out a few lines into the next ticket", d.Printer.FailNextJob()
		}
		p, ok := map[string]Paper{"out": PaperOut, "in": PaperOK, "low": PaperLow}[arg]
		if !ok {
			return "", fmt.Errorf("paper out|in|low|runout")
		}
		return "paper " + arg, d.Printer.SetPaper(p)
	case "cover":
		if arg != "open" && arg != "closed" {
			return "", fmt.Errorf("cover open|closed")
		}
		return "cover " + arg, d.Printer.SetCover(arg == "open")
	case "printer":
		if arg != "offline" && arg != "online" {
			return "", fmt.Errorf("printer offline|online")
		}
		return "printer " + arg, d.Printer.SetOffline(arg == "offline")
	case "unplug", "plug":
		dev, ok := map[string]interface {
			Unplug() error
			Plug() error
			Path() string
		}{"reader": d.IDCard, "printer": d.Printer, "scanner": d.Scanner}[arg]
		if !ok {
			return "", fmt.Errorf("%s reader|printer|scanner", verb)
		}
		if verb == "unplug" {
			return arg + " unplugged", dev.Unplug()
		}
		if err := dev.Plug(); err != nil {
			return "", err
		}
		return arg + " plugged in at " + dev.Path(), nil
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

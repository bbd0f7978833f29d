// Command kioskshots renders every main kiosk screen headless, with Fyne's
// test driver (no GL, no display), and writes them as PNG files for the
// README:
//
//	go run ./ui/kiosk/cmd/kioskshots -out docs/screenshots
package main

import (
	"flag"
	"fmt"
	"image/png"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"hallq/ui/kiosk"
)

func main() {
	out := flag.String("out", "docs/screenshots", "directory for the kiosk-*.png files")
	width := flag.Float64("width", 1080, "screen width")
	height := flag.Float64("height", 1920, "screen height")
	flag.Parse()
	if err := run(*out, fyne.NewSize(float32(*width), float32(*height))); err != nil {
		log.Fatal(err)
	}
}

// shot is one screenshot: the view to show, then taps on the tiles that
// show these texts (to reach the UI's own states: language, large text,
// the PIN pad).
type shot struct {
	name string
	view kiosk.View
	taps []string
}

func run(dir string, size fyne.Size) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	test.NewApp()
	w := test.NewWindow(nil)
	defer w.Close()
	w.Resize(size)
	ui := kiosk.New(w, sample{})

	hall := "武昌区公安分局政务服务大厅"
	ticket := kiosk.Ticket{
		Number: "A023", Ahead: 7, EstimatedWait: 18 * time.Minute,
		StatusURL: "https://hall.example.gov.cn/t/8f3a9c2e", MaskedID: "4201**********1234",
		Printed: true,
	}
	unprinted := ticket
	unprinted.Printed = false
	en := []string{"English"}

	shots := []shot{
		{name: "home", view: kiosk.View{Screen: kiosk.ScreenHome}},
		{name: "home-en", view: kiosk.View{Screen: kiosk.ScreenHome}, taps: en},
		{name: "home-elderly", view: kiosk.View{Screen: kiosk.ScreenHome}, taps: []string{"长辈模式"}},
		{name: "insert-card", view: kiosk.View{Screen: kiosk.ScreenInsertCard, ServiceZH: "户政", ServiceEN: "Household registration"}},
		{name: "appointment", view: kiosk.View{Screen: kiosk.ScreenBooking}},
		{name: "working", view: kiosk.View{Screen: kiosk.ScreenWorking, ServiceZH: "户政", ServiceEN: "Household registration"}},
		{name: "ticket", view: kiosk.View{Screen: kiosk.ScreenTicket, ServiceZH: "户政", ServiceEN: "Household registration", Ticket: ticket}},
		{name: "ticket-not-printed-en", view: kiosk.View{Screen: kiosk.ScreenTicket, ServiceZH: "户政", ServiceEN: "Household registration", Ticket: unprinted}, taps: en},
		{name: "refusal", view: kiosk.View{Screen: kiosk.ScreenRefusal, Refusal: kiosk.NotFound}},
		{name: "refusal-en", view: kiosk.View{Screen: kiosk.ScreenRefusal, Refusal: kiosk.OutsideCheckinWindow,
			SlotStart: at(10, 0), CheckInFrom: at(9, 30), CheckInUntil: at(10, 15)}, taps: en},
		{name: "refusal-checked-in", view: kiosk.View{Screen: kiosk.ScreenRefusal, Refusal: kiosk.AlreadyCheckedIn,
			Held: []kiosk.HeldTicket{{ID: "t1", Number: "B012"}}}},
		{name: "still-there", view: kiosk.View{Screen: kiosk.ScreenInsertCard, StillThere: true}},
		{name: "home-offline", view: kiosk.View{Screen: kiosk.ScreenHome, Offline: true, TakeCard: true}},
		{name: "out-of-service", view: kiosk.View{Screen: kiosk.ScreenOutOfService}},
		{name: "pin", view: kiosk.View{Screen: kiosk.ScreenHome}, taps: []string{hall, hall, hall, hall, hall, "1", "2"}},
		{name: "service", view: kiosk.View{Screen: kiosk.ScreenService, Status: kiosk.Status{
			ReaderPresent: true, PrinterPresent: true, PaperLow: true, ScannerPresent: true,
			LeasesLeft: 48, PendingOffline: 3, Version: "hallq 0.1.0",
		}}},
	}
	for _, s := range shots {
		v := s.view
		v.HallName, v.NewVisitor = hall, true
		ui.Show(v)
		w.Resize(size)
		for _, label := range s.taps {
			t := find(w.Canvas().Content(), label)
			if t == nil {
				return fmt.Errorf("%s: nothing to tap shows %q", s.name, label)
			}
			test.Tap(t)
		}
		if err := save(filepath.Join(dir, "kiosk-"+s.name+".png"), w.Canvas()); err != nil {
			return err
		}
	}
	return nil
}

func save(path string, c fyne.Canvas) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, c.Capture()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// find returns the innermost tappable object whose content shows label.
func find(o fyne.CanvasObject, label string) fyne.Tappable {
	var children []fyne.CanvasObject
	switch x := o.(type) {
	case *fyne.Container:
		children = x.Objects
	case fyne.Widget:
		children = test.WidgetRenderer(x).Objects()
	}
	for _, c := range children {
		if t := find(c, label); t != nil {
			return t
		}
	}
	if t, ok := o.(fyne.Tappable); ok && shows(o, label) {
		return t
	}
	return nil
}

func shows(o fyne.CanvasObject, label string) bool {
	switch x := o.(type) {
	case *canvas.Text:
		return x.Text == label
	case *widget.RichText:
		return strings.TrimSpace(x.String()) == label
	case *fyne.Container:
		for _, c := range x.Objects {
			if shows(c, label) {
				return true
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			if shows(c, label) {
				return true
			}
		}
	}
	return false
}

// sample is a hall with its five usual services; taps go nowhere.
type sample struct{}

func (sample) Services() []kiosk.ServiceTile {
	return []kiosk.ServiceTile{
		{Code: "A", NameZH: "户政", NameEN: "Household registration", Waiting: 12, EstimatedWait: 25 * time.Minute, RequiresID: true, Open: true},
		{Code: "B", NameZH: "出入境", NameEN: "Exit and entry", Waiting: 5, EstimatedWait: 9 * time.Minute, RequiresID: true, Open: true},
		{Code: "C", NameZH: "车驾管", NameEN: "Vehicles and licences", Waiting: 21, EstimatedWait: 48 * time.Minute, RequiresID: true, Open: true},
		{Code: "D", NameZH: "治安", NameEN: "Public-order permits", Waiting: 0, EstimatedWait: -1, RequiresID: true, Open: false, ClosedReason: kiosk.IssuingStopped},
		{Code: "E", NameZH: "综合咨询", NameEN: "General enquiries", Waiting: 3, EstimatedWait: 5 * time.Minute, Open: true},
	}
}

func (sample) SelectService(string)       {}
func (sample) Continue()                  {}
func (sample) Reprint(string)             {}
func (sample) StartBooking()              {}
func (sample) CallHelper()                {}
func (sample) TakeWalkIn()                {}
func (sample) Retry()                     {}
func (sample) Done()                      {}
func (sample) Cancel()                    {}
func (sample) SetLanguage(kiosk.Language) {}
func (sample) SetElderly(bool)            {}
func (sample) Touched()                   {}
func (sample) CheckPIN(string) bool       { return false }
func (sample) ExitKiosk()                 {}
func (sample) Rate(int, []string)         {}

// at is a time of the sample day, in hall time.
func at(hh, mm int) time.Time {
	return time.Date(2026, 11, 27, hh, mm, 0, 0, time.FixedZone("CST", 8*3600))
}

// Command barewindow is BenchmarkKioskProcess's reference: a Fyne window
// the kiosk's size showing one line of text, and nothing else — no
// devices, no server, no timers of its own, in a process set up as the
// kiosk's (window.RaiseTimerSlack). What it costs idle is what Fyne's
// event loop (it polls the window system 60 times a second, drawn or not)
// and the Go runtime around it cost any Fyne program on that machine at
// that moment.
package main

import (
	"os"
	"os/signal"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"hallq/kiosk/window"
)

func main() {
	window.RaiseTimerSlack()
	a := app.NewWithID("cn.gov.hallq.barewindow")
	w := a.NewWindow("bare window")
	w.SetContent(widget.NewLabel("请取号 Please take a number"))
	w.Resize(fyne.NewSize(1080, 1920))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt)
	go func() {
		<-stop
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
}

package bridge

import (
	"testing"

	"hallq/kiosk/app"
	"hallq/queue-server/hall"
	ui "hallq/ui/kiosk"
)

// The hall calendar's reasons reach the tiles and the refusal screen.
func TestCalendarReasonsReachTheScreens(t *testing.T) {
	tiles := Tiles([]hall.ServiceView{
		{Code: "A", NotIssuing: string(hall.ReasonClosure), Closure: &hall.Text{ZH: "系统升级", EN: "system upgrade"}},
		{Code: "B", NotIssuing: string(hall.ReasonBookingOnly)},
		{Code: "C", NotIssuing: string(hall.ReasonHoliday)},
	})
	if tiles[0].ClosedReason != ui.Closure || tiles[0].ClosureZH != "系统升级" || tiles[0].ClosureEN != "system upgrade" ||
		tiles[1].ClosedReason != ui.BookingOnly || tiles[2].ClosedReason != ui.Holiday {
		t.Errorf("tiles = %+v", tiles)
	}
	v := View(app.View{Screen: app.ScreenRefusal, Refusal: app.RefuseClosure, Closure: &hall.Text{ZH: "系统升级", EN: "system upgrade"}})
	if v.Refusal != ui.Closure || v.ClosureZH != "系统升级" || v.ClosureEN != "system upgrade" {
		t.Errorf("view = %+v", v)
	}
	if View(app.View{Screen: app.ScreenRefusal, Refusal: app.RefuseBookingOnly}).Refusal != ui.BookingOnly {
		t.Error("booking-only refusal lost")
	}
}

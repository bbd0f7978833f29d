package kiosk

import "testing"

// A service in its booking-only hours stays tappable, says so on its tile,
// and its refusal offers check-in (the app answers the tap with it).
func TestBookingOnlyTileAndRefusalOfferCheckIn(t *testing.T) {
	k := mustKiosk(t)
	k.model.services[1] = ServiceTile{Code: "B", NameZH: "出入境", NameEN: "Exit and entry", RequiresID: true, ClosedReason: BookingOnly, EstimatedWait: -1}
	k.show(View{Screen: ScreenHome})
	k.mustShow("现在仅限预约")
	k.tap("出入境")
	k.mustCalls("SelectService B")
	k.show(View{Screen: ScreenRefusal, Refusal: BookingOnly})
	k.mustShow("该业务现在只办理网上预约的市民")
	k.tap("我已预约，签到取号")
	k.mustCalls("StartBooking")
	k.tap("English")
	k.model.took()
	k.mustShow("This service only takes online bookings right now", "I have booked: check in")
}

// A special closure: the home screen says so with the hall's reason, the
// tiles are closed, and a refusal gives the reason too.
func TestClosureShowsTheHallsReason(t *testing.T) {
	k := mustKiosk(t)
	for i := range k.model.services {
		s := &k.model.services[i]
		s.Open, s.ClosedReason, s.ClosureZH, s.ClosureEN = false, Closure, "系统升级", "system upgrade"
	}
	k.show(View{Screen: ScreenHome})
	k.mustShow("今日暂停办理：系统升级", "今日暂停办理")
	if ts := k.tiles("户政"); len(ts) != 0 {
		t.Error("a tile of a closed day can be tapped")
	}
	k.tap("English")
	k.model.took()
	k.mustShow("Closed today: system upgrade")
	k.show(View{Screen: ScreenRefusal, Refusal: Closure, ClosureZH: "系统升级", ClosureEN: "system upgrade"})
	k.mustShow("The hall is closed today.", "Reason: system upgrade")
}

// The helper button (帮办) is on the home and refusal screens; once staff
// were told the screen says so, and offline it sends the citizen to the desk.
func TestHelperButton(t *testing.T) {
	k := mustKiosk(t)
	k.tap("呼叫工作人员帮忙")
	k.mustCalls("CallHelper")
	k.show(View{Screen: ScreenHome, HelperCalled: true})
	k.mustShow("已通知工作人员，请在这台自助机旁稍候。", "再次呼叫工作人员")
	k.show(View{Screen: ScreenRefusal, Refusal: QuotaExceeded})
	k.tap("呼叫工作人员帮忙")
	k.mustCalls("CallHelper")
	k.show(View{Screen: ScreenRefusal, Refusal: QuotaExceeded, HelperFailed: true})
	k.mustShow("暂时无法通知工作人员，请到咨询台。")
	k.tap("English")
	k.model.took()
	k.mustShow("Staff could not be told right now. Please go to the information desk.", "Call a staff member")
}

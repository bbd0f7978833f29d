package kiosk

import (
	"testing"
	"time"
)

func TestStillThereAsksWithABigContinue(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenInsertCard, ServiceZH: "户政", StillThere: true})
	k.mustShow("您还在吗？", "继续办理", "返回首页")
	k.mustNotShow("请将身份证放在读卡区")
	k.tap("继续办理")
	k.mustCalls("Continue")
	k.tap("返回首页")
	k.mustCalls("Cancel")
	if c := k.tiles("继续办理")[0]; c.MinSize().Height < 200 {
		t.Errorf("continue is %v high, want a big button", c.MinSize().Height)
	}
}

func TestRefusalDetailsAndReprint(t *testing.T) {
	k := mustKiosk(t)
	cst := time.FixedZone("CST", 8*3600)
	k.show(View{Screen: ScreenRefusal, Refusal: AlreadyCheckedIn, Held: []HeldTicket{{ID: "t-1", Number: "B012"}}})
	k.mustShow("已经签到过了", "补打号票 B012", "您今天已取的号：B012")
	k.tap("补打号票 B012")
	k.mustCalls("Reprint t-1")

	k.show(View{Screen: ScreenRefusal, Refusal: CitizenLimit, Held: []HeldTicket{{ID: "t-2", Number: "A003"}, {ID: "t-3", Number: "A009"}}})
	k.mustShow("补打号票 A003", "补打号票 A009", "A003、A009")
	k.tap("补打号票 A009")
	k.mustCalls("Reprint t-3")

	k.show(View{Screen: ScreenRefusal, Refusal: OutsideCheckinWindow, SlotStart: time.Date(2026, 11, 27, 10, 0, 0, 0, cst),
		CheckInFrom: time.Date(2026, 11, 27, 9, 30, 0, 0, cst), CheckInUntil: time.Date(2026, 11, 27, 10, 15, 0, 0, cst)})
	k.mustShow("您预约的时段是 10:00，签到时间 09:30 至 10:15")

	k.show(View{Screen: ScreenRefusal, Refusal: Closed, Hours: &Hours{Open: "08:30", LunchStart: "12:00", LunchEnd: "13:30", Close: "17:30", IssueUntil: "17:00"}})
	k.mustShow("今天办理时间 08:30–12:00、13:30–17:30，17:00 停止取号")
	k.tap("English")
	k.mustShow("Today's hours 08:30–12:00 and 13:30–17:30; tickets until 17:00")
}

func TestHomeSaysOfflineAndTakeCard(t *testing.T) {
	k := mustKiosk(t)
	k.mustNotShow("网络连接中断", "请取回")
	k.show(View{Screen: ScreenHome, Offline: true, TakeCard: true})
	k.mustShow("网络连接中断：等候人数可能不是最新", "读卡区还有身份证，请取回")
	k.show(View{Screen: ScreenHome, CardReady: true})
	k.mustShow("已放好身份证，请选择要办理的业务")
	k.model.services[0].Open, k.model.services[0].ClosedReason = false, TicketsUnavailable
	k.show(View{Screen: ScreenHome, Offline: true})
	k.mustShow("本机暂时无法取号")
	if len(k.tiles("户政")) != 0 {
		t.Error("a tile without offline numbers can still be tapped")
	}
}

func TestEnglishShowsTheHallsEnglishName(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenHome, HallName: "江岸区公安政务服务中心", HallNameEN: "Jiang'an Public Security Service Hall"})
	k.mustShow("江岸区公安政务服务中心")
	k.tap("English")
	k.mustShow("Jiang'an Public Security Service Hall")
	k.mustNotShow("江岸区公安政务服务中心")
}

func TestNewVisitorStartsInTheConfiguredLanguage(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenHome, NewVisitor: true, Language: English})
	k.mustShow("Choose a service")
	k.tap("中文")
	k.tap("长辈模式")
	k.model.took()
	k.show(View{Screen: ScreenHome, NewVisitor: true, Language: English})
	k.mustShow("Choose a service", "Large text")
	if k.ui.elderly {
		t.Error("large text survived a new visitor")
	}
}

func TestElderlyCardHolderGetsLargeText(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenWorking, ServiceZH: "户政", Elderly: true})
	if !k.ui.elderly {
		t.Fatal("an elderly card holder's view did not switch large text on")
	}
	k.show(View{Screen: ScreenTicket, Ticket: Ticket{Number: "A001", Printed: true, Priority: true}, TakeCard: true})
	k.mustShow("优先号 · 绿色通道", "请取回您的身份证", "标准模式")
}

func TestBusyTapIsAnswered(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenWorking, ServiceZH: "户政"})
	k.mustNotShow("无需重复点击")
	k.show(View{Screen: ScreenWorking, ServiceZH: "户政", Busy: true})
	k.mustShow("正在为您办理，请稍候，无需重复点击")
}

func TestElderlyShowsAllServicesOnOnePageWhenTheyFit(t *testing.T) {
	k := mustKiosk(t)
	k.model.services = k.model.services[:4]
	k.show(View{Screen: ScreenHome})
	k.tap("长辈模式")
	k.mustShow("户政", "出入境", "车驾管", "治安")
	k.mustNotShow("下一页")
}

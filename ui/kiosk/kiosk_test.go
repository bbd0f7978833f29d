package kiosk

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// portrait is the kiosk's screen.
var portrait = fyne.NewSize(1080, 1920)

// fakeModel is the app side of the port: it records every call, and on the
// right PIN shows the service screen as the app would.
type fakeModel struct {
	services []ServiceTile
	calls    []string
	ui       *UI
}

func (f *fakeModel) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// took returns the calls so far, other than Touched, and forgets them all.
func (f *fakeModel) took() []string {
	var got []string
	for _, c := range f.calls {
		if c != "Touched" {
			got = append(got, c)
		}
	}
	f.calls = nil
	return got
}

func (f *fakeModel) Services() []ServiceTile   { return f.services }
func (f *fakeModel) SelectService(code string) { f.record("SelectService %s", code) }
func (f *fakeModel) StartBooking()             { f.record("StartBooking") }
func (f *fakeModel) TakeWalkIn()               { f.record("TakeWalkIn") }
func (f *fakeModel) Retry()                    { f.record("Retry") }
func (f *fakeModel) Done()                     { f.record("Done") }
func (f *fakeModel) Cancel()                   { f.record("Cancel") }
func (f *fakeModel) SetLanguage(l Language)    { f.record("SetLanguage %s", l) }
func (f *fakeModel) SetElderly(on bool)        { f.record("SetElderly %v", on) }
func (f *fakeModel) Touched()                  { f.record("Touched") }
func (f *fakeModel) ExitKiosk()                { f.record("ExitKiosk") }
func (f *fakeModel) Continue()                 { f.record("Continue") }
func (f *fakeModel) Reprint(id string)         { f.record("Reprint %s", id) }
func (f *fakeModel) CallHelper()               { f.record("CallHelper") }
func (f *fakeModel) Rate(score int, indicators []string) {
	f.record("Rate %d %v", score, indicators)
}
func (f *fakeModel) CheckPIN(pin string) bool {
	f.record("CheckPIN %s", pin)
	if pin != "2468" {
		return false
	}
	f.ui.Show(View{Screen: ScreenService, HallName: "测试大厅", Status: Status{Version: "test"}})
	return true
}

func hallServices() []ServiceTile {
	return []ServiceTile{
		{Code: "A", NameZH: "户政", NameEN: "Household registration", Waiting: 12, EstimatedWait: 25 * time.Minute, RequiresID: true, Open: true},
		{Code: "B", NameZH: "出入境", NameEN: "Exit and entry", Waiting: 1, EstimatedWait: 30 * time.Second, RequiresID: true, Open: true},
		{Code: "C", NameZH: "车驾管", NameEN: "Vehicles and licences", Waiting: 21, EstimatedWait: -1, RequiresID: true, Open: true},
		{Code: "D", NameZH: "治安", NameEN: "Public-order permits", Open: false, ClosedReason: IssuingStopped, EstimatedWait: -1},
		{Code: "E", NameZH: "综合咨询", NameEN: "General enquiries", Waiting: 3, EstimatedWait: 5 * time.Minute, Open: true},
	}
}

// kiosk is a UI in a headless portrait window, with its fake model.
type kiosk struct {
	t     *testing.T
	ui    *UI
	model *fakeModel
	win   fyne.Window
}

// mustKiosk starts a kiosk on the home screen with the hall's usual
// services.
func mustKiosk(t *testing.T) *kiosk {
	t.Helper()
	test.NewTempApp(t)
	win := test.NewWindow(nil)
	t.Cleanup(win.Close)
	win.Resize(portrait)
	m := &fakeModel{services: hallServices()}
	u := New(win, m)
	m.ui = u
	k := &kiosk{t: t, ui: u, model: m, win: win}
	k.show(View{Screen: ScreenHome})
	t.Cleanup(k.checkInvariants)
	return k
}

func (k *kiosk) show(v View) {
	k.t.Helper()
	if v.HallName == "" {
		v.HallName = "测试大厅"
	}
	k.ui.Show(v)
	k.win.Resize(portrait)
}

// walk visits the live object tree: containers' children and widgets'
// rendered objects.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject)) {
	visit(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walk(c, visit)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walk(c, visit)
		}
	}
}

// texts is every string on the screen: canvas texts, and rich texts whole.
func texts(o fyne.CanvasObject) []string {
	var out []string
	walk(o, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Text:
			out = append(out, x.Text)
		case *widget.RichText:
			out = append(out, x.String())
		}
	})
	return out
}

func (k *kiosk) screenTexts() []string { return texts(k.win.Canvas().Content()) }

// shows reports whether some text on the screen contains s.
func (k *kiosk) shows(s string) bool {
	return slices.ContainsFunc(k.screenTexts(), func(t string) bool { return strings.Contains(t, s) })
}

func (k *kiosk) mustShow(want ...string) {
	k.t.Helper()
	for _, w := range want {
		if !k.shows(w) {
			k.t.Errorf("screen does not show %q; it shows %q", w, k.screenTexts())
		}
	}
}

func (k *kiosk) mustNotShow(unwanted ...string) {
	k.t.Helper()
	for _, w := range unwanted {
		if k.shows(w) {
			k.t.Errorf("screen shows %q", w)
		}
	}
}

// tiles are the tappable tiles on the screen whose texts contain label.
func (k *kiosk) tiles(label string) []*tile {
	var out []*tile
	walk(k.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if t, ok := o.(*tile); ok && t.onTap != nil &&
			slices.ContainsFunc(texts(t), func(s string) bool { return strings.Contains(s, label) }) {
			out = append(out, t)
		}
	})
	return out
}

// tap taps the one tile showing label.
func (k *kiosk) tap(label string) {
	k.t.Helper()
	ts := k.tiles(label)
	if len(ts) != 1 {
		k.t.Fatalf("%d tappable tiles show %q; screen shows %q", len(ts), label, k.screenTexts())
	}
	test.Tap(ts[0])
	k.win.Resize(portrait)
}

func (k *kiosk) mustCalls(want ...string) {
	k.t.Helper()
	if got := k.model.took(); !slices.Equal(got, want) {
		k.t.Errorf("model calls = %q, want %q", got, want)
	}
}

// checkInvariants holds on whatever screen a test ends on: it fits the
// portrait screen, no text is smaller than 20 units in normal mode, every
// touch target is at least 60 units square, and no translation key or
// refusal code leaks to the screen.
func (k *kiosk) checkInvariants() {
	t := k.t
	content := k.win.Canvas().Content()
	if m := content.MinSize(); m.Width > portrait.Width || m.Height > portrait.Height {
		t.Errorf("screen needs %v, more than the kiosk's %v", m, portrait)
	}
	walk(content, func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *canvas.Text:
			if !k.ui.elderly && x.Text != "" && x.TextSize < 20 {
				t.Errorf("text %q is %v units, below 20", x.Text, x.TextSize)
			}
		case *tile:
			if s := x.Size(); x.onTap != nil && (s.Width < 60 || s.Height < 60) {
				t.Errorf("touch target %q is %v, below 60×60", texts(x), s)
			}
		}
	})
	for _, s := range k.screenTexts() {
		if _, isKey := catalog[Chinese][s]; isKey {
			t.Errorf("screen shows the raw key %q", s)
		}
		if _, isCode := reasonActions[Reason(strings.TrimSpace(s))]; isCode {
			t.Errorf("screen shows the raw code %q", s)
		}
	}
}

func TestHomeTilesInBothLanguages(t *testing.T) {
	k := mustKiosk(t)
	k.mustShow("请选择要办理的业务", "Choose a service", "户政", "Household registration",
		"等候 12 人 · 约 25 分钟", "等候 1 人 · 约 1 分钟", "等候 21 人", "今日取号已结束", "需刷身份证", "无需证件", "我有预约")
	k.mustNotShow("约 0 分钟", "-1")

	k.tap("English")
	k.mustCalls("SetLanguage en")
	k.mustShow("Choose a service", "请选择要办理的业务", "Household registration", "12 waiting · about 25 min",
		"No more tickets today", "ID card needed", "No ID needed", "I have an appointment", "中文")
	k.mustNotShow("我有预约")

	k.tap("中文")
	k.mustCalls("SetLanguage zh_Hans")
	k.mustShow("我有预约")
}

func TestHomeTapsReachTheModel(t *testing.T) {
	k := mustKiosk(t)
	k.tap("户政")
	k.mustCalls("SelectService A")
	k.tap("综合咨询")
	k.mustCalls("SelectService E")
	k.tap("我有预约")
	k.mustCalls("StartBooking")

	if n := len(k.tiles("治安")); n != 0 {
		t.Errorf("a closed service is tappable (%d tiles)", n)
	}

	k.tap("English")
	k.mustCalls("SetLanguage en")
	k.tap("Exit and entry")
	k.mustCalls("SelectService B")
}

func TestHomeWarnsWhenTicketsAreScreenOnly(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenHome, ScreenOnly: true})
	k.mustShow("打印机暂无纸张")
}

func TestElderlyModePagesLargerTiles(t *testing.T) {
	k := mustKiosk(t)
	nameSize := func() float32 {
		var size float32
		walk(k.tiles("户政")[0], func(o fyne.CanvasObject) {
			if t, ok := o.(*canvas.Text); ok && t.Text == "户政" {
				size = t.TextSize
			}
		})
		return size
	}
	normal := nameSize()

	k.tap("长辈模式")
	k.mustCalls("SetElderly true")
	k.mustShow("标准模式", "第 1 / 2 页", "户政", "出入境", "车驾管", "我有预约")
	k.mustNotShow("综合咨询")
	if large := nameSize(); large <= normal {
		t.Errorf("elderly service name is %v units, normal %v", large, normal)
	}

	k.tap("下一页")
	k.mustShow("第 2 / 2 页", "治安", "综合咨询")
	k.mustNotShow("户政")
	if got := k.model.calls; !slices.Equal(got, []string{"Touched"}) {
		t.Errorf("paging calls %q, want Touched", got)
	}
	k.tap("综合咨询")
	k.mustCalls("SelectService E")

	k.tap("上一页")
	k.mustShow("户政")
	k.tap("标准模式")
	k.mustCalls("SetElderly false")
	k.mustShow("综合咨询", "户政")
}

func TestNewVisitorResetsLanguageAndLargeText(t *testing.T) {
	k := mustKiosk(t)
	k.tap("English")
	k.tap("Large text")
	k.model.took()
	k.show(View{Screen: ScreenHome, NewVisitor: true})
	k.mustShow("我有预约", "长辈模式", "综合咨询")
	if k.ui.elderly || k.ui.lang != Chinese {
		t.Errorf("after a new visitor: elderly %v, language %v", k.ui.elderly, k.ui.lang)
	}
}

func TestScreens(t *testing.T) {
	printed := Ticket{Number: "A023", Ahead: 7, EstimatedWait: 18 * time.Minute,
		StatusURL: "https://hall.example/t/8f3a", MaskedID: "4201**********1234", Printed: true}
	unprinted := printed
	unprinted.Printed = false
	offline := Ticket{Number: "C105", Ahead: 1, EstimatedWait: -1, Printed: true, Offline: true, Booking: true}

	for _, tc := range []struct {
		name   string
		view   View
		zh, en []string
		no     []string // shown in neither language
	}{
		{"insert card", View{Screen: ScreenInsertCard, ServiceZH: "户政", ServiceEN: "Household registration"},
			[]string{"请将身份证放在读卡区", "Place your ID card on the reader", "户政", "取消"},
			[]string{"Place your ID card on the reader", "Household registration", "Cancel"}, nil},
		{"appointment", View{Screen: ScreenBooking},
			[]string{"请刷身份证或扫描预约二维码", "或", "取消"},
			[]string{"Swipe your ID card or scan your booking QR code", "or", "Cancel"}, nil},
		{"working", View{Screen: ScreenWorking, ServiceZH: "出入境", ServiceEN: "Exit and entry"},
			[]string{"正在为您取号…", "出入境"},
			[]string{"Issuing your ticket…", "Exit and entry"}, nil},
		{"ticket printed", View{Screen: ScreenTicket, ServiceZH: "户政", ServiceEN: "Household registration", Ticket: printed},
			[]string{"A023", "户政", "7 人", "约 18 分钟", "请取走出票口的号票", "手机扫码", "身份证 4201**********1234", "完成"},
			[]string{"A023", "Household registration", "7 people", "about 18 min", "Please take your ticket", "ID 4201**********1234", "Done"},
			[]string{"拍照", "photograph", "离线", "offline", "预约签到成功"}},
		{"ticket not printed", View{Screen: ScreenTicket, ServiceZH: "户政", ServiceEN: "Household registration", Ticket: unprinted},
			[]string{"A023", "号票未能打印", "请拍照保存此号码或联系工作人员"},
			[]string{"Your ticket could not be printed", "Please photograph this ticket or ask staff"},
			[]string{"请取走", "take your ticket"}},
		{"ticket screen only", View{Screen: ScreenTicket, ScreenOnly: true, ServiceZH: "户政", Ticket: unprinted},
			[]string{"本机暂无纸张，号码仅在屏幕显示", "请拍照保存此号码或联系工作人员"},
			[]string{"No paper: this ticket is shown on screen only", "Please photograph this ticket or ask staff"}, nil},
		{"ticket offline appointment", View{Screen: ScreenTicket, ServiceZH: "车驾管", ServiceEN: "Vehicles", Ticket: offline},
			[]string{"C105", "预约签到成功", "暂不可知", "暂无估计", "离线签发：前面人数暂不可知"},
			[]string{"Appointment checked in", "unknown", "not known yet", "Offline: count ahead unknown"},
			[]string{"手机扫码", "Scan with your phone", "身份证 ", "1 人", "1 person", "下一位就是您"}},
		{"out of service", View{Screen: ScreenOutOfService},
			[]string{"本机暂停服务", "请使用其他取号机"},
			[]string{"This kiosk is out of service", "Please use another kiosk"}, nil},
		{"service", View{Screen: ScreenService, Status: Status{ReaderPresent: true, PrinterPresent: true, PaperOut: true, CoverOpen: true,
			ServerConnected: true, LeasesLeft: 48, PendingOffline: 3, Version: "hallq 0.1.0"}},
			[]string{"维护模式", "身份证读卡器", "正常", "缺纸 · 舱盖打开", "未连接", "已连接", "48", "3", "hallq 0.1.0", "退出自助机", "返回"},
			[]string{"Service mode", "ID card reader", "Out of paper · Cover open", "Not connected", "Connected", "Exit kiosk", "Back"},
			[]string{"被退回的离线号"}},
		{"service with tickets set aside", View{Screen: ScreenService, Status: Status{ReaderPresent: true, PrinterPresent: true,
			ServerConnected: true, LeasesLeft: 48, PendingOffline: 0, SetAsideOffline: 2, Version: "hallq 0.1.0"}},
			[]string{"被退回的离线号", "2"},
			[]string{"Offline tickets refused"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := mustKiosk(t)
			k.show(tc.view)
			k.mustShow(tc.zh...)
			k.mustNotShow(tc.no...)
			k.tap("English")
			k.model.took()
			k.mustShow(tc.en...)
			k.mustNotShow(tc.no...)
		})
	}
}

func TestTicketShowsStatusQRCode(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenTicket, Ticket: Ticket{Number: "A001", StatusURL: "https://hall.example/t/1", Printed: true}})
	var images int
	walk(k.win.Canvas().Content(), func(o fyne.CanvasObject) {
		if img, ok := o.(*canvas.Image); ok && img.Image != nil && img.Size().Width >= 200 {
			images++
		}
	})
	if images != 1 {
		t.Errorf("%d QR images on the ticket screen, want 1", images)
	}
}

func TestButtonsReachTheModel(t *testing.T) {
	for _, tc := range []struct {
		view  View
		label string
		call  string
	}{
		{View{Screen: ScreenInsertCard}, "取消", "Cancel"},
		{View{Screen: ScreenBooking}, "取消", "Cancel"},
		{View{Screen: ScreenTicket, Ticket: Ticket{Number: "A001", Printed: true}}, "完成", "Done"},
		{View{Screen: ScreenService}, "退出自助机", "ExitKiosk"},
		{View{Screen: ScreenService}, "返回", "Cancel"},
	} {
		t.Run(tc.call, func(t *testing.T) {
			k := mustKiosk(t)
			k.show(tc.view)
			k.tap(tc.label)
			k.mustCalls(tc.call)
		})
	}
}

func TestEveryRefusalInPlainWords(t *testing.T) {
	buttons := map[action]struct{ zh, en, call string }{
		actRetry:   {"再试一次", "Try again", "Retry"},
		actWalkIn:  {"改取普通号", "Take a regular ticket", "TakeWalkIn"},
		actHome:    {"返回首页", "Back to start", "Cancel"},
		actCheckIn: {"我已预约，签到取号", "I have booked: check in", "StartBooking"},
	}
	if len(reasonActions) != 15 {
		t.Errorf("%d refusal reasons have actions, want 15", len(reasonActions))
	}
	for reason, acts := range reasonActions {
		t.Run(string(reason), func(t *testing.T) {
			k := mustKiosk(t)
			k.show(View{Screen: ScreenRefusal, Refusal: reason})
			k.mustShow("暂时无法为您取号", catalog[Chinese]["reason_"+string(reason)])
			for a, b := range buttons {
				if slices.Contains(acts, a) {
					k.tap(b.zh)
					k.mustCalls(b.call)
				} else {
					k.mustNotShow(b.zh)
				}
			}
			k.tap("English")
			k.model.took()
			k.mustShow("We can't issue a ticket right now", catalog[English]["reason_"+string(reason)])
			for a, b := range buttons {
				if slices.Contains(acts, a) {
					k.mustShow(b.en)
				}
			}
			k.mustNotShow(string(reason))
		})
	}
}

func TestRefusalWordingIsNeutral(t *testing.T) {
	for _, l := range []Language{Chinese, English} {
		s := strings.ToLower(catalog[l]["reason_"+string(Blacklisted)])
		for _, word := range []string{"黑名单", "违规", "禁止", "blacklist", "banned", "abuse", "fraud"} {
			if strings.Contains(s, word) {
				t.Errorf("%s blacklist wording %q says %q", l, s, word)
			}
		}
	}
}

func TestUnknownRefusalFallsBackToDeviceError(t *testing.T) {
	k := mustKiosk(t)
	k.show(View{Screen: ScreenRefusal, Refusal: "printer_on_fire"})
	k.mustShow(catalog[Chinese]["reason_device_error"], "再试一次")
	k.mustNotShow("printer_on_fire")
}

func TestHiddenGestureOpensPINPad(t *testing.T) {
	k := mustKiosk(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.Local)
	k.ui.now = func() time.Time { return now }

	for range 4 {
		k.tap("测试大厅")
	}
	now = now.Add(cornerWindow)
	k.tap("测试大厅") // too slow: the count starts again
	k.mustNotShow("请输入管理密码")
	for range 4 {
		k.tap("测试大厅")
	}
	k.mustShow("请输入管理密码", "Enter the admin PIN")
	if got := k.model.took(); len(got) != 0 {
		t.Errorf("the gesture called %q, want only Touched", got)
	}

	for _, d := range "1234" {
		k.tap(string(d))
	}
	k.mustShow("••••")
	k.tap("确定")
	k.mustCalls("CheckPIN 1234")
	k.mustShow("密码错误", "—")

	for _, d := range "99" {
		k.tap(string(d))
	}
	k.tap("清除")
	for _, d := range "2468" {
		k.tap(string(d))
	}
	k.tap("确定")
	k.mustCalls("CheckPIN 2468")
	k.mustShow("维护模式", "退出自助机")
	k.mustNotShow("请输入管理密码")
}

func TestPINPadBackAndScreenChangeCloseIt(t *testing.T) {
	k := mustKiosk(t)
	k.ui.pin = &pinPad{}
	k.ui.render()
	k.tap("返回")
	k.mustShow("我有预约")
	k.mustCalls()

	k.ui.pin = &pinPad{}
	k.ui.render()
	k.model.services[0].Waiting++
	k.show(View{Screen: ScreenHome}) // a refresh (a new figure: drawn again) keeps it open
	k.mustShow("请输入管理密码")
	k.show(View{Screen: ScreenOutOfService})
	k.mustShow("本机暂停服务")
	k.mustNotShow("请输入管理密码")
}

func TestShowFromAnotherGoroutine(t *testing.T) {
	k := mustKiosk(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.ui.Show(View{Screen: ScreenWorking, HallName: "测试大厅"})
	}()
	<-done
	k.win.Resize(portrait)
	k.mustShow("正在为您取号…")
}

func TestElderlyScreensFit(t *testing.T) {
	for _, v := range []View{
		{Screen: ScreenInsertCard, ServiceZH: "户政", ServiceEN: "Household registration"},
		{Screen: ScreenBooking},
		{Screen: ScreenTicket, ScreenOnly: true, ServiceEN: "Household registration", Ticket: Ticket{Number: "A023", Ahead: 12,
			EstimatedWait: time.Hour, StatusURL: "https://hall.example/t/8f3a", MaskedID: "4201**********1234", Offline: true, Booking: true}},
		{Screen: ScreenRefusal, Refusal: NotFound},
		{Screen: ScreenService},
	} {
		t.Run(fmt.Sprint(v.Screen), func(t *testing.T) {
			k := mustKiosk(t)
			k.tap("English")
			k.tap("Large text")
			k.show(v) // checkInvariants checks the fit
		})
	}
}

// The app sends its view again after every device check and server
// figure; a view already on screen, with the same tiles, is not built and
// drawn again (the idle kiosk's CPU), while a changed tile is.
func TestTheSameViewIsNotDrawnAgain(t *testing.T) {
	k := mustKiosk(t)
	before := k.win.Content()
	k.show(View{Screen: ScreenHome})
	if k.win.Content() != before {
		t.Fatal("the same home screen was built again")
	}
	k.model.services[0].Waiting = 13 // changed in place, as a figure from the server
	k.show(View{Screen: ScreenHome})
	if k.win.Content() == before {
		t.Fatal("a changed tile was not drawn")
	}
	if !slices.ContainsFunc(texts(k.win.Content()), func(s string) bool { return strings.Contains(s, "13") }) {
		t.Errorf("the new figure is not on the screen: %q", texts(k.win.Content()))
	}
	again := k.win.Content()
	k.show(View{Screen: ScreenHome, NewVisitor: true}) // a new visitor always starts afresh
	if k.win.Content() == again {
		t.Error("a new visitor's home screen was not drawn")
	}
}

// SetDrawn's callback hears of every new content, from the app's views and
// from the citizen's taps, but not of a view sent again unchanged: the
// kiosk window gives memory back once the screen has stayed the same.
func TestDrawnReportsEachNewContent(t *testing.T) {
	k := mustKiosk(t)
	drawn := 0
	k.ui.SetDrawn(func() { drawn++ })
	k.show(View{Screen: ScreenHome}) // the same view again
	if drawn != 0 {
		t.Fatalf("an unchanged view reported %d redraws", drawn)
	}
	k.model.services[0].Waiting = 13
	k.show(View{Screen: ScreenHome})
	if drawn != 1 {
		t.Fatalf("a changed tile reported %d redraws, want 1", drawn)
	}
	before := k.win.Content()
	k.tap("English")
	if k.win.Content() == before || drawn != 2 {
		t.Fatalf("a tap on English: content replaced %v, %d redraws reported, want 2", k.win.Content() != before, drawn)
	}
}

// The screens draw with the CJK font's common subset until a view holds an
// ideograph it lacks (硚, of Wuhan's 硚口区, is outside GB 2312): then the
// whole font, for good, in both text sizes.
func TestARareIdeographLoadsTheWholeFont(t *testing.T) {
	k := mustKiosk(t)
	font := func() fyne.Resource { return fyne.CurrentApp().Settings().Theme().Font(fyne.TextStyle{}) }
	if font() != commonFontResource {
		t.Fatalf("a hall with common names draws with %s", font().Name())
	}
	k.show(View{Screen: ScreenHome, HallName: "硚口区政务服务中心"})
	if font() != fontResource {
		t.Fatalf("a hall name with 硚 draws with %s", font().Name())
	}
	k.mustShow("硚口区政务服务中心")
	k.show(View{Screen: ScreenHome, NewVisitor: true})
	k.tap("长辈模式")
	if font() != fontResource {
		t.Errorf("after the next visitor's large-text switch: %s", font().Name())
	}
}

// A service tile's name from the server counts too, from the first screen.
func TestARareIdeographInATileLoadsTheWholeFont(t *testing.T) {
	test.NewTempApp(t)
	win := test.NewWindow(nil)
	t.Cleanup(win.Close)
	m := &fakeModel{services: append(hallServices(), ServiceTile{Code: "F", NameZH: "䶮字业务", NameEN: "Rare", Open: true})}
	New(win, m)
	if f := fyne.CurrentApp().Settings().Theme().Font(fyne.TextStyle{}); f != fontResource {
		t.Errorf("a tile named with 䶮 (Extension A) draws with %s", f.Name())
	}
}

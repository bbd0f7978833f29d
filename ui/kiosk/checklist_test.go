package kiosk

import (
	"slices"
	"testing"
	"time"
)

var hukouChecklist = []Checklist{
	{NameZH: "户口迁移", NameEN: "Hukou move", Items: []ChecklistItem{{ZH: "居民身份证", EN: "ID card", Original: true}, {ZH: "户口簿", EN: "Household register"}, {ZH: "准迁证", EN: "Move permit", Copies: 2}}},
	{NameZH: "身份证换领", NameEN: "ID card renewal", Items: []ChecklistItem{{ZH: "原身份证", EN: "Old ID card"}}},
}

// TestTicketScreenShowsTheChecklist: the ticket screen says what to bring
// for the service, in both languages, with no tap more on the way; it fits
// in large text too (checkInvariants).
func TestTicketScreenShowsTheChecklist(t *testing.T) {
	k := mustKiosk(t)
	v := View{Screen: ScreenTicket, ServiceZH: "户政", ServiceEN: "Household registration", Checklist: hukouChecklist,
		Ticket: Ticket{Number: "A023", Ahead: 3, EstimatedWait: 10 * time.Minute, StatusURL: "https://hall.example/t/8f3a", Printed: true}}
	k.show(v)
	k.mustShow("请带齐以下材料", "户口迁移：居民身份证（原件）、户口簿、准迁证（复印件 2 份）", "身份证换领：原身份证", "A023")
	k.tap("English")
	k.model.took()
	k.mustShow("Please bring", "Hukou move: ID card (original)", "Move permit (2 copies)")
	k.tap("Large text")
	k.show(v)
	k.mustShow("Please bring")
	k.model.took()
	k.tap("Done")
	k.mustCalls("Done")

	none := mustKiosk(t)
	v.Checklist = nil
	none.show(v)
	none.mustNotShow("请带齐以下材料")
}

// TestNoticeScreen: a scanned ticket's one-time notice lists what is still
// missing per matter, says whether it was printed, and 完成 ends the visit.
func TestNoticeScreen(t *testing.T) {
	k := mustKiosk(t)
	n := Notice{Number: "A023", Printed: true, Matters: []Checklist{
		{NameZH: "户口迁移", NameEN: "Hukou move", Items: []ChecklistItem{{ZH: "准迁证", EN: "Move permit"}, {ZH: "户口簿", EN: "Household register"}}}}}
	k.show(View{Screen: ScreenNotice, Notice: n})
	k.mustShow("一次性告知单", "号码 A023", "户口迁移：准迁证、户口簿", "已打印，请从出票口取走")
	k.tap("English")
	k.model.took()
	k.mustShow("One-time notice", "Hukou move: Move permit, Household register")
	k.tap("Done")
	k.mustCalls("Done")

	n.Printed = false
	k2 := mustKiosk(t)
	k2.show(View{Screen: ScreenNotice, Notice: n})
	k2.mustShow("未能打印，请拍照保存本页")
	k3 := mustKiosk(t)
	k3.show(View{Screen: ScreenNotice})
	k3.mustShow("这个号码没有一次性告知单：材料齐全")
	k3.mustNotShow("号码 A023")
}

// TestWhatToBringTile: with checklists the home screen has a "what to
// bring" tile; it opens the guide of every service, which goes back to the
// tiles; without checklists there is no tile.
func TestWhatToBringTile(t *testing.T) {
	k := mustKiosk(t)
	k.model.services = hallServices()
	k.model.services[0].Checklist = hukouChecklist
	k.show(View{Screen: ScreenHome})
	k.tap("办事指南：需要带什么材料")
	k.mustShow("办事需要带的材料", "户口迁移：居民身份证（原件）、户口簿、准迁证（复印件 2 份）")
	if !slices.Contains(k.model.calls, "Touched") {
		t.Error("opening the guide did not restart the idle timer (Touched)")
	}
	k.mustCalls() // nothing else: reading the guide takes no ticket
	k.tap("返回选择业务")
	if !slices.Contains(k.model.calls, "Touched") {
		t.Error("closing the guide did not restart the idle timer (Touched)")
	}
	k.mustShow("请选择要办理的业务")
	k.mustNotShow("办事需要带的材料")

	plain := mustKiosk(t)
	plain.model.services = hallServices()
	plain.show(View{Screen: ScreenHome})
	plain.mustNotShow("办事指南：需要带什么材料")
}

// TestWhatToBringFitsInLargeText: the home screen with the guide tile, and
// the guide itself, fit in large text (checkInvariants at the end).
func TestWhatToBringFitsInLargeText(t *testing.T) {
	for _, open := range []bool{false, true} {
		k := mustKiosk(t)
		k.model.services = hallServices()
		for i := range k.model.services {
			k.model.services[i].Checklist = hukouChecklist
		}
		k.show(View{Screen: ScreenHome})
		k.tap("English")
		k.tap("Large text")
		if open {
			k.tap("What to bring — guide to every service")
			k.mustShow("What to bring")
		} else {
			k.mustShow("What to bring — guide to every service")
		}
	}
}

// TestNoticeScreenRates: a scanned ticket's holder rates at the kiosk: the
// level, then its options (a poor level needs one), then 提交; the kiosk
// thanks afterwards.
func TestNoticeScreenRates(t *testing.T) {
	k := mustKiosk(t)
	ask := &RateAsk{NameZH: "户口迁移", NameEN: "Hukou move", Options: map[int][]RateOption{
		1: {{Indicator: "efficiency", ZH: "等候和办理时间长", EN: "Long wait or slow service"}, {Indicator: "attitude", ZH: "服务态度差", EN: "Unfriendly staff"}},
		5: {{Indicator: "attitude", ZH: "服务态度好", EN: "Friendly staff"}},
	}}
	k.show(View{Screen: ScreenNotice, Rate: ask})
	k.mustShow("请评价：户口迁移", "非常满意", "非常不满意")
	k.mustNotShow("这个号码没有一次性告知单：材料齐全")
	k.tap("非常不满意")
	k.mustShow("请选择不满意的原因", "服务态度差")
	k.mustCalls() // 提交 is not offered yet: a poor rating needs its reason
	k.tap("服务态度差")
	k.tap("等候和办理时间长")
	k.tap("等候和办理时间长") // twice: not chosen
	k.tap("提交评价")
	k.mustCalls("Rate 1 [attitude]")
	k.show(View{Screen: ScreenNotice, Rated: true})
	k.mustShow("感谢您的评价")
	k.mustNotShow("请评价：户口迁移", "这个号码没有一次性告知单：材料齐全")

	good := mustKiosk(t)
	good.show(View{Screen: ScreenNotice, Rate: &RateAsk{Options: ask.Options}})
	good.mustShow("请评价：本次办理")
	good.tap("非常满意")
	good.tap("提交评价") // the options of a good level are optional
	good.mustCalls("Rate 5 []")
}

// TestNoticeWithRatingFitsInLargeText: the notice and the rating with a
// poor level's options fit in large text (checkInvariants at the end).
func TestNoticeWithRatingFitsInLargeText(t *testing.T) {
	k := mustKiosk(t)
	opts := []RateOption{{Indicator: "overall", ZH: "整体不满意", EN: "Not satisfied overall"}, {Indicator: "efficiency", ZH: "等候和办理时间长", EN: "Long wait or slow service"},
		{Indicator: "service_level", ZH: "业务不熟练、讲解不清", EN: "Unskilled, unclear explanations"}, {Indicator: "attitude", ZH: "服务态度差", EN: "Unfriendly staff"}}
	k.show(View{Screen: ScreenNotice, Notice: Notice{Number: "A023", Printed: true, Matters: hukouChecklist[:1]},
		Rate: &RateAsk{NameZH: "户口迁移", NameEN: "Hukou move", Options: map[int][]RateOption{1: opts}}})
	k.tap("English")
	k.tap("Large text")
	k.tap("Very dissatisfied")
	k.mustShow("Unfriendly staff")
}

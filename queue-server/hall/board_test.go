package hall

import (
	"strings"
	"testing"
	"time"
)

func TestBoardNoticesAreConfigChanges(t *testing.T) {
	f := MustHall(t, nil)
	b, err := f.svc.EditBoard(f.ctx, Op{Actor: "zhang"}, func(b *Board, now time.Time) error {
		b.Notices = append(b.Notices, BoardNotice{ID: NewBoardID(), Text: Text{ZH: "今日下午系统维护", EN: "Maintenance this afternoon"}, From: at(9, 0), Until: at(12, 0)})
		return nil
	})
	if err != nil || len(b.Notices) != 1 {
		t.Fatalf("post: %+v, %v", b, err)
	}
	if ev := f.j.all(); ev[len(ev)-1].Type != EvConfigChanged || len(ev[len(ev)-1].Config.Board.Notices) != 1 {
		t.Errorf("last event %+v", ev[len(ev)-1].Type)
	}
	n := b.Notices[0]
	if !n.ShownAt(at(9, 0)) || n.ShownAt(at(8, 59)) || n.ShownAt(at(12, 0)) || !(BoardNotice{}).ShownAt(at(3, 0)) {
		t.Error("ShownAt: from included, until excluded, no times always")
	}
	f.restart()
	if o, _ := f.svc.Overview(f.ctx); len(o.Board.Notices) != 1 || o.Board.Notices[0].Text.EN != "Maintenance this afternoon" {
		t.Errorf("after restart: %+v", o.Board)
	}
	for _, c := range []struct {
		edit func(b *Board)
		want string
	}{
		{func(b *Board) { b.Notices = append(b.Notices, BoardNotice{ID: "x1"}) }, "board.notices[1].text.zh: missing"},
		{func(b *Board) {
			b.Notices = append(b.Notices, BoardNotice{ID: "x1", Text: Text{ZH: strings.Repeat("长", 201)}})
		}, "at most 200 characters"},
		{func(b *Board) {
			b.Notices = append(b.Notices, BoardNotice{ID: "x1", Text: Text{ZH: "a"}, From: at(10, 0), Until: at(9, 0)})
		}, "board.notices[1].until: must be after from"},
		{func(b *Board) { b.Notices = append(b.Notices, BoardNotice{ID: "../x", Text: Text{ZH: "a"}}) }, "board.notices[1].id"},
		{func(b *Board) { b.Media = append(b.Media, Media{ID: "m1", Type: "text/html", Size: 10}) }, `board.media[0].type: "text/html" is not one of`},
		{func(b *Board) { b.Media = append(b.Media, Media{ID: "m1", Type: "image/png", Size: MaxImageBytes + 1}) }, "board.media[0].size: must be 1 byte to 5 MB for an image"},
	} {
		_, err := f.svc.EditBoard(f.ctx, Op{Actor: "zhang"}, func(b *Board, now time.Time) error { c.edit(b); return nil })
		if ErrorCode(err) != Invalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if o, _ := f.svc.Overview(f.ctx); len(o.Board.Notices) != 1 || len(o.Board.Media) != 0 {
		t.Errorf("a refused edit changed the board: %+v", o.Board)
	}
}

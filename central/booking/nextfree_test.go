package booking_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"hallq/central/booking"
)

// The hall list's pass (one read of the seats taken instead of every
// slot) finds each hall's next free slots exactly as NextFreeAll does:
// a full slot is skipped, an unknown hall has none, the set-up comes with
// it (the hall's name).
func TestHallListPassMatchesNextFree(t *testing.T) {
	w := MustWorld(t, 1)
	w.MustHall(sampleHall("h1"))
	w.MustHall(sampleHall("h2"))
	w.Book(1, "h1", "A", friday0900.Add(time.Hour)) // the first bookable A slot, 1 seat: now full
	w.Book(2, "h2", "B", friday0900.Add(time.Hour)) // 1 of 2 seats
	ctx := context.Background()
	halls := []string{"h1", "h2", "nowhere"}
	want, err := w.Insts[0].Svc.NextFreeAll(ctx, halls)
	if err != nil {
		t.Fatal(err)
	}
	got, set, err := booking.ListFree(w.Insts[0].Svc, ctx, halls)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the list's pass %+v\nNextFreeAll     %+v", got, want)
	}
	if a := got["h1"][1]; a.Service != "A" || !a.Start.Equal(friday0900.Add(90*time.Minute)) {
		t.Fatalf("h1's next free A slot %+v: the full 10:00 slot must be skipped", got["h1"])
	}
	if b := got["h2"][1]; b.Service != "B" || b.Free != 1 {
		t.Fatalf("h2's next free B slot %+v", got["h2"])
	}
	if len(set) != 2 || set["h1"].Name.ZH != "测试大厅" {
		t.Fatalf("set-ups %+v", set)
	}
}

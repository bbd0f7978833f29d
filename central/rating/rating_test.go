package rating_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"hallq/central/rating"
	"hallq/queue-server/hall"
)

type apiErr struct {
	Error struct {
		Code, Reason, Message string
		Details               *rating.Record
	}
}

func decodeErr(t *testing.T, b []byte) apiErr {
	t.Helper()
	var e apiErr
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return e
}

// hallRating is the rating the hall's own store holds for the visit.
func (w *world) hallRating(id string) *hall.Rating {
	w.t.Helper()
	tk, err := w.Hall.Admin.Ticket(context.Background(), id)
	if err != nil {
		w.t.Fatal(err)
	}
	return tk.Rating
}

// An online rating of a served visit reaches the hall, which applies it
// with channel online; the central then says it counts. Every refusal
// before it is precise and applies nothing: an unknown ticket, a visit
// not yet served, a low score without its reason; a second rating and a
// rating at the window's pad afterwards are refused.
func TestOnlineRatingReachesTheHall(t *testing.T) {
	w := mustWorld(t)
	tk := w.Issue("i-1", "E")
	eventually(t, "the ticket reaches the central", func() bool { return w.Ticket(tk.ID).Status == string(hall.Waiting) })
	if st, b := w.Do("POST", "/api/v1/ratings/nosuchticket", rating.Request{Score: 5}); st != 404 || decodeErr(t, b).Error.Reason != string(hall.OnlineUnknownTicket) {
		t.Fatalf("unknown ticket: %d %s", st, b)
	}
	if st, b := w.Do("POST", "/api/v1/ratings/"+tk.ID, rating.Request{Score: 5}); st != 409 || decodeErr(t, b).Error.Reason != string(hall.OnlineNotServed) {
		t.Fatalf("not served: %d %s", st, b)
	}
	w.Serve(1, tk.ID)
	eventually(t, "the central sees the visit done", func() bool { return w.Ticket(tk.ID).Status == string(hall.Done) })
	if r := w.Rating(tk.ID); r.Status != hall.OnlineNone || r.Hall != "420102-01" {
		t.Fatalf("before any rating: %+v", r)
	}
	for _, bad := range []struct {
		body   any
		reason string
	}{
		{rating.Request{Score: 1}, string(hall.ReasonRatingNeedsReason)},
		{rating.Request{Score: 2, Reason: "   "}, string(hall.ReasonRatingNeedsReason)},
		{rating.Request{Score: 6}, ""},
		{rating.Request{Score: 4, Indicators: []hall.Indicator{"speed"}}, ""},
		{map[string]any{"score": 5, "stars": 5}, ""},
	} {
		st, b := w.Do("POST", "/api/v1/ratings/"+tk.ID, bad.body)
		if e := decodeErr(t, b); st != 400 || e.Error.Code != "invalid" || e.Error.Reason != bad.reason || e.Error.Message == "" {
			t.Errorf("%+v: %d %s", bad.body, st, b)
		}
	}
	if r := w.Rating(tk.ID); r.Status != hall.OnlineNone {
		t.Fatalf("a refused rating was kept: %+v", r)
	}
	st, b := w.Do("POST", "/api/v1/ratings/"+tk.ID, rating.Request{Score: 2, Indicators: []hall.Indicator{hall.IndEfficiency}, Reason: "等了很久"}, "Idempotency-Key", "k1")
	if st != http.StatusAccepted || !strings.Contains(string(b), `"status":"pending"`) {
		t.Fatalf("rate: %d %s", st, b)
	}
	eventually(t, "the hall applies the online rating", func() bool { return w.hallRating(tk.ID) != nil })
	if r := w.hallRating(tk.ID); r.Channel != hall.ViaOnline || r.Score != 2 || r.Reason != "等了很久" || len(r.Indicators) != 1 {
		t.Fatalf("the hall's rating: %+v", r)
	}
	eventually(t, "the central hears the hall applied it", func() bool { return w.Rating(tk.ID).Status == hall.OnlineApplied })
	r := w.Rating(tk.ID)
	if r.Channel != hall.ViaOnline || r.RatedAt.IsZero() {
		t.Fatalf("applied: %+v", r)
	}
	if _, off := r.RatedAt.Zone(); off != 8*3600 {
		t.Errorf("rated_at %v is not in the hall's zone", r.RatedAt)
	}
	// A retry of the same request is the same answer; another rating is refused.
	if st, b := w.Do("POST", "/api/v1/ratings/"+tk.ID, rating.Request{Score: 2, Indicators: []hall.Indicator{hall.IndEfficiency}}, "Idempotency-Key", "k1"); st != 200 {
		t.Fatalf("retry: %d %s", st, b)
	}
	st, b = w.Do("POST", "/api/v1/ratings/"+tk.ID, rating.Request{Score: 5}, "Idempotency-Key", "k2")
	if e := decodeErr(t, b); st != 409 || e.Error.Reason != string(hall.ReasonAlreadyRated) || e.Error.Details == nil || e.Error.Details.Status != hall.OnlineApplied {
		t.Fatalf("second rating: %d %s", st, b)
	}
	// The window's pad cannot rate the visit again either.
	_, err := w.Hall.Admin.Act(context.Background(), "pad-1", tk.ID, hall.ActRate, &hall.Action{Score: 5})
	if hall.ErrorReason(err) != string(hall.ReasonAlreadyRated) {
		t.Fatalf("the pad after the online rating: %v", err)
	}
	if r := w.hallRating(tk.ID); r.Channel != hall.ViaOnline || r.Score != 2 {
		t.Fatalf("the pad changed the rating: %+v", r)
	}
}

// While the hall's link is down an online rating is accepted and pending;
// when the link returns the hall applies it — unless the window's pad
// rated the visit meanwhile: then the hall refuses the online one
// (already_rated) and the central says the visit was rated at the window
// and the online rating was not counted.
func TestOnlineRatingWhileTheHallIsUnreachable(t *testing.T) {
	w := mustWorld(t)
	a, b := w.Issue("i-a", "E"), w.Issue("i-b", "E")
	w.Serve(1, a.ID)
	w.Serve(1, b.ID)
	eventually(t, "the central sees both done", func() bool {
		return w.Ticket(a.ID).Status == string(hall.Done) && w.Ticket(b.ID).Status == string(hall.Done)
	})
	w.Link.Cut()
	// b is rated at the pad while the hall cannot forward it.
	if _, err := w.Hall.Admin.Act(context.Background(), "pad-b", b.ID, hall.ActRate, &hall.Action{Score: 4}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if st, body := w.Do("POST", "/api/v1/ratings/"+id, rating.Request{Score: 5}, "Idempotency-Key", "k-"+id); st != http.StatusAccepted {
			t.Fatalf("rate %s offline: %d %s", id, st, body)
		}
	}
	if ra, rb := w.Rating(a.ID), w.Rating(b.ID); ra.Status != hall.OnlinePending || rb.Status != hall.OnlinePending {
		t.Fatalf("while the hall is unreachable: %+v %+v", ra, rb)
	}
	w.Link.Restore()
	eventually(t, "a is applied when the hall is back", func() bool { return w.Rating(a.ID).Status == hall.OnlineApplied })
	eventually(t, "b is the pad's", func() bool { return w.Rating(b.ID).Status == hall.OnlineRatedElsewhere })
	if rb := w.Rating(b.ID); !rb.OnlineRefused || rb.Channel != hall.ViaWindowPad {
		t.Fatalf("b: %+v", rb)
	}
	if r := w.hallRating(a.ID); r == nil || r.Channel != hall.ViaOnline || r.Score != 5 {
		t.Fatalf("a at the hall: %+v", r)
	}
	if r := w.hallRating(b.ID); r == nil || r.Channel != hall.ViaWindowPad || r.Score != 4 {
		t.Fatalf("b at the hall: %+v", r)
	}
}

// The hall keeps a day's tickets until it begins the next day, so a visit
// of a day the hall has left is refused day_over (not sent to a hall that
// could only drop it), while the central still shows the ticket.
func TestOnlineRatingOnlyOnTheVisitsDay(t *testing.T) {
	w := mustCentral(t)
	now := time.Now().In(shanghai)
	yesterday, today := now.AddDate(0, 0, -1), now
	tk := &hall.Ticket{ID: "dayovert0000000000000001", Number: "E001", Service: "E", Day: yesterday.Format(time.DateOnly),
		Channel: hall.WalkIn, Status: hall.Done, IssuedAt: yesterday, QueuedAt: yesterday, Window: 1}
	publishEvents(t, w.P.JS, "420199-01", []hall.Event{
		{Type: hall.EvTicketCompleted, At: yesterday, Day: tk.Day, Ticket: tk},
		{Type: hall.EvWindowOpened, At: today, Day: today.Format(time.DateOnly), Window: &hall.Window{Number: 1, Services: []string{"E"}, Status: hall.WindowOpen, Since: today}},
	})
	eventually(t, "the central has the hall's new day", func() bool {
		h, ok := w.P.Views.Hall("420199-01")
		return ok && h.Day == today.Format(time.DateOnly) && w.Ticket(tk.ID).Status == string(hall.Done)
	})
	st, b := w.Do("POST", "/api/v1/ratings/"+tk.ID, rating.Request{Score: 5}, "Idempotency-Key", "k")
	if e := decodeErr(t, b); st != 409 || e.Error.Reason != string(hall.OnlineDayOver) {
		t.Fatalf("a visit of a day the hall has left: %d %s", st, b)
	}
	if r := w.Rating(tk.ID); r.Status != hall.OnlineNone {
		t.Fatalf("kept: %+v", r)
	}
}

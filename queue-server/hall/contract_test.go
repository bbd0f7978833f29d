package hall

import "testing"

// Opening a window that is already open (by the same clerk) changes
// nothing: no event, and its since stays.
func TestOpeningAnOpenWindowEmitsNothingAndKeepsSince(t *testing.T) {
	f := MustHall(t, nil)
	f.open(1)
	ws, _ := f.svc.Windows(f.ctx)
	since := ws[0].Since
	n := len(f.j.all())
	f.clock.Advance(10 * 60e9)
	for _, clerk := range []string{"clerk1", ""} {
		w, err := f.svc.SetWindow(f.ctx, Op{Actor: "clerk"}, 1, WindowOpen, clerk, "")
		if err != nil || !w.Since.Equal(since) || w.Status != WindowOpen || w.Clerk != "clerk1" {
			t.Fatalf("open again (clerk %q): %v %+v", clerk, err, w)
		}
	}
	if got := len(f.j.all()); got != n {
		t.Fatalf("opening an open window emitted %d events", got-n)
	}
	// another clerk taking the window over is a change, but it has been
	// open all along
	w, err := f.svc.SetWindow(f.ctx, Op{Actor: "clerk"}, 1, WindowOpen, "clerk9", "")
	if err != nil || w.Clerk != "clerk9" || !w.Since.Equal(since) || len(f.j.all()) != n+1 {
		t.Fatalf("take-over: %v %+v", err, w)
	}
}

// An idempotency key answers only the request it was first given with:
// the same fingerprint gets the first result, another one is refused with
// unprocessable/idempotency_key_reused and changes nothing.
func TestIdempotencyKeyBoundToItsRequest(t *testing.T) {
	f := MustHall(t, nil)
	a, err := f.svc.Issue(f.ctx, Op{IdemKey: "tok:tx-42", Fingerprint: "issue-E"}, IssueRequest{Service: "E"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.Issue(f.ctx, Op{IdemKey: "tok:tx-42", Fingerprint: "issue-E"}, IssueRequest{Service: "E"})
	if err != nil || b.ID != a.ID {
		t.Fatalf("retry: %v %s vs %s", err, b.ID, a.ID)
	}
	n := len(f.j.all())
	_, err = f.svc.Act(f.ctx, Op{IdemKey: "tok:tx-42", Fingerprint: "print-failed"}, Action{Name: ActPrintFailed, Ticket: a.ID})
	if ErrorCode(err) != Unprocessable || ErrorReason(err) != "idempotency_key_reused" {
		t.Fatalf("another request with the key: %v", err)
	}
	if len(f.j.all()) != n {
		t.Fatal("a refused reuse changed the hall")
	}
	// without fingerprints (records from before them), the key matches as it did
	c, err := f.svc.Issue(f.ctx, Op{IdemKey: "tok:tx-42"}, IssueRequest{Service: "E"})
	if err != nil || c.ID != a.ID {
		t.Fatalf("no fingerprint: %v %s", err, c.ID)
	}
}

package server

import (
	"context"
	"net/http"
	"testing"

	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// A citizen types the ID number on the phone the way it is printed, in
// groups ("110105 19491231 002x"): it is the same number, so the same
// ticket (one rule with the central: internal/idnumber.ParseResident).
func TestRemoteTicketTakesAGroupedIDNumber(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	phone := client.New(h.URL, "")
	take := func(id string) (hall.TicketView, int, error) {
		var tk hall.TicketView
		status, err := phone.Do(ctx, "POST", "/api/v1/remote-tickets", "", wire.RemoteTicketRequest{Service: "A", IDNumber: id}, &tk)
		return tk, status, err
	}
	tk, status, err := take("110105 19491231 002x")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("grouped ID number: %d %v", status, err)
	}
	again, status, err := take("11010519491231002X")
	if err != nil || status != http.StatusCreated || again.ID != tk.ID {
		t.Fatalf("the same number ungrouped: %d %v, ticket %s, want %s", status, err, again.ID, tk.ID)
	}
	staff, err := h.admin.Ticket(ctx, tk.ID)
	if err != nil || staff.MaskedID != "1101**********002X" {
		t.Fatalf("staff view: %v %+v", err, staff)
	}
}

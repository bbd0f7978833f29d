package server

import (
	"context"
	"net/http"
	"testing"

	"hallq/queue-server/client"
	"hallq/queue-server/wire"
)

// A citizen types the ID number on the phone the way it is printed, in
// groups ("110105 19491231 002x"): it is the same number, so the same
// ticket (one rule with the central: internal/idnumber.ParseResident).
func TestRemoteTicketTakesAGroupedIDNumber(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	phone := client.New(h.URL, "")
	take := func(id, claim string) (wire.RemoteTicket, int, error) {
		var tk wire.RemoteTicket
		status, err := phone.Do(ctx, "POST", "/api/v1/remote-tickets", "", wire.RemoteTicketRequest{Service: "A", IDNumber: id, Claim: claim}, &tk)
		return tk, status, err
	}
	tk, status, err := take("110105 19491231 002x", "")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("grouped ID number: %d %v", status, err)
	}
	// the same phone (its claim) typing the number without spaces gets the same ticket
	again, status, err := take("11010519491231002X", tk.Claim)
	if err != nil || status != http.StatusCreated || again.ID != tk.ID {
		t.Fatalf("the same number ungrouped: %d %v, ticket %s, want %s", status, err, again.ID, tk.ID)
	}
	staff, err := h.admin.Ticket(ctx, tk.ID)
	if err != nil || staff.MaskedID != "1101**********002X" {
		t.Fatalf("staff view: %v %+v", err, staff)
	}
}

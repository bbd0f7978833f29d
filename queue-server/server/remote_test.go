package server

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"hallq/devices/idcard"
	"hallq/queue-server/client"
	"hallq/queue-server/hall"
	"hallq/queue-server/seal"
	"hallq/queue-server/wire"
)

// residentID makes a valid 18-character resident ID number for person i.
func residentID(t *testing.T, i int) string {
	t.Helper()
	first := fmt.Sprintf("11010519800101%03d", i)
	c, err := idcard.CheckDigit(first)
	if err != nil {
		t.Fatal(err)
	}
	return first + string(c)
}

// TestRemoteTickets takes tickets as a citizen's phone does (no token):
// channel remote; the same ticket again for a double tap from the same
// browser (its claim) and a new one once it is cancelled; nobody else who
// types the number gets that ticket; refusals about the person are one
// neutral answer; the per-address limit; and no raw ID number on disk.
func TestRemoteTickets(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	phone := client.New(h.URL, "")
	phone.HTTP = h.admin.HTTP
	takeClaim := func(service, id, claim string) (wire.RemoteTicket, int, error) {
		var tk wire.RemoteTicket
		status, err := phone.Do(ctx, "POST", "/api/v1/remote-tickets", "", wire.RemoteTicketRequest{Service: service, IDNumber: id, Claim: claim}, &tk)
		return tk, status, err
	}
	take := func(service, id string) (wire.RemoteTicket, int, error) { return takeClaim(service, id, "") }
	refused := func(what string, err error, status int, code hall.Code, reason string) {
		t.Helper()
		if hall.ErrorCode(err) != code || hall.ErrorReason(err) != reason || status != apiHTTPStatus(code) {
			t.Errorf("%s: status %d, %v; want %s/%s", what, status, err, code, reason)
		}
	}
	var used []string

	// the example from the protocol, in lower case: x is the check character
	first := "11010519491231002x"
	used = append(used, "11010519491231002X")
	tk, status, err := take("A", first)
	if err != nil || status != http.StatusCreated || tk.Channel != hall.Remote || tk.Status != hall.Waiting {
		t.Fatalf("remote ticket: %d %v %+v", status, err, tk)
	}
	if tk.MaskedID != "" || tk.CitizenKey != "" {
		t.Errorf("the reply carries personal data: %+v", tk)
	}
	if len(tk.Claim) != 32 {
		t.Fatalf("the reply carries no claim: %+v", tk)
	}
	again, status, err := takeClaim("a", " 11010519491231002X ", tk.Claim)
	if err != nil || status != http.StatusCreated || again.ID != tk.ID {
		t.Errorf("the same ID, service and claim again: %d %v, ticket %s, want %s", status, err, again.ID, tk.ID)
	}
	// someone else who knows the number: not handed the ticket, and told
	// nothing about the person
	stranger, status, err := take("A", first)
	refused("the same ID from another browser", err, status, hall.Forbidden, "not_available")
	if stranger.ID != "" {
		t.Errorf("a stranger got ticket %s", stranger.ID)
	}
	_, status, err = takeClaim("A", first, "0123456789abcdef0123456789abcdef")
	refused("the same ID with a guessed claim", err, status, hall.Forbidden, "not_available")
	_, status, err = takeClaim("A", first, "not-a-claim")
	refused("a malformed claim", err, status, hall.Invalid, "")
	staff, err := h.admin.Ticket(ctx, tk.ID)
	if err != nil || staff.MaskedID != "1101**********002X" || staff.Channel != hall.Remote {
		t.Errorf("staff view: %v %+v", err, staff)
	}
	// cancelled (or served, or missed): the same number takes a new ticket
	if _, err := h.admin.Act(ctx, "", tk.ID, hall.ActCancel, nil); err != nil {
		t.Fatal(err)
	}
	renewed, status, err := takeClaim("A", first, tk.Claim)
	if err != nil || status != http.StatusCreated || renewed.ID == tk.ID || renewed.Status != hall.Waiting {
		t.Errorf("the same ID and service after a cancel: %d %v %+v, want a new waiting ticket", status, err, renewed)
	}

	for _, bad := range []string{"110105194912310021", "11010519491231002", "1101051949123100X2", "ABCDEFGHIJKLMNOPQR", ""} {
		_, status, err := take("A", bad)
		refused(fmt.Sprintf("id number %q", bad), err, status, hall.Invalid, "invalid_id_number")
	}
	_, status, err = take("C", residentID(t, 1))
	used = append(used, residentID(t, 1))
	refused("service C (not remote)", err, status, hall.Forbidden, "remote_not_allowed")

	// two tickets at the kiosk with the same card use up A's limit of 2
	kiosk := h.as(wire.RoleKiosk, 0)
	pubText, err := kiosk.SealKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := seal.ParsePublic(pubText)
	if err != nil {
		t.Fatal(err)
	}
	second := residentID(t, 2)
	used = append(used, second)
	for i := range 2 {
		sealed, err := seal.Seal(pub, second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kiosk.Issue(ctx, fmt.Sprint("k", i), hall.IssueRequest{Service: "A", SealedID: sealed}); err != nil {
			t.Fatal(err)
		}
	}
	_, status, err = take("A", second)
	refused("third A ticket for one ID (the limit, not said)", err, status, hall.Forbidden, "not_available")
	// a blacklisted ID gets the very same answer
	banned := residentID(t, 3)
	used = append(used, banned)
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/blacklist", "", wire.BlacklistRequest{IDNumber: banned}, nil); err != nil {
		t.Fatal(err)
	}
	_, status, err = take("B", banned)
	refused("a blacklisted ID (not said)", err, status, hall.Forbidden, "not_available")

	// eight requests with a valid number so far; two more fill the hour
	for i := range 2 {
		id := residentID(t, 10+i)
		used = append(used, id)
		if _, status, err := take("B", id); err != nil || status != http.StatusCreated {
			t.Fatalf("remote ticket %d: %d %v", 9+i, status, err)
		}
	}
	_, status, err = take("B", residentID(t, 20))
	used = append(used, residentID(t, 20))
	refused("the 11th request from one address", err, status, hall.QuotaExceeded, "too_many_requests")

	// the raw numbers were never stored: not in any file of the data dir
	h.Close()
	filepath.WalkDir(h.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range used {
			if bytes.Contains(raw, []byte(id)) || bytes.Contains(bytes.ToLower(raw), bytes.ToLower([]byte(id))) {
				t.Errorf("%s holds the ID number %s", path, id)
			}
		}
		return nil
	})
}

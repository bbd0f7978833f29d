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
// channel remote, the same ticket again for a double tap and a new one once
// it is cancelled, plain refusals, the per-citizen and per-address limits,
// and no raw ID number on disk.
func TestRemoteTickets(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	phone := client.New(h.URL, "")
	take := func(service, id string) (hall.TicketView, int, error) {
		var tk hall.TicketView
		status, err := phone.Do(ctx, "POST", "/api/v1/remote-tickets", "", wire.RemoteTicketRequest{Service: service, IDNumber: id}, &tk)
		return tk, status, err
	}
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
	again, status, err := take("a", " 11010519491231002X ")
	if err != nil || status != http.StatusCreated || again.ID != tk.ID {
		t.Errorf("the same ID and service again: %d %v, ticket %s, want %s", status, err, again.ID, tk.ID)
	}
	staff, err := h.admin.Ticket(ctx, tk.ID)
	if err != nil || staff.MaskedID != "1101**********002X" || staff.Channel != hall.Remote {
		t.Errorf("staff view: %v %+v", err, staff)
	}
	// cancelled (or served, or missed): the same number takes a new ticket
	if _, err := h.admin.Act(ctx, "", tk.ID, hall.ActCancel, nil); err != nil {
		t.Fatal(err)
	}
	renewed, status, err := take("A", first)
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
	refused("third A ticket for one ID", err, status, hall.QuotaExceeded, "citizen_limit")

	// five requests with a valid number so far; five more fill the hour
	for i := range 5 {
		id := residentID(t, 10+i)
		used = append(used, id)
		if _, status, err := take("B", id); err != nil || status != http.StatusCreated {
			t.Fatalf("remote ticket %d: %d %v", 6+i, status, err)
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

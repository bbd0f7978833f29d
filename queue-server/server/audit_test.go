package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"hallq/queue-server/audit"
	"hallq/queue-server/client"
	"hallq/queue-server/wire"
)

// The trail records who did what, when and from where: user management, a
// failed and a good login, a clerk's window, a logout, a refused attempt
// by a kiosk and by an anonymous client; `queue-server audit verify`
// accepts it and names the record a changed file breaks; export -since
// writes the records, which verify again.
func TestAuditTrailOfStaffActions(t *testing.T) {
	h := MustHall(t)
	ctx := context.Background()
	if _, err := h.admin.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "li", Password: "correct horse 42", Role: wire.RoleClerk, Window: 5}, nil); err != nil {
		t.Fatal(err)
	}
	anon := client.New(h.URL, "")
	if _, err := anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "li", Password: "wrong"}, nil); err == nil {
		t.Fatal("a wrong password signed in")
	}
	if _, err := anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "110101199003070011", Password: "x"}, nil); err == nil {
		t.Fatal("an ID number signed in")
	}
	var session struct{ Token string }
	if _, err := anon.Do(ctx, "POST", "/api/v1/login", "", wire.LoginRequest{Name: "li", Password: "correct horse 42"}, &session); err != nil {
		t.Fatal(err)
	}
	li := client.New(h.URL, session.Token)
	if _, err := li.SetWindow(ctx, 5, "open", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := li.Do(ctx, "POST", "/api/v1/logout", "", nil, nil); err != nil {
		t.Fatal(err)
	}
	kiosk := h.as(wire.RoleKiosk, 0)
	if _, err := kiosk.Do(ctx, "POST", "/api/v1/users", "", wire.UserRequest{Name: "x", Password: "long enough 1234", Role: wire.RoleAdmin}, nil); err == nil {
		t.Fatal("a kiosk made a user")
	}
	if code, _ := anon.Do(ctx, "POST", "/api/v1/windows/5/call", "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("anonymous call: %d", code)
	}
	h.Close()

	path := filepath.Join(h.dir, audit.FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("110101199003070011")) || bytes.Contains(b, []byte("correct horse")) {
		t.Fatalf("the trail holds an ID number or a password:\n%s", b)
	}
	var got []string
	for line := range strings.Lines(string(b)) {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.Addr != "127.0.0.1" || r.At.IsZero() {
			t.Errorf("record %d: addr %q at %v, want 127.0.0.1 and a time", r.Seq, r.Addr, r.At)
		}
		got = append(got, strings.Join([]string{r.Actor, r.Role, r.Action, r.Target, r.Outcome}, " "))
	}
	want := []string{
		"bootstrap-admin admin users.create name=li ok",
		"li  login  refused:unauthorized",
		"1101**********0011  login  refused:unauthorized", // an ID number typed as a name is kept masked
		"li  login  ok",
		"li clerk windows.set window=5,state=open ok",
		"li clerk logout  ok",
		"bootstrap-admin admin tokens.create name=kiosk ok",
		"kiosk kiosk users.create name=x refused:forbidden",
		"  windows.call window=5 refused:unauthorized",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var out, errOut bytes.Buffer
	if code := Audit([]string{"verify", path}, &out, &errOut); code != 0 || !strings.Contains(out.String(), ": ok, 9 records, seq 1 to 9") {
		t.Fatalf("verify: exit %d, %q %q", code, out.String(), errOut.String())
	}
	tampered := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(tampered, bytes.Replace(b, []byte(`"refused:forbidden"`), []byte(`"ok"`), 1), 0o600)
	out.Reset()
	errOut.Reset()
	if code := Audit([]string{"verify", tampered}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "line 8 (seq 8): the record was changed") {
		t.Fatalf("verify of a changed trail: exit %d, %q %q", code, out.String(), errOut.String())
	}

	exported := filepath.Join(t.TempDir(), "export.jsonl")
	errOut.Reset()
	if code := Audit([]string{"export", "-data", h.dir, "-since", "2000-01-01", "-o", exported}, &out, &errOut); code != 0 || !strings.Contains(errOut.String(), "9 records") {
		t.Fatalf("export: exit %d, %q", code, errOut.String())
	}
	if e, _ := os.ReadFile(exported); !bytes.Equal(e, b) {
		t.Errorf("the export is not the trail")
	}
	if code := Audit([]string{"export", "-data", h.dir, "-since", "yesterday"}, &out, &errOut); code != 2 {
		t.Errorf("a bad -since: exit %d", code)
	}
}

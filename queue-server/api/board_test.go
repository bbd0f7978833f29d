package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hallq/queue-server/hall"
	"hallq/queue-server/wire"
)

// pngBytes is the start of a PNG file: what content sniffing calls image/png.
var pngBytes = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"

func (h *contractHall) upload(token, ctype, query, body string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.s.URL+"/api/v1/board/media"+query, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestBoardNoticesAndMediaRoutes(t *testing.T) {
	h := mustContractHall(t)
	display := h.as(wire.RoleDisplay, "board", 0)
	kiosk := h.as(wire.RoleKiosk, "kiosk-1", 0)
	manager := h.as(wire.RoleManager, "zhang", 0)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)

	for _, c := range []struct{ body, want string }{
		{`{}`, "board.notices[0].text.zh: missing"},
		{`{"text":{"zh":"x"},"until":"2020-01-01T00:00:00Z"}`, "already past"},
		{`{"id":"mine","text":{"zh":"x"}}`, "id is chosen by the hall"},
		{`{"text":{"zh":"x"},"colour":"red"}`, "unknown field"},
		{`{"text":{"zh":"` + strings.Repeat("长", 201) + `"}}`, "at most 200 characters"},
	} {
		if st, body := h.do(manager, "POST", "/api/v1/board/notices", "", c.body); st != 400 || !strings.Contains(body, c.want) {
			t.Errorf("notice %s: %d %s, want 400 %q", c.body[:min(len(c.body), 40)], st, body, c.want)
		}
	}
	if st, _ := h.do(display, "POST", "/api/v1/board/notices", "", `{"text":{"zh":"x"}}`); st != 403 {
		t.Errorf("display posts a notice: %d", st)
	}
	st, body := h.do(manager, "POST", "/api/v1/board/notices", "", `{"text":{"zh":"下午系统维护","en":"Maintenance this afternoon"},"until":"`+until+`"}`)
	var n hall.BoardNotice
	if json.Unmarshal([]byte(body), &n); st != 201 || n.ID == "" || n.Until.IsZero() {
		t.Fatalf("post notice: %d %s", st, body)
	}
	o, err := display.Overview(t.Context())
	if err != nil || len(o.Board.Notices) != 1 || o.Board.Notices[0].Text.EN != "Maintenance this afternoon" {
		t.Fatalf("the board's overview: %+v, %v", o.Board, err)
	}

	// media: the type named, the type the bytes are, the size
	for _, c := range []struct {
		who, ctype, body string
		want             int
		says             string
	}{
		{display.Token, "image/png", pngBytes, 403, ""},
		{manager.Token, "text/html", "<html>", 400, "not one the board plays"},
		{manager.Token, "image/png", "<html><script>alert(1)</script>", 400, "the file is text/html, not the image/png it was sent as"},
		{manager.Token, "image/png", "", 400, "empty"},
		{manager.Token, "image/png", pngBytes + strings.Repeat("x", hall.MaxImageBytes), 400, "at most 5 MB"},
	} {
		if st, body := h.upload(c.who, c.ctype, "", c.body); st != c.want || !strings.Contains(body, c.says) {
			t.Errorf("upload %s: %d %.120s, want %d %q", c.ctype, st, body, c.want, c.says)
		}
	}
	if st, body := h.upload(manager.Token, "image/png", "?seconds=999", pngBytes); st != 400 || !strings.Contains(body, "seconds") {
		t.Errorf("seconds 999: %d %s", st, body)
	}
	st, body = h.upload(manager.Token, "image/png", "?name=welcome&seconds=15", pngBytes)
	var m hall.Media
	if json.Unmarshal([]byte(body), &m); st != 201 || m.Type != "image/png" || m.Size != int64(len(pngBytes)) || m.Seconds != 15 || m.Name != "welcome" {
		t.Fatalf("upload: %d %s", st, body)
	}
	dir := filepath.Join(filepath.Dir(h.s.Store.Path()), "board-media")
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != m.ID {
		t.Errorf("the media directory holds %v, want just %s (no leftover uploads)", entries, m.ID)
	}
	res, err := http.Get(h.s.URL + "/api/v1/board/media/" + m.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || res.Header.Get("X-Content-Type-Options") != "nosniff" || string(got) != pngBytes {
		t.Errorf("served: %d %v %q", res.StatusCode, res.Header, got)
	}
	if res, _ := http.Get(h.s.URL + "/api/v1/board/media/nosuch"); res.StatusCode != 404 {
		t.Errorf("unknown media: %d", res.StatusCode)
	}
	if st, _ := h.do(kiosk, "DELETE", "/api/v1/board/media/"+m.ID, "", ""); st != 403 {
		t.Errorf("a kiosk deletes media: %d", st)
	}
	if st, body := h.do(manager, "DELETE", "/api/v1/board/media/"+m.ID, "", ""); st != 200 || strings.Contains(body, m.ID) {
		t.Errorf("delete media: %d %s", st, body)
	}
	if _, err := os.Stat(filepath.Join(dir, m.ID)); !os.IsNotExist(err) {
		t.Errorf("the file stays after delete: %v", err)
	}
	if st, body := h.do(manager, "DELETE", "/api/v1/board/notices/"+n.ID, "", ""); st != 200 || strings.Contains(body, n.ID) {
		t.Errorf("delete notice: %d %s", st, body)
	}
	if st, _ := h.do(manager, "DELETE", "/api/v1/board/notices/"+n.ID, "", ""); st != 404 {
		t.Errorf("delete it again: %d", st)
	}
}

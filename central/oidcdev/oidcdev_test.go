package oidcdev_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hallq/central/auth"
	"hallq/central/oidcdev"
)

// A citizen signs in through the stand-in page with the authorization-code
// flow and PKCE; the ID token it returns is verified by central/auth and
// names the citizen by key and masked number only.
func TestSignInWithPKCE(t *testing.T) {
	p, err := oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	p.Issuer = srv.URL
	verifier := "a-code-verifier-of-enough-length-0123456789abcdef"
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {"portal"}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "state": {"s1"},
		"nonce": {"n1"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}

	resp, err := http.Get(srv.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Stand-in sign-in") || !strings.Contains(string(page), "测试用登录页") {
		t.Fatalf("sign-in page %d: %s", resp.StatusCode, page)
	}
	noPKCE := url.Values{}
	for k, v := range q {
		noPKCE[k] = v
	}
	noPKCE.Del("code_challenge")
	if resp, _ := http.Get(srv.URL + "/authorize?" + noPKCE.Encode()); resp.StatusCode != 400 {
		t.Fatalf("authorize without PKCE: %d", resp.StatusCode)
	}

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := url.Values{}
	for k, v := range q {
		form[k] = v
	}
	form.Set("id_number", "12345")
	if resp, _ := noRedirect.PostForm(srv.URL+"/authorize", form); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad ID number: %d", resp.StatusCode)
	}
	form.Set("id_number", "11010519491231002x")
	resp, err = noRedirect.PostForm(srv.URL+"/authorize", form)
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if loc.Query().Get("state") != "s1" || code == "" || strings.Contains(code, "11010519491231002") {
		t.Fatalf("redirect %s", loc)
	}
	token := func(v string) (int, map[string]any) {
		resp, err := http.PostForm(srv.URL+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {"http://127.0.0.1:1/cb"}, "client_id": {"portal"}, "code_verifier": {v}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, m := token("the-wrong-verifier"); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, m)
	}
	st, m := token(verifier)
	if st != 200 {
		t.Fatalf("token: %d %v", st, m)
	}
	v, err := auth.New(context.Background(), auth.Config{Issuer: srv.URL, ClientID: "portal", ProvinceKey: []byte("example-province-key")})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := v.Token(context.Background(), m["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// docs/central.md's citizen-key example.
	if pr.Citizen == nil || pr.Citizen.Key != "66f10242fe50b08a2f3f0154c3255228b970936d0fd9027d2e67fc080e0d00f5" || pr.Citizen.Masked != "1101**********002X" {
		t.Fatalf("principal %+v", pr)
	}
}

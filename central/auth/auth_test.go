package auth_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"hallq/central/auth"
	"hallq/central/oidcdev"
	"hallq/central/platform"
)

// Under the 国密 option (-crypto gm) a signed-in citizen's key is the
// HMAC-SM3 one the halls' kiosks derive, not the default HMAC-SHA256: else
// no booking made online would ever match the card at the kiosk.
func TestCitizenKeyFollowsTheProvinceScheme(t *testing.T) {
	idp, err := oidcdev.New("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(idp)
	defer srv.Close()
	idp.Issuer = srv.URL
	province := []byte("example-province-key")
	const id = "11010519491231002X"
	tok := idp.Mint(oidcdev.Token{Subject: "c1", Audience: "portal", IDNumber: id})
	for _, scheme := range []string{"", platform.KeySchemeSHA256, platform.KeySchemeSM3} {
		v, err := auth.New(context.Background(), auth.Config{Issuer: srv.URL, ClientID: "portal", ProvinceKey: province, KeyScheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		p, err := v.Token(context.Background(), tok)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := platform.CitizenKeyWith(scheme, province, id)
		if p.Citizen == nil || p.Citizen.Key != want {
			t.Fatalf("scheme %q: citizen %+v, want key %s", scheme, p.Citizen, want)
		}
	}
	sha, _ := platform.CitizenKeyWith(platform.KeySchemeSHA256, province, id)
	sm3, _ := platform.CitizenKeyWith(platform.KeySchemeSM3, province, id)
	if sha == sm3 {
		t.Fatal("the two schemes give the same key")
	}
}

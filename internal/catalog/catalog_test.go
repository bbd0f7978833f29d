package catalog

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCatalogRoundTripAndLookups(t *testing.T) {
	in := `{"version":3,"published_at":"2027-01-04T08:30:00+08:00","matters":[
	 {"code":"HJ-001","name":{"zh":"户口迁移","en":"Household transfer"},"services":["A"],"booking":"allowed",
	  "materials":[{"name":{"zh":"居民身份证","en":"ID card"},"original":true},{"name":{"zh":"户口簿"},"copies":1}],
	  "time_limit_days":20},
	 {"code":"CR-002","name":{"zh":"护照"},"services":["B","A"],"booking":"required","materials":[]}]}`
	var c Catalog
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if m, ok := c.Matter("HJ-001"); !ok || m.Materials[1].Copies != 1 || m.Name.Pick("en") != "Household transfer" {
		t.Errorf("Matter = %+v, %v", m, ok)
	}
	if got := c.ForService("A"); len(got) != 2 || got[0].Code != "HJ-001" {
		t.Errorf("ForService(A) = %v", got)
	}
	if c.Matters[1].Name.Pick("en") != "护照" {
		t.Error("Pick falls back to Chinese")
	}
	out, _ := json.Marshal(c)
	if strings.Contains(string(out), `"fees"`) || strings.Contains(string(out), `"note"`) {
		t.Errorf("optional fields are omitted: %s", out)
	}
}

func TestValidateNamesTheMatter(t *testing.T) {
	ok := Matter{Code: "X1", Name: Text{ZH: "事项"}, Services: []string{"A"}, Booking: BookingNone}
	for _, tc := range []struct {
		edit func(*Catalog)
		want string
	}{
		{func(c *Catalog) { c.Version = 0 }, "version"},
		{func(c *Catalog) { c.Matters[0].Code = "a b" }, "code"},
		{func(c *Catalog) { c.Matters = append(c.Matters, ok) }, "twice"},
		{func(c *Catalog) { c.Matters[0].Name.ZH = "" }, "name.zh"},
		{func(c *Catalog) { c.Matters[0].Services = nil }, "services"},
		{func(c *Catalog) { c.Matters[0].Services = []string{"AB"} }, "capital"},
		{func(c *Catalog) { c.Matters[0].Booking = "maybe" }, "booking"},
		{func(c *Catalog) { c.Matters[0].Materials = []Material{{}} }, "material 0"},
	} {
		c := Catalog{Version: 1, Matters: []Matter{ok}}
		tc.edit(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, tc.want)
		}
	}
}

// Package catalog holds the province's catalogue of matters (事项) as halls
// and the central share it: each matter with its stable code, its names,
// the hall services that serve it, whether it may or must be booked, and its
// 办事指南 (materials to bring, fees, legal time limit, where to go). The
// central publishes the whole current version on `central.catalog`
// (docs/central.md); a hall stores the last one it received so the kiosk and
// the phone page show checklists while the province is unreachable.
//
// It imports only the standard library, so the hall domain and the central
// both use it.
package catalog

import (
	"fmt"
	"regexp"
)

// Text is a short text in the hall's two languages.
type Text struct {
	ZH string `json:"zh"`
	EN string `json:"en,omitempty"`
}

// Pick returns the text in lang ("zh" or "en"), falling back to Chinese.
func (t Text) Pick(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.ZH
}

// Booking says whether a matter needs an online booking.
type Booking string

const (
	BookingNone     Booking = "none"     // walk-in only
	BookingAllowed  Booking = "allowed"  // walk-in or booked
	BookingRequired Booking = "required" // booked only
)

// Material is one item of a matter's checklist (办事材料).
type Material struct {
	Name     Text  `json:"name"`
	Note     *Text `json:"note,omitempty"`
	Original bool  `json:"original,omitempty"` // the original must be shown
	Copies   int   `json:"copies,omitempty"`   // photocopies to hand in
}

// Matter is one matter of the catalogue with its guide.
type Matter struct {
	Code          string     `json:"code"`
	Name          Text       `json:"name"`
	Services      []string   `json:"services"` // hall service letters that serve it
	Booking       Booking    `json:"booking"`
	Materials     []Material `json:"materials"`
	Fees          *Text      `json:"fees,omitempty"`
	TimeLimitDays int        `json:"time_limit_days,omitempty"` // legal time limit, working days
	Where         *Text      `json:"where,omitempty"`
}

// Catalog is one version of the whole catalogue.
type Catalog struct {
	Version     uint64   `json:"version"`
	PublishedAt string   `json:"published_at"` // RFC 3339
	Matters     []Matter `json:"matters"`
}

var (
	codeRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
	serviceRE = regexp.MustCompile(`^[A-Z]$`)
)

// Validate reports the first thing wrong with the catalogue, naming the
// matter and field.
func (c Catalog) Validate() error {
	if c.Version == 0 {
		return fmt.Errorf("catalog: version must be at least 1")
	}
	seen := map[string]bool{}
	for i, m := range c.Matters {
		where := fmt.Sprintf("catalog: matter %d (%q)", i, m.Code)
		switch {
		case !codeRE.MatchString(m.Code):
			return fmt.Errorf("%s: code must be 1-32 letters, digits, '-' or '_'", where)
		case seen[m.Code]:
			return fmt.Errorf("%s: code appears twice", where)
		case m.Name.ZH == "":
			return fmt.Errorf("%s: name.zh is required", where)
		case len(m.Services) == 0:
			return fmt.Errorf("%s: services must name at least one hall service letter", where)
		case m.TimeLimitDays < 0:
			return fmt.Errorf("%s: time_limit_days must not be negative", where)
		}
		switch m.Booking {
		case BookingNone, BookingAllowed, BookingRequired:
		default:
			return fmt.Errorf("%s: booking must be none, allowed or required, not %q", where, m.Booking)
		}
		for _, s := range m.Services {
			if !serviceRE.MatchString(s) {
				return fmt.Errorf("%s: service %q is not one capital letter", where, s)
			}
		}
		for j, mat := range m.Materials {
			if mat.Name.ZH == "" {
				return fmt.Errorf("%s: material %d: name.zh is required", where, j)
			}
			if mat.Copies < 0 {
				return fmt.Errorf("%s: material %d: copies must not be negative", where, j)
			}
		}
		seen[m.Code] = true
	}
	return nil
}

// Matter returns the matter with code.
func (c Catalog) Matter(code string) (Matter, bool) {
	for _, m := range c.Matters {
		if m.Code == code {
			return m, true
		}
	}
	return Matter{}, false
}

// ForService returns the matters a hall service serves, in catalogue order.
func (c Catalog) ForService(letter string) []Matter {
	var out []Matter
	for _, m := range c.Matters {
		for _, s := range m.Services {
			if s == letter {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

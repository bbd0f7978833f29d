package kiosk

import (
	"maps"
	"slices"
	"testing"

	"fyne.io/fyne/v2/lang"
)

func TestTranslationsHaveTheSameKeys(t *testing.T) {
	zh, en := slices.Sorted(maps.Keys(catalog[Chinese])), slices.Sorted(maps.Keys(catalog[English]))
	if !slices.Equal(zh, en) {
		t.Errorf("zh_Hans keys %q\ndiffer from en keys %q", zh, en)
	}
	for l, m := range catalog {
		for k, s := range m {
			if s == "" {
				t.Errorf("%s: %s is empty", l, k)
			}
		}
	}
}

func TestEveryReasonHasWords(t *testing.T) {
	for r := range reasonActions {
		for _, l := range []Language{Chinese, English} {
			if _, ok := catalog[l]["reason_"+string(r)]; !ok {
				t.Errorf("%s has no words for %s", l, r)
			}
		}
	}
}

func TestTemplates(t *testing.T) {
	if got := tr(English, "tile_waiting", map[string]any{"N": 3}); got != "3 waiting" {
		t.Errorf("tile_waiting = %q", got)
	}
	if got := tr(Chinese, "page", map[string]any{"Page": 1, "Pages": 2}); got != "第 1 / 2 页" {
		t.Errorf("page = %q", got)
	}
	if got := tr(Chinese, "no_such_key", nil); got != "no_such_key" {
		t.Errorf("a missing key gave %q", got)
	}
}

// TestRegisteredWithFyneLang: lang answers in the system locale, which is
// one of ours or falls back to English.
func TestRegisteredWithFyneLang(t *testing.T) {
	got := lang.X("refusal_title", "?")
	if got != catalog[English]["refusal_title"] && got != catalog[Chinese]["refusal_title"] {
		t.Errorf("lang.X(refusal_title) = %q", got)
	}
}

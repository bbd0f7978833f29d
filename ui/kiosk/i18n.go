package kiosk

import (
	"embed"
	"encoding/json"
	"strings"
	"text/template"

	"fyne.io/fyne/v2/lang"

	"hallq/ui/kiosk/locale"
)

// Language is a language the citizen can choose; its value names the
// translation file (translations/<Language>.json).
type Language string

// The kiosk's languages. Chinese is the default for every new visitor.
const (
	Chinese Language = "zh_Hans"
	English Language = "en"
)

// other is the language shown as the small second line under titles.
func (l Language) other() Language {
	if l == English {
		return Chinese
	}
	return English
}

//go:embed translations/*.json
var translationFS embed.FS

// catalog holds every string per language, read from the same files that are
// registered with fyne/lang.
var catalog = map[Language]map[string]string{
	Chinese: mustLoad(Chinese),
	English: mustLoad(English),
}

func mustLoad(l Language) map[string]string {
	data, err := translationFS.ReadFile("translations/" + string(l) + ".json")
	if err != nil {
		panic(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		panic("kiosk: translations/" + string(l) + ".json: " + err.Error())
	}
	return m
}

func init() {
	locale.Quiet() // for programs that did not import package locale first
	// Registered so lang.L and friends know the kiosk's strings in the
	// system locale too; the screens themselves use tr, which follows the
	// language the citizen picked.
	if err := lang.AddTranslationsFS(translationFS, "translations"); err != nil {
		panic(err)
	}
}

// tr returns the string for key in language l, with the template fields
// ({{.N}}) filled from data. A missing key comes back as the key itself, which
// the tests catch.
func tr(l Language, key string, data map[string]any) string {
	s, ok := catalog[l][key]
	if !ok {
		return key
	}
	if data == nil {
		return s
	}
	t, err := template.New(key).Parse(s)
	if err != nil {
		return s
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return s
	}
	return b.String()
}

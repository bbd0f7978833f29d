package kiosk

import (
	"embed"
	"encoding/json"
	"os"
	"strings"
	"text/template"

	"fyne.io/fyne/v2/lang"
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
	quietCLocale()
	// Registered so lang.L and friends know the kiosk's strings in the
	// system locale too; the screens themselves use tr, which follows the
	// language the citizen picked.
	if err := lang.AddTranslationsFS(translationFS, "translations"); err != nil {
		panic(err)
	}
}

// quietCLocale keeps Fyne from logging "Error parsing user locale C" when
// the kiosk runs under LANG=C.UTF-8 (common on servers and in systemd
// units): Fyne reads the language from the first set of LC_ALL,
// LC_MESSAGES and LANG, and "C.UTF-8" is no language tag; LANGUAGE, which
// it checks first, names one without touching the character set.
// (Fyne's own package init has already logged once by then; the kiosk's
// units set LANG to zh_CN.UTF-8.)
func quietCLocale() {
	for _, env := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(env)
		if v == "" {
			continue
		}
		if (strings.HasPrefix(v, "C.") || strings.HasPrefix(v, "POSIX.")) && os.Getenv("LANGUAGE") == "" {
			os.Setenv("LANGUAGE", "zh_CN")
		}
		return
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

// Package kiosk is the self-service kiosk's touch UI: its screens and its
// theme, for walk-in citizens of a public-security service hall (many of them
// elderly, many not used to computers).
//
// The screens are functions of a narrow port. The kiosk app implements Model
// (it learns of every tap through it) and pushes what to show with
// UI.Show(View), from any goroutine; the UI never decides the flow. A walk-up
// citizen reaches a ticket in at most three taps: a service tile, then the ID
// card on the reader (no tap), then "done".
//
// The screens are laid out for the hall's portrait touch terminal,
// 1080×1920; the tests check that every screen fits it in both languages
// and both text sizes.
//
// The theme (large type, touch targets of at least 96 units, text at 7:1
// contrast or better) embeds Droid Sans Fallback, so Chinese renders the same
// on every machine. A large-text mode (长辈模式) scales all text by 1.3 and
// shows fewer service tiles per page; the app hears of it through
// Model.SetElderly to lengthen its timeouts.
//
// Languages: the strings live in translations/en.json and
// translations/zh_Hans.json. They are registered with fyne.io/fyne/v2/lang,
// but lang follows the system locale and cannot switch at run time, so the
// screens look strings up in the same embedded files by the language the
// citizen chose. The switch is therefore live: the next render uses the new
// language, with no restart. Titles carry the other language in small type.
//
// Staff reach the service screen by tapping the hall name in the header five
// times within three seconds, then entering the admin PIN, which the Model
// checks.
//
// The package imports Fyne's API and widgets only, never fyne.io/fyne/v2/app
// or a driver, so its tests run headless with fyne.io/fyne/v2/test.
package kiosk

package api

import "strings"

// csvText makes a text cell of a CSV export safe to open in a spreadsheet:
// a cell starting with = + - @ (or a tab or carriage return, which some
// programs skip before reading one of those) would be read as a formula —
// a clerk named "=HYPERLINK(…)" must not become a link in the manager's
// spreadsheet — so it gets a leading apostrophe, which spreadsheets show
// as text and do not print. Numbers the server writes itself need no
// treatment; every cell that holds text someone typed does.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Command fynelocale starts Fyne's lang package the way the kiosk does
// (package locale imported first) and prints one translated string; the
// locale test runs it under C locales and reads its standard error.
package main

import (
	"fmt"

	"fyne.io/fyne/v2/lang"

	_ "hallq/ui/kiosk/locale"
)

func main() { fmt.Println(lang.L("OK")) }

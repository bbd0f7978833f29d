// Command fyneplain is fynelocale without package locale: under C.UTF-8
// Fyne logs its locale error, which shows the locale test can see one.
package main

import (
	"fmt"

	"fyne.io/fyne/v2/lang"
)

func main() { fmt.Println(lang.L("OK")) }

package locale

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A program that imports this package before Fyne starts without Fyne's
// "Error parsing user locale" under the C locales servers and systemd units
// use; without the import it logs one (checked, so the test can fail).
func TestFyneStartsQuietUnderCLocales(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with Fyne's lang package")
	}
	bin := t.TempDir() + "/fynelocale"
	build := exec.Command("go", "build", "-o", bin, "./testdata/fynelocale")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, env := range [][]string{{"LANG=C.UTF-8"}, {"LANG=POSIX.UTF-8"}, {"LC_ALL=C.UTF-8", "LANG=zh_CN.UTF-8"}, {"LANG=C"}} {
		cmd := exec.Command(bin)
		cmd.Env = append(cleanEnv(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "Fyne error") {
			t.Errorf("%v: %v\n%s", env, err, out)
		}
	}
	// the same program without the import does log under C.UTF-8: the
	// check above can fail
	plain := t.TempDir() + "/fyneplain"
	if out, err := exec.Command("go", "build", "-o", plain, "./testdata/fyneplain").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(plain)
	cmd.Env = append(cleanEnv(), "LANG=C.UTF-8")
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "Fyne error") {
		t.Errorf("without package locale Fyne was quiet under C.UTF-8 too: %s", out)
	}
}

// cleanEnv is the environment without any locale variable.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES":
			continue
		}
		out = append(out, kv)
	}
	return out
}

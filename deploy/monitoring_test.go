package deploy

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// planned are metric names the alerts and dashboard use before the server
// exports them: kiosk device health (POST /api/v1/devices), to be exported
// as gauges labelled by kiosk. Remove a name once the server exports it.
var planned = []string{}

var metricName = regexp.MustCompile(`hallq_[a-z0-9_]*[a-z0-9]`)

// exported returns every hallq_ metric name spelled as a string literal in
// the server's (non-test) Go source.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	lit := regexp.MustCompile(`"(hallq_[a-z0-9_]+)"`)
	names := map[string]bool{}
	err := filepath.WalkDir(filepath.Join("..", "queue-server"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		for _, m := range lit.FindAllSubmatch(b, -1) {
			names[string(m[1])] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("found only %d metric names in the server source; has the naming changed?", len(names))
	}
	return names
}

// referenced returns the hallq_ metric names in text, histogram series
// (_bucket, _sum, _count) folded into their metric.
func referenced(text string, known map[string]bool) []string {
	var out []string
	for _, n := range metricName.FindAllString(text, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok && known[base] {
				n = base
			}
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestMonitoringMetricNames fails when the alerts, the dashboard, the scrape
// example or the operations guide name a metric the server does not export,
// so renaming a metric breaks this test instead of silencing an alert.
func TestMonitoringMetricNames(t *testing.T) {
	known := exported(t)
	for _, p := range planned {
		if known[p] {
			t.Errorf("%s is exported now: remove it from planned", p)
		}
		known[p] = true
	}
	files := []string{"monitoring/hallq-alerts.yml", "monitoring/grafana-dashboard.json", "monitoring/prometheus.yml", "../docs/operations.md"}
	used := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range referenced(string(b), known) {
			used[n] = true
			if !known[n] {
				t.Errorf("%s uses %s, which the server does not export", f, n)
			}
		}
	}
	dash, _ := os.ReadFile("monitoring/grafana-dashboard.json")
	onDash := referenced(string(dash), known)
	for n := range known {
		if !slices.Contains(onDash, n) {
			t.Errorf("the dashboard does not show %s", n)
		}
	}
}

type alertRule struct {
	name, expr, severity, summary string
}

// parseAlerts reads the rule file's alerts. It understands exactly the
// shape the file is written in (two-space indents, one rule per "- alert:");
// promtool, when installed, checks the full syntax and PromQL.
func parseAlerts(t *testing.T, text string) []alertRule {
	t.Helper()
	var rules []alertRule
	var multiline *string
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if multiline != nil && strings.HasPrefix(line, strings.Repeat(" ", 10)) {
			*multiline += " " + trimmed
			continue
		}
		multiline = nil
		key, value, _ := strings.Cut(trimmed, ":")
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if key == "- alert" {
			rules = append(rules, alertRule{name: value})
			continue
		}
		if len(rules) == 0 || trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		r := &rules[len(rules)-1]
		switch key {
		case "expr":
			r.expr = value
			if value == ">" || value == "|" {
				r.expr, multiline = "", &r.expr
			}
		case "severity":
			r.severity = value
		case "summary":
			r.summary = value
		case "for", "labels", "annotations", "description", "- name", "rules":
		default:
			t.Errorf("hallq-alerts.yml:%d: unexpected key %q", i+1, key)
		}
	}
	return rules
}

func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile("monitoring/hallq-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	rules := parseAlerts(t, string(b))
	if len(rules) < 10 {
		t.Fatalf("parsed %d alerts, want at least 10", len(rules))
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.name] {
			t.Errorf("alert %s defined twice", r.name)
		}
		seen[r.name] = true
		if r.expr == "" || r.summary == "" || (r.severity != "warning" && r.severity != "critical") {
			t.Errorf("alert %s needs expr, summary and severity warning|critical: %+v", r.name, r)
		}
		if !strings.Contains(string(ops), "`"+r.name+"`") {
			t.Errorf("alert %s is not explained in docs/operations.md", r.name)
		}
	}
	for _, want := range []string{"hallq_longest_wait_seconds", "hallq_estimated_wait_seconds", "hallq_outbox_oldest_age_seconds",
		"hallq_forward_dead_letters", "hallq_forward_connected", "node_filesystem_avail_bytes", "hallq_kiosk_online", "hallq_kiosk_printer_ok"} {
		if !slices.ContainsFunc(rules, func(r alertRule) bool { return strings.Contains(r.expr, want) }) {
			t.Errorf("no alert watches %s", want)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus); PromQL not checked")
	}
	for _, args := range [][]string{{"check", "rules", "monitoring/hallq-alerts.yml"}, {"check", "config", "monitoring/prometheus.yml"}} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("monitoring/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string
		Panels []struct {
			Title   string
			Type    string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.UID == "" || len(d.Panels) == 0 {
		t.Fatal("dashboard without uid or panels")
	}
	for _, p := range d.Panels {
		if p.Type != "row" && (len(p.Targets) == 0 || p.Targets[0].Expr == "") {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
}

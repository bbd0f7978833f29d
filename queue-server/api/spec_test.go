package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"hallq/queue-server/api"
	"hallq/queue-server/api/apispec"
)

// specClient is the HTTP client of the contract tests: every exchange is
// validated against the OpenAPI document.
func specClient(t *testing.T) *http.Client { return apispec.Client(t) }

// samples fill a route's path parameters for TestEveryRouteIsInTheSpec.
var samples = map[string][]string{
	"id": {"k8odl0f33e0unt5ov5ngmsr2"}, "window": {"1"}, "first": {"1"},
	"action": {"recall", "start", "complete", "no-show", "requeue", "transfer", "park", "resume", "cancel", "rate", "print-failed"},
	"state":  {"open", "pause", "close"},
}

// Every route the server serves is in the OpenAPI document (with every
// value of its enumerated parameters), and every operation of the
// document is served: a route added without the document fails here.
func TestEveryRouteIsInTheSpec(t *testing.T) {
	doc, _, err := apispec.Load()
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([a-z]+)\}`)
	served := map[string]bool{}
	for _, rt := range api.Routes() {
		method, pattern, _ := strings.Cut(rt, " ")
		paths := []string{pattern}
		for _, m := range param.FindAllStringSubmatch(pattern, -1) {
			vals, ok := samples[m[1]]
			if !ok {
				t.Fatalf("route %s: no sample for {%s}", rt, m[1])
			}
			var next []string
			for _, p := range paths {
				for _, v := range vals {
					next = append(next, strings.Replace(p, m[0], v, 1))
				}
			}
			paths = next
		}
		for _, p := range paths {
			req, _ := http.NewRequest(method, "http://hall"+p, nil)
			route, _, err := apispec.Find(req)
			if err != nil {
				t.Errorf("%s %s (route %s) is not in the OpenAPI document: %v", method, p, rt, err)
				continue
			}
			served[strings.ToUpper(route.Method)+" "+route.Path] = true
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("the OpenAPI document has %s %s, which the server does not serve", method, path)
			}
		}
	}
}

// The document the server serves is the one in the repository.
func TestSpecIsServed(t *testing.T) {
	h := mustContractHall(t)
	st, body := h.do(h.client(""), "GET", "/api/v1/openapi.json", "", "")
	if st != 200 || body != string(api.OpenAPI()) {
		t.Fatalf("GET /api/v1/openapi.json: %d, %d bytes", st, len(body))
	}
}

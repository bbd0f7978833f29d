// Package apispec holds the hall server to its published OpenAPI document
// (queue-server/api/openapi.json) in tests: an HTTP client whose every
// request and response is validated against the document with
// kin-openapi. It is the one home of github.com/getkin/kin-openapi, and
// only tests import it.
//
// A request the document forbids must be refused by the server (4xx); a
// response, refusals included, must match the document exactly (status,
// content type, body schema), so a route or field that drifts from the
// document fails the test that met it.
package apispec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"hallq/queue-server/api"
)

var (
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
)

// Load parses and validates the document once and returns it with its
// router (paths only: any host).
func Load() (*openapi3.T, routers.Router, error) {
	once.Do(func() {
		l := openapi3.NewLoader()
		doc, err = l.LoadFromData(api.OpenAPI())
		if err != nil {
			err = fmt.Errorf("apispec: the OpenAPI document does not parse: %w", err)
			return
		}
		if err = doc.Validate(l.Context); err != nil {
			err = fmt.Errorf("apispec: the OpenAPI document is not valid: %w", err)
			return
		}
		bare := *doc
		bare.Servers = nil // match the path only: tests run on random ports
		router, err = gorillamux.NewRouter(&bare)
	})
	return doc, router, err
}

// Find returns the document's operation for a request.
func Find(r *http.Request) (*routers.Route, map[string]string, error) {
	_, rt, err := Load()
	if err != nil {
		return nil, nil, err
	}
	return rt.FindRoute(r)
}

// Client returns an HTTP client that validates every exchange against the
// document and reports each mismatch with t.Errorf.
func Client(t testing.TB) *http.Client {
	t.Helper()
	if _, _, err := Load(); err != nil {
		t.Fatal(err)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &Transport{T: t, Base: http.DefaultTransport}}
}

// Transport validates each request and its response.
type Transport struct {
	T    testing.TB
	Base http.RoundTripper
}

// RoundTrip sends req through Base and checks both directions.
func (v *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(body))
	route, params, ferr := Find(check)
	resp, err := v.Base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if ferr != nil {
		if resp.StatusCode != http.StatusNotFound {
			v.T.Errorf("apispec: %s %s is served (%d) but not in the OpenAPI document: %v", req.Method, req.URL.Path, resp.StatusCode, ferr)
		}
		return resp, nil
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	reqErr := openapi3filter.ValidateRequest(context.Background(), in)
	rb, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(rb))
	if rerr != nil {
		return resp, nil // the caller meets the same failure
	}
	if reqErr != nil && resp.StatusCode < 400 {
		v.T.Errorf("apispec: %s %s: the server took (%d) a request the document forbids: %v\nbody: %.300s", req.Method, req.URL.Path, resp.StatusCode, reqErr, body)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		return resp, nil
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(rb)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		v.T.Errorf("apispec: %s %s → %d does not match the OpenAPI document: %v\nbody: %.500s", req.Method, pathOf(req.URL), resp.StatusCode, err, rb)
	}
	return resp, nil
}

func pathOf(u *url.URL) string {
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// frameSchemas names the document's schema of each websocket frame type.
var frameSchemas = map[string]string{
	"hello": "HelloFrame", "welcome": "WelcomeFrame", "event": "EventFrame", "services": "ServicesFrame",
	"resync": "ResyncFrame", "request": "RequestFrame", "reply": "ReplyFrame", "error": "ErrorFrame",
}

// ValidateFrame checks one websocket frame (JSON) against its *Frame
// schema in the document.
func ValidateFrame(raw []byte) error {
	d, _, err := Load()
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("apispec: frame is not JSON: %w", err)
	}
	m, _ := v.(map[string]any)
	typ, _ := m["type"].(string)
	name, ok := frameSchemas[typ]
	if !ok {
		return fmt.Errorf("apispec: frame type %q is not in the document", typ)
	}
	if err := d.Components.Schemas[name].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		return fmt.Errorf("apispec: %s frame does not match %s: %w\nframe: %.400s", typ, name, err, raw)
	}
	return nil
}

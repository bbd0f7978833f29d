package api_test

import (
	"net/http"
	"testing"
	"time"
)

// specClient is the HTTP client of the contract tests.
func specClient(t *testing.T) *http.Client {
	return &http.Client{Timeout: 30 * time.Second}
}

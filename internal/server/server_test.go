package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

type panicky struct{}

func (panicky) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("POST /state", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
}

func start(t *testing.T, logs io.Writer) string {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(logs, nil)), Surfaces: []Mounter{panicky{}},
		Ready: func(context.Context) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return "http://" + s.Addr()
}

func TestPanicBecomesJSON500(t *testing.T) {
	var logs bytes.Buffer
	url := start(t, &logs)
	resp, err := http.Get(url + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error struct {
			Code    string
			Details map[string]string
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	rid := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 500 || body.Error.Code != "internal" || rid == "" || body.Error.Details["request_id"] != rid {
		t.Errorf("got %d %+v (request id %q)", resp.StatusCode, body, rid)
	}
	if !strings.Contains(logs.String(), rid) {
		t.Error("the panic's log line lacks the request id")
	}
}

func TestAccessLogHasNoQueryNorHeaders(t *testing.T) {
	var logs bytes.Buffer
	url := start(t, &logs)
	req, _ := http.NewRequest("GET", url+"/healthz?token=lk_prod_secret", nil)
	req.Header.Set("Authorization", "Bearer lk_prod_secret")
	req.Header.Set("Cookie", "latchkey_session=cookie-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(logs.String(), `"path":"/healthz"`) {
		t.Fatalf("status %d, logs %s", resp.StatusCode, logs.String())
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("a secret reached the log: %s", logs.String())
	}
}

func TestCrossOriginStateChangeRefused(t *testing.T) {
	url := start(t, io.Discard)
	req, _ := http.NewRequest("POST", url+"/state", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), `"code":"forbidden"`) {
		t.Errorf("cross-origin POST: %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", url+"/state", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("same-origin POST: %d", resp.StatusCode)
	}
}

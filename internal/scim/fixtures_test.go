package scim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture is a recorded sequence of an identity provider's requests
// (testdata/fixtures/*.json), replayed against both stores.
type fixture struct {
	Description      string `json:"description"`
	CustomAttributes bool   `json:"custom_attributes"`
	Steps            []step `json:"steps"`
}

type step struct {
	Name   string          `json:"name"`
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
	Status int             `json:"status"`
	// Expect is a subset of the answer (see subset); Absent lists
	// top-level attributes the answer must not hold.
	Expect map[string]any `json:"expect"`
	Absent []string       `json:"absent"`
	// Save names values of the answer for later steps: {"user": "id"}.
	Save map[string]string `json:"save"`
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/fixtures/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			for _, file := range files {
				t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
					runFixture(t, newEnv(t, st.open(t)), file)
				})
			}
		})
	}
}

func runFixture(t *testing.T, e *env, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	e.setCustom(f.CustomAttributes)
	vars := map[string]string{"owner": e.ownerID}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "${"+k+"}", v)
		}
		return s
	}
	for i, s := range f.Steps {
		what := fmt.Sprintf("step %d (%s): %s %s", i+1, s.Name, s.Method, expand(s.Path))
		var body any
		if len(s.Body) > 0 {
			body = expand(string(s.Body))
		}
		got := e.do(s.Method, expand(s.Path), body)
		if got.status != s.Status {
			t.Fatalf("%s: status %d, want %d: %s", what, got.status, s.Status, got.raw)
		}
		if s.Expect != nil {
			var want map[string]any
			wb, _ := json.Marshal(s.Expect)
			if err := json.Unmarshal([]byte(expand(string(wb))), &want); err != nil {
				t.Fatal(err)
			}
			if d := subset(got.body, want, "answer"); d != "" {
				t.Fatalf("%s: %s\nanswer: %s", what, d, got.raw)
			}
		}
		for _, a := range s.Absent {
			if _, ok := got.body[a]; ok {
				t.Fatalf("%s: the answer holds %s, want it absent: %s", what, a, got.raw)
			}
		}
		for name, key := range s.Save {
			var v any = got.body
			for _, k := range strings.Split(key, ".") {
				m, _ := v.(map[string]any)
				v = m[k]
			}
			vs, ok := v.(string)
			if !ok {
				t.Fatalf("%s: no %s to save as %s: %s", what, key, name, got.raw)
			}
			vars[name] = vs
		}
	}
}

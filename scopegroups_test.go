package latchkey

import (
	"reflect"
	"testing"
)

func TestScopeGroups(t *testing.T) {
	typ := KeyType{Name: "t", Scopes: []Scope{
		{Name: "items:read", Label: "Read items"},
		{Name: "automated_jobs:write", Label: "Write jobs"},
		{Name: "leaks:report", Label: "Report leaks"},
		{Name: "items:write", Label: "Write items"},
		{Name: "automated_jobs:run", Label: "Run jobs"},
	}}
	type row struct {
		Resource, Label, Read, Write string
		Other                        []string
	}
	var got []row
	for _, g := range typ.ScopeGroups() {
		r := row{Resource: g.Resource, Label: g.Label()}
		if g.Read != nil {
			r.Read = g.Read.Name
		}
		if g.Write != nil {
			r.Write = g.Write.Name
		}
		for _, o := range g.Other {
			r.Other = append(r.Other, o.Name)
		}
		got = append(got, r)
	}
	want := []row{
		{Resource: "items", Label: "Items", Read: "items:read", Write: "items:write"},
		{Resource: "automated_jobs", Label: "Automated jobs", Write: "automated_jobs:write", Other: []string{"automated_jobs:run"}},
		{Resource: "leaks", Label: "Leaks", Other: []string{"leaks:report"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestScopeGroupsCoverEveryScope: grouping the default catalog loses and
// repeats no scope, so a grid built from it offers each scope once.
func TestScopeGroupsCoverEveryScope(t *testing.T) {
	for _, typ := range DefaultCatalog().Types {
		seen := map[string]int{}
		for _, g := range typ.ScopeGroups() {
			for _, s := range []*Scope{g.Read, g.Write} {
				if s != nil {
					seen[s.Name]++
				}
			}
			for _, s := range g.Other {
				seen[s.Name]++
			}
		}
		for _, s := range typ.Scopes {
			if seen[s.Name] != 1 {
				t.Errorf("type %s: scope %s appears %d times in the groups, want 1", typ.Name, s.Name, seen[s.Name])
			}
		}
		if len(seen) != len(typ.Scopes) {
			t.Errorf("type %s: groups hold %d scopes, the type %d", typ.Name, len(seen), len(typ.Scopes))
		}
	}
}

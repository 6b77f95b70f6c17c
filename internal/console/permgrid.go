package console

import (
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

// permRow is one resource of the permission grid: a radio group of access
// levels (None / Read / Read and write) and a checkbox for each other
// action. The radios are named "perm.<resource>" and their values are the
// scopes they grant, so the grid needs no JavaScript and posts scopes.
type permRow struct {
	Resource string
	Label    string
	Levels   []permLevel
	Extras   []permExtra
}

// permLevel is one choice of a row.
type permLevel struct {
	ID, Label, Value string
	// Scopes is what the level grants, for the hint next to it.
	Scopes  string
	Checked bool
}

// permExtra is a scope outside read and write (leaks:report), offered as
// its own checkbox posted as "scope".
type permExtra struct {
	ID      string
	Scope   latchkey.Scope
	Checked bool
}

// permGrid builds the grid of t's scopes with held checked. A resource
// gets the levels its scopes make sense of: Read alone, Write alone, or
// Read and Read and write; "Write only" appears only for a key that holds
// write without read (made through the API), so saving the page does not
// change it silently.
func permGrid(t *latchkey.KeyType, held []string) []permRow {
	if t == nil {
		return nil
	}
	var rows []permRow
	for _, g := range t.ScopeGroups() {
		row := permRow{Resource: g.Resource, Label: g.Label()}
		level := func(name, label string, scopes ...*latchkey.Scope) {
			var names []string
			for _, s := range scopes {
				names = append(names, s.Name)
			}
			row.Levels = append(row.Levels, permLevel{
				ID: "perm-" + g.Resource + "-" + name, Label: label,
				Value: strings.Join(names, " "), Scopes: strings.Join(names, ", "),
			})
		}
		other := g.Other
		switch {
		case g.Read != nil && g.Write != nil:
			level("none", "None")
			level("read", "Read", g.Read)
			if slices.Contains(held, g.Write.Name) && !slices.Contains(held, g.Read.Name) {
				level("write", "Write only", g.Write)
			}
			level("readwrite", "Read and write", g.Read, g.Write)
		case g.Read != nil:
			level("none", "None")
			level("read", "Read", g.Read)
		case g.Write != nil:
			level("none", "None")
			level("write", "Write", g.Write)
		case len(other) == 1:
			// A resource with a single action of its own (leaks:report):
			// None or that action.
			_, action, _ := strings.Cut(other[0].Name, ":")
			level("none", "None")
			level(action, strings.ToUpper(action[:1])+action[1:], &other[0])
			other = nil
		}
		row.checkHeld(held)
		for _, s := range other {
			row.Extras = append(row.Extras, permExtra{ID: "scope-" + s.Name, Scope: s, Checked: slices.Contains(held, s.Name)})
		}
		rows = append(rows, row)
	}
	return rows
}

// checkHeld checks the level granting exactly the held scopes of the
// row's levels; None when it holds none of them.
func (row *permRow) checkHeld(held []string) {
	var mine []string
	for _, l := range row.Levels {
		for _, s := range strings.Fields(l.Value) {
			if slices.Contains(held, s) && !slices.Contains(mine, s) {
				mine = append(mine, s)
			}
		}
	}
	for i, l := range row.Levels {
		want := strings.Fields(l.Value)
		if len(want) == len(mine) && !slices.ContainsFunc(want, func(s string) bool { return !slices.Contains(mine, s) }) {
			row.Levels[i].Checked = true
			return
		}
	}
}

// postedScopes reads the scopes a form grants: the grid's radios
// ("perm.<resource>", whose values are space-separated scopes) and plain
// "scope" fields (the grid's other actions, and the wizard's hidden
// state), de-duplicated in the order posted.
func postedScopes(form map[string][]string) []string {
	var out []string
	add := func(s string) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, v := range form["scope"] {
		add(v)
	}
	var perms []string
	for k := range form {
		if strings.HasPrefix(k, "perm.") {
			perms = append(perms, k)
		}
	}
	slices.Sort(perms)
	for _, k := range perms {
		for _, v := range form[k] {
			for _, s := range strings.Fields(v) {
				add(s)
			}
		}
	}
	return out
}

package latchkey

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// surfaces are the packages whose handlers serve people and identity
// providers; every action of the table must be reachable from one of them.
var surfaces = []string{"internal/api", "internal/console", "internal/scim"}

// unbuilt lists the actions whose feature has no handlers yet, so no
// handler can reach them. The feature's handlers remove them from here:
// the test fails while one is both listed and reached.
var unbuilt = []Action{}

// TestEveryActionIsUsedByAHandler fails when the authorization table holds
// an action no handler can reach: a rule nobody asks is a rule nobody
// tests, and usually a handler that forgot to ask it.
//
// It reads the source: a handler reaches an action when it references the
// constant itself (the console's Can), or when it calls, through its
// service interface (x.svc.Method), a method of internal/manage whose body
// references it, directly or through the functions it calls in manage and
// in this package (AuthorizeKeyCreate). The closure over-approximates
// calls by name, never under-approximates them.
func TestEveryActionIsUsedByAHandler(t *testing.T) {
	names := actionConstants(t)
	root := parseDir(t, ".")
	manage := parseDir(t, "internal/manage")
	graph := map[string]*node{}
	addFuncs(graph, "latchkey", root, names, "")
	addFuncs(graph, "manage", manage, names, "latchkey")

	reached := map[Action][]string{}
	for _, dir := range surfaces {
		calls := 0
		for _, f := range parseDir(t, dir) {
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if isQualified(sel, "latchkey") {
					if a, ok := names[sel.Sel.Name]; ok {
						reached[a] = append(reached[a], dir)
					}
				}
				if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "svc" {
					calls++
					for a := range closure(graph, "manage."+sel.Sel.Name) {
						reached[a] = append(reached[a], dir+" via "+sel.Sel.Name)
					}
				}
				return true
			})
		}
		if calls == 0 {
			t.Errorf("%s: no call through its service (x.svc.Method) found; the test no longer sees its handlers", dir)
		}
	}
	for _, a := range Actions() {
		switch pending := slices.Contains(unbuilt, a); {
		case len(reached[a]) == 0 && !pending:
			t.Errorf("action %s is in the authorization table but no handler of %v reaches it", a, surfaces)
		case len(reached[a]) > 0 && pending:
			t.Errorf("action %s is reached (%s): take it out of unbuilt", a, reached[a][0])
		}
	}
	for a, by := range reached {
		if _, ok := RuleFor(a); !ok {
			t.Errorf("action %s is used (%s) but has no rule in the table", a, by[0])
		}
	}
}

// node is a function or method (by name: receivers are not told apart).
type node struct {
	actions map[Action]bool
	calls   []string
}

// actionConstants maps the names of this package's Action constants to
// their values.
func actionConstants(t *testing.T) map[string]Action {
	t.Helper()
	out := map[string]Action{}
	for _, f := range parseDir(t, ".") {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				v := s.(*ast.ValueSpec)
				if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Action" {
					continue
				}
				for i, n := range v.Names {
					lit, ok := v.Values[i].(*ast.BasicLit)
					if !ok {
						t.Fatalf("action %s is not a string literal", n.Name)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[n.Name] = Action(s)
				}
			}
		}
	}
	if len(out) < len(Actions()) {
		t.Fatalf("found %d action constants, the table has %d rules", len(out), len(Actions()))
	}
	return out
}

// addFuncs adds pkg's functions to graph: the actions each references
// (qualified by qual outside this package) and the names it calls.
func addFuncs(graph map[string]*node, pkg string, files []*ast.File, names map[string]Action, qual string) {
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			key := pkg + "." + fd.Name.Name
			n := graph[key]
			if n == nil {
				n = &node{actions: map[Action]bool{}}
				graph[key] = n
			}
			ast.Inspect(fd.Body, func(x ast.Node) bool {
				switch x := x.(type) {
				case *ast.Ident:
					if a, ok := names[x.Name]; ok && qual == "" {
						n.actions[a] = true
					}
				case *ast.SelectorExpr:
					if a, ok := names[x.Sel.Name]; ok && qual != "" && isQualified(x, qual) {
						n.actions[a] = true
					}
				case *ast.CallExpr:
					switch fn := x.Fun.(type) {
					case *ast.Ident:
						n.calls = append(n.calls, pkg+"."+fn.Name)
					case *ast.SelectorExpr:
						if qual != "" && isQualified(fn, qual) {
							n.calls = append(n.calls, qual+"."+fn.Sel.Name)
						} else {
							n.calls = append(n.calls, pkg+"."+fn.Sel.Name)
						}
					}
				}
				return true
			})
		}
	}
}

// closure returns every action reachable from the function start.
func closure(graph map[string]*node, start string) map[Action]bool {
	out := map[Action]bool{}
	seen := map[string]bool{}
	stack := []string{start}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, ok := graph[k]
		if !ok || seen[k] {
			continue
		}
		seen[k] = true
		for a := range n.actions {
			out[a] = true
		}
		stack = append(stack, n.calls...)
	}
	return out
}

func isQualified(sel *ast.SelectorExpr, pkg string) bool {
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// parseDir parses the non-test Go files of dir.
func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "_test.go") })
	if len(paths) == 0 {
		t.Fatalf("%s: no Go files", dir)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

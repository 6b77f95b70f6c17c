package sqlfilter_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

// dialect spells each dialect-specific expression as a marker, so that the
// tests see where the walk asked for which one and in what argument order.
type dialect struct{}

func (dialect) DocAttr(bind sqlfilter.Bind, name string) string {
	return "doc(" + bind(name) + ")"
}
func (dialect) Contains(bind sqlfilter.Bind, col, s string) string {
	return "co(" + col + ", " + bind(s) + ")"
}
func (dialect) HasPrefix(bind sqlfilter.Bind, col, s string) string {
	return "sw(" + col + ", " + bind(s) + ")"
}
func (dialect) HasSuffix(bind sqlfilter.Bind, col, s string) string {
	return "ew(" + col + ", " + bind(s) + ")"
}

func cmp(attr, op string, v any) latchkey.ScimCompare {
	return latchkey.ScimCompare{Attr: attr, Op: op, Value: v}
}

func TestUsers(t *testing.T) {
	created := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		filter latchkey.ScimFilter
		sql    string
		args   []any
	}{
		{"no filter", nil, "s.workspace_id = ?", []any{"w1"}},
		{"eq column", cmp("userName", "eq", "bob"),
			"s.workspace_id = ? AND COALESCE(s.user_name_lower = ?, FALSE)", []any{"w1", "bob"}},
		{"ne bool", cmp("active", "ne", false),
			"s.workspace_id = ? AND NOT COALESCE(m.active = ?, FALSE)", []any{"w1", false}},
		{"time through the dialect", cmp("meta.created", "ge", created),
			"s.workspace_id = ? AND COALESCE(s.created_at >= ?, FALSE)", []any{"w1", created}},
		{"pr on text", cmp("externalId", "pr", nil),
			"s.workspace_id = ? AND COALESCE(s.external_id <> '', FALSE)", []any{"w1"}},
		{"pr on bool", cmp("active", "pr", nil),
			"s.workspace_id = ? AND (m.active IS NOT NULL)", []any{"w1"}},
		{"co empty string", cmp("userName", "co", ""),
			"s.workspace_id = ? AND (s.user_name_lower IS NOT NULL)", []any{"w1"}},
		{"doc attribute binds its name first", cmp("title", "sw", "eng"),
			"s.workspace_id = ? AND COALESCE(sw(doc(?), ?), FALSE)", []any{"w1", "title", "eng"}},
		{"not of or", latchkey.ScimNot{X: latchkey.ScimLogic{Or: true, Left: cmp("userName", "co", "a"), Right: cmp("id", "ew", "z")}},
			"s.workspace_id = ? AND NOT ((COALESCE(co(s.user_name_lower, ?), FALSE) OR COALESCE(ew(s.user_id, ?), FALSE)))",
			[]any{"w1", "a", "z"}},
		{"emails present", latchkey.ScimValuePath{Attr: "emails"},
			"s.workspace_id = ? AND EXISTS (SELECT 1 FROM scim_emails e WHERE e.workspace_id = s.workspace_id AND e.user_id = s.user_id)",
			[]any{"w1"}},
		{"value path numbering continues", latchkey.ScimLogic{
			Left:  cmp("userName", "eq", "bob"),
			Right: latchkey.ScimValuePath{Attr: "emails", Filter: latchkey.ScimLogic{Left: cmp("type", "eq", "work"), Right: cmp("primary", "eq", true)}},
		}, "s.workspace_id = ? AND (COALESCE(s.user_name_lower = ?, FALSE) AND EXISTS (SELECT 1 FROM scim_emails e " +
			"WHERE e.workspace_id = s.workspace_id AND e.user_id = s.user_id AND (COALESCE(e.type_lower = ?, FALSE) AND COALESCE(e.is_primary = ?, FALSE))))",
			[]any{"w1", "bob", "work", true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, args, err := sqlfilter.Users(dialect{}, latchkey.ScimQuery{WorkspaceID: "w1", Filter: tt.filter})
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if sql != tt.sql {
				t.Errorf("got SQL\n%s\nwant\n%s", sql, tt.sql)
			}
			if !reflect.DeepEqual(args, tt.args) {
				t.Errorf("got args %#v, want %#v", args, tt.args)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	sql, args, err := sqlfilter.Groups(dialect{}, latchkey.ScimQuery{WorkspaceID: "w1", Filter: latchkey.ScimLogic{
		Or:    true,
		Left:  cmp("displayName", "eq", "ops"),
		Right: latchkey.ScimValuePath{Attr: "members", Filter: cmp("value", "eq", "u1")},
	}})
	if err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := "g.workspace_id = ? AND (COALESCE(g.display_name_lower = ?, FALSE) OR " +
		"EXISTS (SELECT 1 FROM scim_group_members gm WHERE gm.group_id = g.id AND COALESCE(gm.user_id = ?, FALSE)))"
	if sql != want {
		t.Errorf("got SQL\n%s\nwant\n%s", sql, want)
	}
	if want := []any{"w1", "ops", "u1"}; !reflect.DeepEqual(args, want) {
		t.Errorf("got args %#v, want %#v", args, want)
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name   string
		groups bool
		filter latchkey.ScimFilter
	}{
		{"unknown attribute", false, cmp("nickname2", "eq", "x")},
		{"user attribute on groups", true, cmp("userName", "eq", "x")},
		{"emails on groups", true, latchkey.ScimValuePath{Attr: "emails"}},
		{"members on users", false, latchkey.ScimValuePath{Attr: "members"}},
		{"unknown sub-attribute", false, latchkey.ScimValuePath{Attr: "emails", Filter: cmp("display", "eq", "x")}},
		{"nested value path", false, latchkey.ScimValuePath{Attr: "emails", Filter: latchkey.ScimValuePath{Attr: "emails"}}},
		{"gt on a boolean", false, cmp("active", "gt", true)},
		{"co on a time", false, cmp("meta.created", "co", time.Now())},
		{"number for a string", false, cmp("userName", "eq", 3)},
		{"unknown operator", false, cmp("userName", "zz", "x")},
		{"error under and", false, latchkey.ScimLogic{Left: cmp("userName", "eq", "x"), Right: cmp("nope", "eq", "x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := latchkey.ScimQuery{WorkspaceID: "w1", Filter: tt.filter}
			translate := sqlfilter.Users
			if tt.groups {
				translate = sqlfilter.Groups
			}
			sql, args, err := translate(dialect{}, q)
			var e *latchkey.Error
			if !errors.As(err, &e) || e.Code != latchkey.EINVALID || e.Details["scim_type"] != "invalidFilter" {
				t.Fatalf("got %q %v error %v, want EINVALID with scim_type invalidFilter", sql, args, err)
			}
			if sql != "" || args != nil {
				t.Errorf("got SQL %q and args %v with the error, want none", sql, args)
			}
		})
	}
}

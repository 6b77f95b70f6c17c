package latchkey

// ScimFilter is a parsed SCIM filter (RFC 7644 §3.4.2.2) whose attribute
// names are resolved against what the stores can search (ScimUserColumns,
// ScimUserDocAttrs, ScimGroupColumns): internal/scim parses, each store
// translates the tree into its own parameterised SQL.
type ScimFilter interface{ scimFilter() }

// ScimLogic is "and" or "or" of two filters.
type ScimLogic struct {
	Or          bool
	Left, Right ScimFilter
}

// ScimNot negates a filter.
type ScimNot struct{ X ScimFilter }

// ScimCompare compares an attribute with a value. Op is one of eq ne co
// sw ew gt ge lt le pr. Value is a string (already lower-cased for a
// ScimFolded attribute), a bool for ScimBool, a time.Time for ScimTime,
// and nil for pr.
type ScimCompare struct {
	Attr  string
	Kind  ScimAttrKind
	Op    string
	Value any
}

// ScimValuePath tests the elements of a multi-valued attribute ("emails" of
// users, "members" of groups): true when one element matches Filter, whose
// comparisons name sub-attributes ("type", "value"). A nil Filter matches
// any element (emails pr).
type ScimValuePath struct {
	Attr   string
	Filter ScimFilter
}

func (ScimLogic) scimFilter()     {}
func (ScimNot) scimFilter()       {}
func (ScimCompare) scimFilter()   {}
func (ScimValuePath) scimFilter() {}

// ScimQuery selects a page of a workspace's SCIM users or groups, in a
// stable order (creation) so that pages do not overlap.
type ScimQuery struct {
	WorkspaceID string
	Filter      ScimFilter // nil: all
	Offset      int        // 0-based
	Limit       int        // 0: count only
	// WithoutMembers skips loading groups' members (excludedAttributes=members).
	WithoutMembers bool
}

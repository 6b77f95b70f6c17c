package latchkey

// RoleAllowsScope reports whether role r grants anything a management key
// scope opens. A key is never more than its creator's role, so a scope the
// creator cannot use is refused at creation rather than sit there unusable.
func RoleAllowsScope(r Role, scope string) bool {
	for _, rule := range table {
		if rule.Scope == scope && rule.grant(r) != No {
			return true
		}
	}
	return false
}

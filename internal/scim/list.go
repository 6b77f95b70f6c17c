package scim

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// Paging: what a list answers when the client names no count, and the most
// it answers (advertised as filter.maxResults).
const (
	defaultCount = 100
	maxResults   = 200
)

// listQuery reads filter, startIndex and count (RFC 7644 §3.4.2).
func (q *request) listQuery(r *resource) (latchkey.ScimQuery, error) {
	v := q.r.URL.Query()
	lq := latchkey.ScimQuery{Offset: 0, Limit: defaultCount}
	if f := v.Get("filter"); strings.TrimSpace(f) != "" {
		n, err := parseFilter(f)
		if err != nil {
			return lq, err
		}
		if lq.Filter, err = resolveFilter(r, n); err != nil {
			return lq, err
		}
	}
	if s := v.Get("startIndex"); s != "" {
		i, err := strconv.Atoi(s)
		if err != nil {
			return lq, invalid("invalidValue", "startIndex must be an integer")
		}
		lq.Offset = max(i, 1) - 1 // below 1 means 1
	}
	if s := v.Get("count"); s != "" {
		c, err := strconv.Atoi(s)
		if err != nil {
			return lq, invalid("invalidValue", "count must be an integer")
		}
		lq.Limit = min(max(c, 0), maxResults) // negative means 0
	}
	lq.WithoutMembers = excludes(v.Get("excludedAttributes"), "members")
	return lq, nil
}

// list answers a ListResponse.
func (q *request) list(lq latchkey.ScimQuery, total int, resources []map[string]any) error {
	for i, res := range resources {
		resources[i] = q.project(res)
	}
	writeJSON(q.w, http.StatusOK, map[string]any{
		"schemas":      []string{listSchema},
		"totalResults": total,
		"itemsPerPage": len(resources),
		"startIndex":   lq.Offset + 1,
		"Resources":    resources,
	})
	return nil
}

// answer writes one resource, narrowed by attributes/excludedAttributes.
func (q *request) answer(status int, res map[string]any) error {
	writeJSON(q.w, status, q.project(res))
	return nil
}

func excludes(list, attr string) bool {
	for _, a := range strings.Split(list, ",") {
		if strings.EqualFold(strings.TrimSpace(a), attr) {
			return true
		}
	}
	return false
}

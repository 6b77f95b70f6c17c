package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// scimRequest stores an open SCIM key request of ws, created at.
func (f *fixture) scimRequest(ws string, at time.Time) *latchkey.ScimKeyRequest {
	f.t.Helper()
	r := &latchkey.ScimKeyRequest{ID: f.ids.New("skr"), WorkspaceID: ws, ContactEmail: "it@example.com",
		Integration: "okta", RequestedBy: "usr_requester", CreatedAt: at}
	wantCode(f.t, "CreateScimKeyRequest", f.s.CreateScimKeyRequest(f.ctx, r, f.event(ws, latchkey.EventScimKeyRequested, r.ID)), "")
	return r
}

func scimKey(k *latchkey.Key) {
	k.Type, k.Scopes, k.Settings = latchkey.TypeSCIM, []string{}, map[string]any{}
}

func requestIDs(list []*latchkey.ScimKeyRequest) []string {
	var ids []string
	for _, r := range list {
		ids = append(ids, r.ID)
	}
	return ids
}

func testScimKeyRequests(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	a1 := f.scimRequest(a.ID, now)
	b1 := f.scimRequest(b.ID, now.Add(time.Minute))
	a2 := f.scimRequest(a.ID, now.Add(2*time.Minute))
	b2 := f.scimRequest(b.ID, now.Add(3*time.Minute))

	t.Run("read", func(t *testing.T) {
		got, err := f.s.ScimKeyRequest(f.ctx, a1.ID)
		wantCode(t, "ScimKeyRequest", err, "")
		wantSame(t, "ScimKeyRequest", got, a1)
		_, err = f.s.ScimKeyRequest(f.ctx, f.ids.New("skr"))
		wantCode(t, "ScimKeyRequest(unknown)", err, latchkey.ENOTFOUND)
		if evs := f.eventsFor(a.ID, a1.ID); !slices.Equal(evs, []string{latchkey.EventScimKeyRequested}) {
			t.Fatalf("events: got %v, want [%s]", evs, latchkey.EventScimKeyRequested)
		}
	})

	t.Run("create errors", func(t *testing.T) {
		tests := []struct {
			name string
			mod  func(r *latchkey.ScimKeyRequest)
			want latchkey.Code
		}{
			{"same id", func(r *latchkey.ScimKeyRequest) { r.ID = a1.ID }, latchkey.ECONFLICT},
			{"unknown workspace", func(r *latchkey.ScimKeyRequest) { r.WorkspaceID = f.ids.New(id.Workspace) }, latchkey.ENOTFOUND},
			{"already issued", func(r *latchkey.ScimKeyRequest) { r.KeyID, r.IssuedAt = "key_x", ptr(now) }, latchkey.EINVALID},
			{"already approved", func(r *latchkey.ScimKeyRequest) { r.ApprovedBy, r.ApprovedAt = "usr_x", ptr(now) }, latchkey.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := &latchkey.ScimKeyRequest{ID: f.ids.New("skr"), WorkspaceID: a.ID, ContactEmail: "x@example.com",
					Integration: "entra", CreatedAt: now}
				tt.mod(r)
				ev := f.event(a.ID, latchkey.EventScimKeyRequested, "failed-request")
				wantCode(t, "CreateScimKeyRequest", f.s.CreateScimKeyRequest(f.ctx, r, ev), tt.want)
				if evs := f.eventsFor(a.ID, "failed-request"); len(evs) != 0 {
					t.Fatalf("events: got %v, want none", evs)
				}
			})
		}
	})

	// issue tries to issue r with a new key adjusted by mod.
	issue := func(r *latchkey.ScimKeyRequest, mods ...func(*latchkey.Key)) (*latchkey.Key, error) {
		k := f.newKey(r.WorkspaceID, "SCIM for "+r.Integration, append([]func(*latchkey.Key){scimKey}, mods...)...)
		return k, f.s.IssueScimKey(f.ctx, r.ID, k, "usr_operator", f.event("", latchkey.EventScimKeyRequestIssue, r.ID))
	}
	// stillOpen checks that a failed issue changed nothing.
	stillOpen := func(t *testing.T, r *latchkey.ScimKeyRequest, k *latchkey.Key) {
		t.Helper()
		got, err := f.s.ScimKeyRequest(f.ctx, r.ID)
		wantCode(t, "ScimKeyRequest", err, "")
		wantSame(t, "request after a failed issue", got, r)
		if _, err := f.s.Key(f.ctx, r.WorkspaceID, k.ID); !latchkey.IsNotFound(err) {
			t.Fatalf("Key of a failed issue: got %v, want ENOTFOUND", err)
		}
		if evs := f.eventsFor(r.WorkspaceID, r.ID); slices.Contains(evs, latchkey.EventScimKeyRequestIssue) {
			t.Fatalf("events: got %v, want no issue recorded", evs)
		}
	}
	approve := func(t *testing.T, r *latchkey.ScimKeyRequest) *latchkey.ScimKeyRequest {
		t.Helper()
		got, err := f.s.ApproveScimKeyRequest(f.ctx, r.ID, "usr_operator", now.Add(time.Minute),
			f.event("", latchkey.EventScimKeyApproved, r.ID))
		wantCode(t, "ApproveScimKeyRequest", err, "")
		return got
	}

	t.Run("approve", func(t *testing.T) {
		k, err := issue(a1)
		wantCode(t, "IssueScimKey before approval", err, latchkey.ECONFLICT)
		stillOpen(t, a1, k)

		got := approve(t, a1)
		want := *a1
		want.ApprovedBy, want.ApprovedAt = "usr_operator", ptr(now.Add(time.Minute))
		wantSame(t, "approved request", got, &want)
		stored, err := f.s.ScimKeyRequest(f.ctx, a1.ID)
		wantCode(t, "ScimKeyRequest", err, "")
		wantSame(t, "stored approved request", stored, &want)
		if got.State() != "approved" || a1.State() != "open" {
			t.Fatalf("states: got %q and %q, want approved and open", got.State(), a1.State())
		}
		if evs := f.eventsFor(a.ID, a1.ID); !slices.Equal(evs, []string{latchkey.EventScimKeyApproved, latchkey.EventScimKeyRequested}) {
			t.Fatalf("events: got %v, want the approval recorded in the request's workspace", evs)
		}
		_, err = f.s.ApproveScimKeyRequest(f.ctx, a1.ID, "usr_other", now.Add(time.Hour), f.event("", latchkey.EventScimKeyApproved, a1.ID))
		wantCode(t, "ApproveScimKeyRequest(again)", err, latchkey.ECONFLICT)
		stored, _ = f.s.ScimKeyRequest(f.ctx, a1.ID)
		wantSame(t, "request after a second approval", stored, &want)
		_, err = f.s.ApproveScimKeyRequest(f.ctx, f.ids.New("skr"), "usr_operator", now, f.event(a.ID, latchkey.EventScimKeyApproved, "x"))
		wantCode(t, "ApproveScimKeyRequest(unknown)", err, latchkey.ENOTFOUND)
		a1 = stored
		a2 = approve(t, a2)
	})

	t.Run("issue failures leave the request open", func(t *testing.T) {
		taken := f.key(a.ID, "existing")
		tests := []struct {
			name string
			mod  func(*latchkey.Key)
			want latchkey.Code
		}{
			{"duplicate hash", func(k *latchkey.Key) { k.Hash = taken.Hash }, latchkey.ECONFLICT},
			{"duplicate id", func(k *latchkey.Key) { k.ID = taken.ID }, latchkey.ECONFLICT},
			{"key of another workspace", func(k *latchkey.Key) { k.WorkspaceID = b.ID }, latchkey.EINVALID},
			{"not a SCIM key", func(k *latchkey.Key) { k.Type = "public_api" }, latchkey.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k, err := issue(a1, tt.mod)
				wantCode(t, "IssueScimKey", err, tt.want)
				if tt.name != "duplicate id" {
					stillOpen(t, a1, k)
				}
				if tt.name == "key of another workspace" {
					if _, err := f.s.Key(f.ctx, b.ID, k.ID); !latchkey.IsNotFound(err) {
						t.Fatalf("Key in B: got %v, want ENOTFOUND", err)
					}
				}
			})
		}
		k := f.newKey(a.ID, "scim", scimKey)
		err := f.s.IssueScimKey(f.ctx, f.ids.New("skr"), k, "usr_operator", f.event(a.ID, latchkey.EventScimKeyRequestIssue, "x"))
		wantCode(t, "IssueScimKey(unknown request)", err, latchkey.ENOTFOUND)
	})

	t.Run("issue", func(t *testing.T) {
		// An empty WorkspaceID takes the request's workspace.
		k, err := issue(a2, func(k *latchkey.Key) { k.WorkspaceID = "" })
		wantCode(t, "IssueScimKey", err, "")
		if k.WorkspaceID != a.ID {
			t.Fatalf("key workspace: got %q, want %s", k.WorkspaceID, a.ID)
		}
		got, err := f.s.ScimKeyRequest(f.ctx, a2.ID)
		wantCode(t, "ScimKeyRequest", err, "")
		want := *a2
		want.KeyID, want.IssuedBy, want.IssuedAt = k.ID, "usr_operator", ptr(k.CreatedAt)
		wantSame(t, "issued request", got, &want)
		stored, err := f.s.Key(f.ctx, a.ID, k.ID)
		wantCode(t, "Key", err, "")
		wantSame(t, "issued key", stored, k)
		want2 := []string{latchkey.EventScimKeyRequestIssue, latchkey.EventScimKeyApproved, latchkey.EventScimKeyRequested}
		if evs := f.eventsFor(a.ID, a2.ID); !slices.Equal(evs, want2) {
			t.Fatalf("events: got %v, want %v", evs, want2)
		}
		again, err := issue(a2)
		wantCode(t, "IssueScimKey(again)", err, latchkey.ECONFLICT)
		if _, err := f.s.Key(f.ctx, a.ID, again.ID); !latchkey.IsNotFound(err) {
			t.Fatalf("Key of a second issue: got %v, want ENOTFOUND", err)
		}
		got, _ = f.s.ScimKeyRequest(f.ctx, a2.ID)
		wantSame(t, "request after a second issue", got, &want)
	})

	t.Run("lists", func(t *testing.T) {
		tests := []struct {
			name string
			ws   string
			open bool
			want []string
		}{
			{"workspace A", a.ID, false, []string{a2.ID, a1.ID}},
			{"workspace A not approved", a.ID, true, nil},
			{"workspace B", b.ID, false, []string{b2.ID, b1.ID}},
			{"all", "", false, []string{b2.ID, a2.ID, b1.ID, a1.ID}},
			{"all not approved", "", true, []string{b2.ID, b1.ID}},
			{"unknown workspace", f.ids.New(id.Workspace), false, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list, err := f.s.ScimKeyRequests(f.ctx, tt.ws, tt.open)
				wantCode(t, "ScimKeyRequests", err, "")
				if got := requestIDs(list); !slices.Equal(got, tt.want) {
					t.Fatalf("ScimKeyRequests: got %v, want %v", got, tt.want)
				}
			})
		}
	})

	t.Run("concurrent issues", func(t *testing.T) {
		r := f.scimRequest(b.ID, now.Add(time.Hour))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = f.s.ApproveScimKeyRequest(f.ctx, r.ID, "usr_operator", now, f.event("", latchkey.EventScimKeyApproved, r.ID))
			})
		}
		wg.Wait()
		approvals := 0
		for _, err := range errs {
			switch latchkey.ErrorCode(err) {
			case "":
				approvals++
			case latchkey.ECONFLICT:
			default:
				t.Fatalf("ApproveScimKeyRequest: got %v, want nil or ECONFLICT", err)
			}
		}
		if evs := f.eventsFor(b.ID, r.ID); approvals != 1 || len(evs) != 2 {
			t.Fatalf("concurrent approvals: got %d successes and events %v, want 1 approval", approvals, evs)
		}
		for i := range errs {
			wg.Go(func() { _, errs[i] = issue(r) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch latchkey.ErrorCode(err) {
			case "":
				ok++
			case latchkey.ECONFLICT:
			default:
				t.Fatalf("IssueScimKey: got %v, want nil or ECONFLICT", err)
			}
		}
		keys, _, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: b.ID, Type: latchkey.TypeSCIM})
		if ok != 1 || err != nil || len(keys) != 1 {
			t.Fatalf("concurrent issues: got %d successes and %d keys (%v), want 1 and 1", ok, len(keys), err)
		}
	})
}

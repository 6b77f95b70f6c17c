package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func testPlatform(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("PlatformKeys", func(t *testing.T) {
		f := newFixture(t, open)
		k := &latchkey.PlatformKey{ID: f.ids.New("pk"), Name: "backend", Product: "acme",
			Scopes: []string{latchkey.ScopeWorkspacesWrite, latchkey.ScopePortalWrite}, MaxRole: latchkey.RoleAdmin,
			Start: "lk_platform_ABCD", Hash: sha256.Sum256([]byte("secret")), CreatedBy: "usr_op", CreatedAt: now}
		if err := f.s.CreatePlatformKey(f.ctx, k, f.event("", "platform_key.created", k.ID)); err != nil {
			t.Fatalf("CreatePlatformKey: got %v", err)
		}
		dup := *k
		dup.ID = f.ids.New("pk")
		wantCode(t, "CreatePlatformKey with a taken hash", f.s.CreatePlatformKey(f.ctx, &dup, f.event("", "platform_key.created", dup.ID)), latchkey.ECONFLICT)
		got, err := f.s.PlatformKeyByHash(f.ctx, k.Hash)
		if err != nil {
			t.Fatalf("PlatformKeyByHash: got %v", err)
		}
		wantSame(t, "PlatformKeyByHash", got, k)
		_, err = f.s.PlatformKeyByHash(f.ctx, sha256.Sum256([]byte("other")))
		wantCode(t, "PlatformKeyByHash of an unknown secret", err, latchkey.ENOTFOUND)

		r, err := f.s.RevokePlatformKey(f.ctx, k.ID, now.Add(latchkey.Day), "usr_op", f.event("", "platform_key.revoked", k.ID))
		if err != nil || r.RevokedAt == nil || !r.RevokedAt.Equal(now.Add(latchkey.Day)) {
			t.Fatalf("RevokePlatformKey: got %+v, %v", r, err)
		}
		r, err = f.s.RevokePlatformKey(f.ctx, k.ID, now.Add(2*latchkey.Day), "usr_other", f.event("", "platform_key.revoked", k.ID))
		if err != nil || !r.RevokedAt.Equal(now.Add(latchkey.Day)) || r.RevokedBy != "usr_op" {
			t.Fatalf("revoking twice: got %+v, %v; want the first revocation kept", r, err)
		}
		if got := f.eventsFor("", k.ID); len(got) != 2 {
			t.Fatalf("platform events of the key: got %v, want created and one revoked", got)
		}
		_, err = f.s.RevokePlatformKey(f.ctx, "pk_none", now, "x", f.event("", "platform_key.revoked", "pk_none"))
		wantCode(t, "RevokePlatformKey of an unknown key", err, latchkey.ENOTFOUND)
		list, err := f.s.PlatformKeys(f.ctx)
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
			t.Fatalf("PlatformKeys: got %v, %v", list, err)
		}
	})

	t.Run("ProvisionIdempotentOnExternalID", func(t *testing.T) {
		f := newFixture(t, open)
		provision := func(product, ext string) (*latchkey.ProvisionedWorkspace, bool, error) {
			ws := &latchkey.Workspace{ID: f.ids.New(id.Workspace), Name: "Customer " + ext, Settings: latchkey.DefaultSettings(), CreatedAt: now}
			return f.s.ProvisionWorkspace(f.ctx, ws, product, ext, "pk_1", f.event(ws.ID, latchkey.EventWorkspaceCreated, ws.ID))
		}
		// Retried signups at once: one workspace.
		var wg sync.WaitGroup
		ids := make([]string, 6)
		created := make([]bool, 6)
		for i := range ids {
			wg.Go(func() {
				w, c, err := provision("acme", "cust-1")
				if err != nil {
					t.Errorf("ProvisionWorkspace %d: got %v", i, err)
					return
				}
				ids[i], created[i] = w.ID, c
			})
		}
		wg.Wait()
		n := 0
		for i := range ids {
			if ids[i] != ids[0] {
				t.Fatalf("ProvisionWorkspace ids: got %v, want one workspace", ids)
			}
			if created[i] {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("created: got %d true, want exactly 1", n)
		}
		// The same external id of another product is another workspace.
		other, c, err := provision("globex", "cust-1")
		if err != nil || !c || other.ID == ids[0] {
			t.Fatalf("another product's cust-1: got %v, %v, %v", other, c, err)
		}
		list, err := f.s.ProvisionedWorkspaces(f.ctx, "acme", "")
		if err != nil || len(list) != 1 || list[0].ExternalID != "cust-1" {
			t.Fatalf("ProvisionedWorkspaces(acme): got %v, %v", list, err)
		}
		list, err = f.s.ProvisionedWorkspaces(f.ctx, "acme", "cust-2")
		if err != nil || len(list) != 0 {
			t.Fatalf("ProvisionedWorkspaces(acme, cust-2): got %v, %v", list, err)
		}
		if p, err := f.s.WorkspaceProduct(f.ctx, other.ID); err != nil || p != "globex" {
			t.Fatalf("WorkspaceProduct: got %q, %v", p, err)
		}
		plain, _ := f.workspace("Operator made", "owner@example.com")
		_, err = f.s.WorkspaceProduct(f.ctx, plain.ID)
		wantCode(t, "WorkspaceProduct of an operator's workspace", err, latchkey.ENOTFOUND)
		ms, err := f.s.Members(f.ctx, ids[0])
		if err != nil || len(ms) != 0 {
			t.Fatalf("members of a provisioned workspace: got %v, %v; want none", ms, err)
		}
	})

	t.Run("PortalMembersAndLinks", func(t *testing.T) {
		f := newFixture(t, open)
		ws := &latchkey.Workspace{ID: f.ids.New(id.Workspace), Name: "Customer", Settings: latchkey.DefaultSettings(), CreatedAt: now}
		if _, _, err := f.s.ProvisionWorkspace(f.ctx, ws, "acme", "c1", "pk_1", f.event(ws.ID, latchkey.EventWorkspaceCreated, ws.ID)); err != nil {
			t.Fatal(err)
		}
		sync := func(ext, email string, role latchkey.Role) (*latchkey.Member, error) {
			u := &latchkey.User{ID: f.ids.New(id.User), Email: email, Name: "P " + ext, CreatedAt: now}
			return f.s.SyncPortalMember(f.ctx, ws.ID, ext, u, role, func(prev *latchkey.Member) (*latchkey.Event, error) {
				ev := f.event(ws.ID, latchkey.EventMemberAdded, u.ID)
				return &ev, nil
			})
		}
		// A claimed account with the same address is neither found nor touched.
		acct := f.user("ann@example.com")
		if err := f.s.CreateUser(f.ctx, acct, nil); err != nil {
			t.Fatal(err)
		}
		m, err := sync("u-1", "ann@example.com", latchkey.RoleOwner)
		if err != nil || m.Role != latchkey.RoleOwner || !m.Active || m.UserID == acct.ID {
			t.Fatalf("SyncPortalMember: got %+v, %v", m, err)
		}
		again, err := sync("u-1", "ann2@example.com", latchkey.RoleOwner)
		if err != nil || again.UserID != m.UserID || again.Email != "ann2@example.com" {
			t.Fatalf("second sync: got %+v, %v; want the same identity with the new email", again, err)
		}
		_, err = sync("u-1", "ann2@example.com", latchkey.RoleAdmin)
		wantCode(t, "demoting the only owner", err, latchkey.ECONFLICT)
		if u, _ := f.s.UserByEmail(f.ctx, "ann2@example.com"); u != nil {
			t.Fatalf("UserByEmail found the portal identity %v: it must never log in by email", u)
		}
		pi, err := f.s.PortalIdentityOf(f.ctx, m.UserID)
		if err != nil || pi.WorkspaceID != ws.ID || pi.ExternalID != "u-1" {
			t.Fatalf("PortalIdentityOf: got %+v, %v", pi, err)
		}
		_, err = f.s.PortalIdentityOf(f.ctx, acct.ID)
		wantCode(t, "PortalIdentityOf an account", err, latchkey.ENOTFOUND)
		// No invitation can be made for a portal identity.
		err = f.s.CreateInvite(f.ctx, &latchkey.Invite{Hash: sha256.Sum256([]byte("inv")), UserID: m.UserID, WorkspaceID: ws.ID, CreatedAt: now, ExpiresAt: now.Add(latchkey.Day)})
		wantCode(t, "CreateInvite for a portal identity", err, latchkey.ECONFLICT)

		bob, err := sync("u-2", "bob@example.com", latchkey.RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		link := &latchkey.PortalToken{Hash: sha256.Sum256([]byte("link")), UserID: bob.UserID, WorkspaceID: ws.ID, KeyID: "pk_1",
			ReturnURL: "https://app.example.com/settings", CreatedAt: now, ExpiresAt: now.Add(5 * 60e9)}
		if err := f.s.CreatePortalToken(f.ctx, link, f.event(ws.ID, "portal.session_created", bob.UserID)); err != nil {
			t.Fatal(err)
		}
		sess := &latchkey.Session{Hash: sha256.Sum256([]byte("s1")), CreatedAt: now, ExpiresAt: now.Add(latchkey.Day)}
		_, err = f.s.RedeemPortalToken(f.ctx, link.Hash, link.ExpiresAt, sess)
		wantCode(t, "redeeming at expiry", err, latchkey.ENOTFOUND)
		got, err := f.s.RedeemPortalToken(f.ctx, link.Hash, now, sess)
		if err != nil || got.UserID != bob.UserID || got.ReturnURL != link.ReturnURL {
			t.Fatalf("RedeemPortalToken: got %+v, %v", got, err)
		}
		if s, err := f.s.Session(f.ctx, sess.Hash, now); err != nil || s.UserID != bob.UserID {
			t.Fatalf("the session opened: got %+v, %v", s, err)
		}
		sess2 := &latchkey.Session{Hash: sha256.Sum256([]byte("s2")), CreatedAt: now, ExpiresAt: now.Add(latchkey.Day)}
		_, err = f.s.RedeemPortalToken(f.ctx, link.Hash, now, sess2)
		wantCode(t, "redeeming twice", err, latchkey.ENOTFOUND)
		if _, err := f.s.Session(f.ctx, sess2.Hash, now); !latchkey.IsNotFound(err) {
			t.Fatalf("second redemption opened a session: %v", err)
		}
		// A link of a member removed since signs nobody in.
		link2 := *link
		link2.Hash = sha256.Sum256([]byte("link2"))
		if err := f.s.CreatePortalToken(f.ctx, &link2, f.event(ws.ID, "portal.session_created", bob.UserID)); err != nil {
			t.Fatal(err)
		}
		if err := f.removeMember(ws.ID, bob.UserID, f.event(ws.ID, latchkey.EventMemberRemoved, bob.UserID)); err != nil {
			t.Fatal(err)
		}
		_, err = f.s.RedeemPortalToken(f.ctx, link2.Hash, now, &latchkey.Session{Hash: sha256.Sum256([]byte("s3")), CreatedAt: now, ExpiresAt: now.Add(latchkey.Day)})
		wantCode(t, "redeeming a removed member's link", err, latchkey.ENOTFOUND)
	})
}

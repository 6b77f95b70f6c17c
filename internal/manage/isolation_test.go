package manage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/verify"
)

// TestIsolationRandomized lets an attacker workspace (its owner, its SCIM
// key, an operator acting for it) perform a few hundred random operations
// aimed at the emails and ids of a victim workspace's people and keys, and
// after every step compares a snapshot of the victim: members and roles,
// keys and their scopes and secrets, which sessions still work, which
// passwords are stored, and the audit log. Nothing may change. Seeded and
// reproducible: LATCHKEY_ISOLATION_SEED=<n> replays a run.
func TestIsolationRandomized(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LATCHKEY_ISOLATION_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	opens := []struct {
		name string
		open func(t *testing.T) latchkey.Store
	}{
		{"sqlite", func(t *testing.T) latchkey.Store {
			db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"postgres", func(t *testing.T) latchkey.Store {
			d := pgtest.New(t)
			db, err := postgres.Open(context.Background(), d.URL(nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
	for _, o := range opens {
		t.Run(o.name, func(t *testing.T) {
			t.Logf("seed %d (LATCHKEY_ISOLATION_SEED=%d replays it)", seed, seed)
			runIsolation(t, o.open(t), seed, 250)
		})
	}
}

const isoPassword = "Victim-Lantern-Orbit-42"

type isoWorld struct {
	t       *testing.T
	ctx     context.Context
	store   latchkey.Store
	svc     *manage.Service
	victim  string // workspace id
	people  []*latchkey.User
	emails  []string
	keyIDs  []string
	tokens  []string // the victims' session tokens
	attack  latchkey.Principal
	attackW string
	scim    latchkey.Principal
	op      latchkey.Principal
	mine    []string // user ids of the attacker's own members
	keys    []string // the attacker's own keys
}

func runIsolation(t *testing.T, store latchkey.Store, seed uint64, steps int) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	format, _ := token.NewFormat("lk")
	v := verify.New(verify.Config{Store: store, Usage: store, Format: format, Now: c.Now})
	svc := manage.New(manage.Config{Store: store, Format: format, Invalidator: v, Now: c.Now})
	w := &isoWorld{t: t, ctx: ctx, store: store, svc: svc}

	// The victim: an owner, an admin and a member who joined, one person
	// invited who has not, one provisioned by the victim's own SCIM key.
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", isoPassword)
	if err != nil {
		t.Fatal(err)
	}
	w.victim = first.Workspace.ID
	owner, _ := svc.Principal(ctx, manage.Caller{User: first.Owner, IP: "192.0.2.1"}, w.victim)
	w.people = append(w.people, first.Owner)
	for _, in := range []manage.AddMember{{Email: "admin@acme.test", Role: latchkey.RoleAdmin}, {Email: "member@acme.test"}} {
		m, tok, err := svc.AddMember(ctx, owner, w.victim, in)
		if err != nil {
			t.Fatal(err)
		}
		u, _, err := svc.AcceptInvite(ctx, tok, isoPassword, nil, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		_ = m
		w.people = append(w.people, u)
	}
	pending, _, err := svc.AddMember(ctx, owner, w.victim, manage.AddMember{Email: "pending@acme.test", Role: latchkey.RoleSuperAdmin})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := store.User(ctx, pending.UserID)
	w.people = append(w.people, pu)
	vk, _, err := svc.CreateKey(ctx, owner, w.victim, manage.CreateKey{Name: "okta", Type: latchkey.TypeSCIM})
	if err != nil {
		t.Fatal(err)
	}
	vscim, _ := svc.ScimPrincipal(vk, "192.0.2.1")
	su, err := svc.CreateScimUser(ctx, vscim, &latchkey.ScimUser{UserName: "scim@acme.test", Email: "scim@acme.test", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	spu, _ := store.User(ctx, su.UserID)
	w.people = append(w.people, spu)
	w.keyIDs = append(w.keyIDs, vk.ID)
	for _, u := range w.people[:3] {
		p, _ := svc.Principal(ctx, manage.Caller{User: u}, w.victim)
		k, _, err := svc.CreateKey(ctx, p, w.victim, manage.CreateKey{Name: "k " + u.Email, Owner: "me", Scopes: []string{"items:read"}})
		if err != nil {
			t.Fatal(err)
		}
		w.keyIDs = append(w.keyIDs, k.ID)
		_, tok, err := svc.Login(ctx, u.Email, isoPassword, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		w.tokens = append(w.tokens, tok)
	}
	mk, _, err := svc.CreateKey(ctx, owner, w.victim, manage.CreateKey{Name: "automation", Type: latchkey.TypeManagement, Scopes: []string{"keys:read", "members:read"}})
	if err != nil {
		t.Fatal(err)
	}
	w.keyIDs = append(w.keyIDs, mk.ID)
	for _, u := range w.people {
		w.emails = append(w.emails, u.Email)
	}
	w.emails = append(w.emails, "Owner@ACME.test", "nobody@acme.test")

	// The attacker: a workspace made by an operator, its owner, its SCIM key.
	opUser, err := svc.CreateOperator(ctx, "support@vendor.test", isoPassword)
	if err != nil {
		t.Fatal(err)
	}
	w.op, _ = svc.Principal(ctx, manage.Caller{User: opUser}, "")
	var nw manage.NewWorkspace
	nw.Name, nw.Owner.Email = "Evil Corp", "mallory@evil.test"
	ew, _, etok, err := svc.CreateWorkspace(ctx, w.op, nw)
	if err != nil {
		t.Fatal(err)
	}
	mallory, _, err := svc.AcceptInvite(ctx, etok, isoPassword, nil, "198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	w.attackW = ew.ID
	w.attack, _ = svc.Principal(ctx, manage.Caller{User: mallory, IP: "198.51.100.1"}, ew.ID)
	ek, _, err := svc.CreateKey(ctx, w.attack, ew.ID, manage.CreateKey{Name: "okta", Type: latchkey.TypeSCIM})
	if err != nil {
		t.Fatal(err)
	}
	w.scim, _ = svc.ScimPrincipal(ek, "198.51.100.1")

	before := w.snapshot()
	rng := rand.New(rand.NewPCG(seed, 0x15014710))
	for step := range steps {
		what := w.attackStep(rng)
		if after := w.snapshot(); after != before {
			t.Fatalf("step %d (%s) changed the victim workspace:\nbefore %s\nafter  %s", step, what, before, after)
		}
	}
	// At the end the victims' passwords still log in, for real.
	for _, u := range w.people[:3] {
		if _, _, err := svc.Login(ctx, u.Email, isoPassword, "192.0.2.9"); err != nil {
			t.Errorf("%s cannot log in after the attack: %v", u.Email, err)
		}
	}
}

// attackStep performs one random operation aimed at the victim and says which.
func (w *isoWorld) attackStep(rng *rand.Rand) string {
	ctx := w.ctx
	email := w.emails[rng.IntN(len(w.emails))]
	person := w.people[rng.IntN(len(w.people))].ID
	key := w.keyIDs[rng.IntN(len(w.keyIDs))]
	roles := latchkey.Roles
	role := roles[rng.IntN(len(roles))]
	pick := func(ids []string) string {
		if len(ids) == 0 {
			return person
		}
		return ids[rng.IntN(len(ids))]
	}
	switch rng.IntN(14) {
	case 0, 1:
		m, tok, err := w.svc.AddMember(ctx, w.attack, w.attackW, manage.AddMember{Email: email, Role: role})
		if err == nil {
			w.mine = append(w.mine, m.UserID)
			if rng.IntN(3) == 0 {
				w.svc.AcceptInvite(ctx, tok, "Mallory-Chosen-Pass-"+strconv.Itoa(rng.IntN(99)), nil, "198.51.100.1")
			} else if rng.IntN(2) == 0 {
				mal, _ := w.store.User(ctx, w.attack.UserID)
				w.svc.AcceptInvite(ctx, tok, "", mal, "198.51.100.1")
			}
		}
		return fmt.Sprintf("add %s as %s", email, role)
	case 2:
		w.svc.UpdateMember(ctx, w.attack, w.attackW, person, role)
		w.svc.UpdateMember(ctx, w.attack, w.victim, person, role)
		return "change the victim's role of " + person
	case 3:
		w.svc.RemoveMember(ctx, w.attack, w.attackW, pick(w.mine))
		w.svc.RemoveMember(ctx, w.attack, w.victim, person)
		return "remove " + person
	case 4:
		w.svc.InviteMember(ctx, w.attack, w.attackW, person)
		w.svc.InviteMember(ctx, w.attack, w.victim, person)
		return "invite link for " + person
	case 5:
		u, err := w.svc.CreateScimUser(ctx, w.scim, &latchkey.ScimUser{UserName: email + strconv.Itoa(rng.IntN(1000)), Email: email, Active: rng.IntN(2) == 0})
		if err == nil {
			w.mine = append(w.mine, u.UserID)
		}
		return "SCIM create " + email
	case 6:
		target := pick(w.mine)
		if rng.IntN(2) == 0 {
			target = person
		}
		w.svc.UpdateScimUser(ctx, w.scim, target, func(u *latchkey.ScimUser) error { u.Active = !u.Active; u.Email = email; return nil })
		return "SCIM patch " + target
	case 7:
		target := pick(w.mine)
		if rng.IntN(2) == 0 {
			target = person
		}
		w.svc.DeleteScimUser(ctx, w.scim, target)
		return "SCIM delete " + target
	case 8:
		w.svc.UpdateKey(ctx, w.attack, w.attackW, key, manage.UpdateKey{Scopes: &[]string{"secrets:read"}})
		w.svc.UpdateKey(ctx, w.attack, w.victim, key, manage.UpdateKey{Scopes: &[]string{"secrets:read"}})
		return "patch key " + key
	case 9:
		w.svc.ResetKey(ctx, w.attack, w.attackW, key, 0)
		w.svc.ResetKey(ctx, w.attack, w.victim, key, 0)
		w.svc.RevokeKey(ctx, w.attack, w.victim, key)
		w.svc.DeleteKey(ctx, w.attack, w.victim, key)
		return "reset, revoke, delete key " + key
	case 10:
		k, _, err := w.svc.CreateKey(ctx, w.attack, w.attackW, manage.CreateKey{Name: "k", Owner: "workspace"})
		if err == nil {
			w.keys = append(w.keys, k.ID)
		}
		w.svc.CreateKey(ctx, w.attack, w.victim, manage.CreateKey{Name: "k", Owner: "workspace"})
		return "create keys"
	case 11:
		var nw manage.NewWorkspace
		nw.Name, nw.Owner.Email = "Fake "+strconv.Itoa(rng.IntN(100)), email
		_, _, tok, err := w.svc.CreateWorkspace(ctx, w.op, nw)
		if err == nil && rng.IntN(2) == 0 {
			w.svc.AcceptInvite(ctx, tok, "Operator-Chosen-Pass-7", nil, "203.0.113.1")
		}
		return "operator creates a workspace owned by " + email
	case 12:
		w.svc.UpdateSettings(ctx, w.attack, w.victim, manage.SettingsPatch{})
		w.svc.Members(ctx, w.attack, w.victim)
		return "read and write the victim's settings"
	default:
		w.svc.ScimUser(ctx, w.scim, person)
		w.svc.InviteMember(ctx, w.scim, w.victim, person)
		return "the attacker's SCIM key reads and invites " + person
	}
}

// snapshot describes everything of the victim an attack could change.
func (w *isoWorld) snapshot() string {
	ctx := w.ctx
	type keyState struct {
		ID, Name, Owner string
		Scopes          []string
		Revoked         bool
		Hash            [32]byte
	}
	var s struct {
		Members  []*latchkey.Member
		Keys     []keyState
		Sessions []bool
		Roles    []latchkey.Role
		Pw       []string
		Events   int
	}
	var err error
	if s.Members, err = w.store.Members(ctx, w.victim); err != nil {
		w.t.Fatal(err)
	}
	keys, _, err := w.store.Keys(ctx, latchkey.KeyFilter{WorkspaceID: w.victim, Limit: 200, Now: w.svc.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, k := range keys {
		s.Keys = append(s.Keys, keyState{k.ID, k.Name, k.Owner, k.Scopes, k.RevokedAt != nil, k.Hash})
	}
	for _, tok := range w.tokens {
		u, err := w.svc.SessionUser(ctx, tok)
		s.Sessions = append(s.Sessions, err == nil)
		if err == nil {
			p, _ := w.svc.Principal(ctx, manage.Caller{User: u}, w.victim)
			s.Roles = append(s.Roles, p.Role)
		}
	}
	for _, u := range w.people {
		got, err := w.store.User(ctx, u.ID)
		if err != nil {
			s.Pw = append(s.Pw, "gone")
			continue
		}
		s.Pw = append(s.Pw, got.Email+" "+got.PasswordHash)
	}
	evs, _, err := w.store.Events(ctx, latchkey.EventFilter{WorkspaceID: w.victim, Limit: 200})
	if err != nil {
		w.t.Fatal(err)
	}
	s.Events = len(evs)
	b, _ := json.Marshal(s)
	return string(b)
}

// Package manage holds the management operations every surface shares (the
// REST API, the console, the CLI, SCIM): it authorizes each call through the
// domain's one table, validates input, issues secrets, records the audit
// event with the change, and invalidates the verify cache before returning.
package manage

import (
	"context"
	"crypto/rand"
	"io"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
)

// Invalidator drops cached verification state. Mutations call it before
// they return, so a revoked key is refused by the next request.
type Invalidator interface {
	InvalidateKey(keyID string)
	InvalidateOwner(workspaceID, userID string)
}

// Config configures a Service.
type Config struct {
	Store   latchkey.Store
	Catalog *latchkey.Catalog
	Format  token.Format
	// Invalidator is told of every change that affects verification; nil
	// when nothing caches (the CLI's offline commands).
	Invalidator Invalidator
	Now         func() time.Time
	Rand        io.Reader
	// SessionTTL is how long a console login lasts.
	SessionTTL time.Duration
	// MaxKeysPerMember caps a member's personal keys, MaxKeysPerWorkspace
	// a workspace's keys (revoked ones count until deleted): zero takes
	// the defaults, a negative value means no cap.
	MaxKeysPerMember, MaxKeysPerWorkspace int
	// Vault seals vault secrets; nil turns vaults off (422).
	Vault Sealer
	// SignIn configures single sign-on and second factors (signin.go).
	SignIn SignInConfig
	// PortalOrigins are the product's origins (https://app.example.com)
	// a portal session's return_url may point to.
	PortalOrigins []string
}

// Service performs management operations on behalf of principals.
type Service struct {
	store    latchkey.Store
	catalog  *latchkey.Catalog
	format   token.Format
	inv      Invalidator
	now      func() time.Time
	rand     io.Reader
	ids      *id.Generator
	ttl      time.Duration
	throttle *throttle
	quota    quota
	vaults   Sealer
	signin   *signin
	portal   portalConfig
}

// New returns a Service; zero Now, Rand and SessionTTL get real defaults.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, catalog: cfg.Catalog, format: cfg.Format, inv: cfg.Invalidator,
		now: cfg.Now, rand: cfg.Rand, ttl: cfg.SessionTTL, vaults: cfg.Vault}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.ttl == 0 {
		s.ttl = 12 * time.Hour
	}
	if s.format.Prefix() == "" {
		s.format, _ = token.NewFormat(token.DefaultPrefix)
	}
	if s.catalog == nil {
		s.catalog = latchkey.DefaultCatalog()
	}
	s.quota = newQuota(cfg.MaxKeysPerMember, cfg.MaxKeysPerWorkspace)
	s.portal = newPortalConfig(cfg.PortalOrigins)
	s.ids = id.NewGenerator(s.now, s.rand)
	s.throttle = newThrottle(s.now)
	s.signin = newSignin(cfg.SignIn)
	return s
}

// Catalog returns the key type catalog in force.
func (s *Service) Catalog() *latchkey.Catalog { return s.catalog }

// Now returns the service's current time, truncated to what stores keep.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// SessionCookie is the name of the session cookie shared by the API and
// the console, so one login serves both.
const SessionCookie = "latchkey_session"

// Caller is who authenticated a request, before a workspace is in view:
// a logged-in user or a management key.
type Caller struct {
	User *latchkey.User
	Key  *latchkey.Key
	IP   string
	// SignIn is how the user's session signed in; it decides which of
	// their workspaces the session reaches (see reaches).
	SignIn *latchkey.SignIn
	// Platform is a platform key: the vendor's backend.
	Platform *latchkey.PlatformKey
}

// Principal resolves c as seen from workspace ws: the user's current role
// there, or for a management key its creator's current role, so demoting the
// creator narrows the key at once.
func (s *Service) Principal(ctx context.Context, c Caller, ws string) (latchkey.Principal, error) {
	p := latchkey.Principal{IP: c.IP}
	switch {
	case c.Platform != nil:
		return s.platformPrincipal(ctx, c, ws)
	case c.Key != nil:
		p.Kind, p.KeyID, p.Name = latchkey.PrincipalKey, c.Key.ID, c.Key.Name
		p.UserID, p.WorkspaceID, p.Scopes = c.Key.CreatedBy, c.Key.WorkspaceID, c.Key.Scopes
		if ws != "" && ws != c.Key.WorkspaceID {
			return p, nil // Authorize answers ENOTFOUND
		}
		ws = c.Key.WorkspaceID
	case c.User != nil && c.User.Operator:
		p.Kind, p.UserID, p.Email = latchkey.PrincipalOperator, c.User.ID, c.User.Email
		p.WorkspaceID = ws
		return p, nil
	case c.User != nil:
		p.Kind, p.UserID, p.Email, p.WorkspaceID = latchkey.PrincipalUser, c.User.ID, c.User.Email, ws
	default:
		return p, nil
	}
	if ws == "" {
		return p, nil
	}
	m, err := s.store.Member(ctx, ws, p.UserID)
	switch {
	case latchkey.IsNotFound(err):
		return p, nil
	case err != nil:
		return p, err
	case m.Active && c.Key == nil:
		ok, err := s.reaches(ctx, c, m)
		if err != nil {
			return p, err
		}
		if ok {
			p.Role = m.Role
		}
	case m.Active:
		p.Role = m.Role
	}
	return p, nil
}

// event starts an audit event by p in ws.
func (s *Service) event(p latchkey.Principal, ws, action, target string, data map[string]any) latchkey.Event {
	return latchkey.Event{
		ID: s.ids.New(id.Event), WorkspaceID: ws, At: s.Now(), Actor: p.Actor(),
		Action: action, Target: target, IP: p.IP, Data: data,
	}
}

func (s *Service) invalidateKey(keyID string) {
	if s.inv != nil {
		s.inv.InvalidateKey(keyID)
	}
}

// workspace loads ws for p, answering ENOTFOUND when p may not see it.
func (s *Service) workspace(ctx context.Context, p latchkey.Principal, ws string, a latchkey.Action) (*latchkey.Workspace, error) {
	if err := latchkey.Authorize(p, a, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	return s.store.Workspace(ctx, ws)
}

// SessionTTL is how long a login lasts.
func (s *Service) SessionTTL() time.Duration { return s.ttl }

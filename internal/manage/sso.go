package manage

import (
	"context"
	"encoding/base32"
	"io"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

// SSOView is a workspace's single sign-on as its owners see it: never the
// client secret, only whether one is set.
type SSOView struct {
	Issuer          string          `json:"issuer"`
	ClientID        string          `json:"client_id"`
	ClientSecretSet bool            `json:"client_secret_set"`
	RequireSSO      bool            `json:"require_sso"`
	JustInTime      bool            `json:"just_in_time"`
	Enabled         bool            `json:"enabled"`
	RedirectURI     string          `json:"redirect_uri"`
	Domains         []SSODomainView `json:"domains"`
}

// SSODomainView is a claimed domain and the DNS record that verifies it.
type SSODomainView struct {
	Domain     string `json:"domain"`
	Verified   bool   `json:"verified"`
	RecordName string `json:"record_name"`
	RecordType string `json:"record_type"`
	RecordText string `json:"record_value"`
}

// SSOInput replaces a workspace's single sign-on. ClientSecret nil or ""
// keeps the secret set before.
type SSOInput struct {
	Issuer       string   `json:"issuer"`
	ClientID     string   `json:"client_id"`
	ClientSecret *string  `json:"client_secret"`
	RequireSSO   bool     `json:"require_sso"`
	JustInTime   bool     `json:"just_in_time"`
	Domains      []string `json:"domains"`
}

func recordText(token string) string { return "latchkey-domain-verification=" + token }

func ssoView(c *latchkey.SSOConfig, redirectURI string) *SSOView {
	v := &SSOView{Issuer: c.Issuer, ClientID: c.ClientID, ClientSecretSet: len(c.SealedSecret) > 0, RequireSSO: c.RequireSSO,
		JustInTime: c.JustInTime, Enabled: c.Enabled(), RedirectURI: redirectURI, Domains: []SSODomainView{}}
	for _, d := range c.Domains {
		v.Domains = append(v.Domains, SSODomainView{Domain: d.Domain, Verified: d.VerifiedAt != nil,
			RecordName: latchkey.ChallengeName(d.Domain), RecordType: "TXT", RecordText: recordText(d.Token)})
	}
	return v
}

// SSO returns a workspace's single sign-on; owners only.
func (s *Service) SSO(ctx context.Context, p latchkey.Principal, ws, redirectURI string) (*SSOView, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActSSORead); err != nil {
		return nil, err
	}
	c, err := s.store.SSOConfig(ctx, ws)
	if latchkey.IsNotFound(err) {
		c, err = &latchkey.SSOConfig{WorkspaceID: ws}, nil
	}
	if err != nil {
		return nil, err
	}
	return ssoView(c, redirectURI), nil
}

// PutSSO replaces a workspace's single sign-on: the provider, the switches
// and the claimed domains (new ones start unverified, missing ones are
// dropped). Requiring SSO needs a complete provider and a verified domain,
// or nobody but owners could sign in.
func (s *Service) PutSSO(ctx context.Context, p latchkey.Principal, ws string, in SSOInput, redirectURI string) (*SSOView, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActSSOWrite); err != nil {
		return nil, err
	}
	in.Issuer, in.ClientID = strings.TrimSpace(in.Issuer), strings.TrimSpace(in.ClientID)
	if in.Issuer != "" || in.ClientID != "" {
		if err := latchkey.ValidIssuer(in.Issuer); err != nil {
			return nil, err
		}
		if in.ClientID == "" || len(in.ClientID) > 255 {
			return nil, latchkey.Errorf(latchkey.EINVALID, "client_id must be 1 to 255 characters").WithDetail("field", "client_id")
		}
	}
	if in.ClientSecret != nil && len(*in.ClientSecret) > 1000 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "client_secret is longer than 1000 characters").WithDetail("field", "client_secret")
	}
	if len(in.Domains) > 50 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "at most 50 domains").WithDetail("field", "domains")
	}
	domains := []string{}
	for _, d := range in.Domains {
		n, err := latchkey.NormalizeDomain(d)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(domains, n) {
			domains = append(domains, n)
		}
	}
	cur, err := s.store.SSOConfig(ctx, ws)
	if latchkey.IsNotFound(err) {
		cur, err = &latchkey.SSOConfig{WorkspaceID: ws}, nil
	}
	if err != nil {
		return nil, err
	}
	for _, d := range cur.Domains {
		if !slices.Contains(domains, d.Domain) {
			if err := s.store.RemoveSSODomain(ctx, ws, d.Domain, s.event(p, ws, latchkey.EventSSODomainRemoved, d.Domain, nil)); err != nil && !latchkey.IsNotFound(err) {
				return nil, err
			}
		}
	}
	for _, d := range domains {
		if slices.ContainsFunc(cur.Domains, func(c latchkey.SSODomain) bool { return c.Domain == d }) {
			continue
		}
		if other, err := s.store.SSOByDomain(ctx, d); err == nil && other.WorkspaceID != ws {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "%s is verified by another workspace", d).WithDetail("field", "domains")
		} else if err != nil && !latchkey.IsNotFound(err) {
			return nil, err
		}
		tok, err := s.randomToken()
		if err != nil {
			return nil, err
		}
		err = s.store.AddSSODomain(ctx, ws, latchkey.SSODomain{Domain: d, Token: tok, CreatedAt: s.Now()},
			s.event(p, ws, latchkey.EventSSODomainAdded, d, map[string]any{"domain": d}))
		if err != nil && latchkey.ErrorCode(err) != latchkey.ECONFLICT {
			return nil, err
		}
	}
	out, err := s.store.UpdateSSOConfig(ctx, ws, func(c *latchkey.SSOConfig) (*latchkey.Event, error) {
		before := *c
		c.Issuer, c.ClientID, c.RequireSSO, c.JustInTime = in.Issuer, in.ClientID, in.RequireSSO, in.JustInTime
		secretChanged := in.ClientSecret != nil && *in.ClientSecret != ""
		if secretChanged {
			c.SealedSecret = s.signin.box.Seal([]byte(*in.ClientSecret), "sso:"+ws)
		}
		if c.Issuer == "" {
			c.SealedSecret = nil
		}
		if c.RequireSSO && (!c.Enabled() || !slices.ContainsFunc(c.Domains, func(d latchkey.SSODomain) bool { return d.VerifiedAt != nil })) {
			return nil, latchkey.Errorf(latchkey.EINVALID, "set up the provider and verify a domain before requiring single sign-on").WithDetail("field", "require_sso")
		}
		var changed []string
		for _, f := range []struct {
			name string
			same bool
		}{
			{"issuer", before.Issuer == c.Issuer}, {"client_id", before.ClientID == c.ClientID},
			{"client_secret", !secretChanged && (len(before.SealedSecret) > 0) == (len(c.SealedSecret) > 0)},
			{"require_sso", before.RequireSSO == c.RequireSSO}, {"just_in_time", before.JustInTime == c.JustInTime},
		} {
			if !f.same {
				changed = append(changed, f.name)
			}
		}
		if len(changed) == 0 {
			return nil, nil
		}
		c.UpdatedAt = s.Now()
		ev := s.event(p, ws, latchkey.EventSSOConfigured, ws, map[string]any{"changed": changed, "issuer": c.Issuer,
			"client_id": c.ClientID, "require_sso": c.RequireSSO, "just_in_time": c.JustInTime})
		return &ev, nil
	})
	if err != nil {
		return nil, err
	}
	s.signin.forget(out.Issuer)
	return ssoView(out, redirectURI), nil
}

// VerifySSODomain looks up the domain's TXT record and, when it holds the
// workspace's token, marks the domain verified. ECONFLICT when another
// workspace verified it first; EINVALID (detail "reason" "record_missing")
// when the record is not there (yet).
func (s *Service) VerifySSODomain(ctx context.Context, p latchkey.Principal, ws, domain, redirectURI string) (*SSOView, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActSSOWrite); err != nil {
		return nil, err
	}
	d, err := latchkey.NormalizeDomain(domain)
	if err != nil {
		return nil, err
	}
	cfg, err := s.store.SSOConfig(ctx, ws)
	if latchkey.IsNotFound(err) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "this workspace does not claim %s", d)
	}
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(cfg.Domains, func(c latchkey.SSODomain) bool { return c.Domain == d })
	if i < 0 {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "this workspace does not claim %s", d)
	}
	if cfg.Domains[i].VerifiedAt != nil {
		return ssoView(cfg, redirectURI), nil
	}
	want := recordText(cfg.Domains[i].Token)
	lctx, cancel := context.WithTimeout(ctx, 5e9)
	records, lerr := s.signin.resolver.LookupTXT(lctx, latchkey.ChallengeName(d))
	cancel()
	if !slices.Contains(records, want) {
		msg := "the TXT record %s was not found with the value shown; DNS changes can take a few minutes"
		e := latchkey.Errorf(latchkey.EINVALID, msg, latchkey.ChallengeName(d)).WithDetail("reason", "record_missing")
		if lerr != nil {
			e = e.WithDetail("lookup", "failed")
		}
		return nil, e
	}
	err = s.store.VerifySSODomain(ctx, ws, d, s.Now(), s.event(p, ws, latchkey.EventSSODomainVerified, d, map[string]any{"domain": d}))
	if err != nil {
		return nil, err
	}
	return s.SSO(ctx, p, ws, redirectURI)
}

func (s *Service) randomToken() (string, error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

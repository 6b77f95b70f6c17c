package manage

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
)

// LeakReport is one token a secret scanner found, in GitHub's
// secret-scanning partner format.
type LeakReport struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// LeakLabel is the answer about one reported token, in GitHub's format.
type LeakLabel struct {
	TokenRaw  string `json:"token_raw"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// Labels of a reported token.
const (
	TruePositive  = "true_positive"  // a secret latchkey issued, of a key that exists
	FalsePositive = "false_positive" // anything else, or another workspace's key for a scanner
)

// MaxLeakReports bounds the tokens of one report: each may cost a store
// lookup and, when real, a write.
const MaxLeakReports = 1000

// Bounds of what a reporter's text may store and mail; longer is cut.
const (
	maxLeakURL    = 2000
	maxLeakSource = 100
	maxLeakType   = 100
)

// ReportLeaksFromGitHub acts on a report from GitHub's secret scanning,
// whose signature the caller has checked: every workspace's keys are in
// its reach, as GitHub finds them in public wherever they are.
func (s *Service) ReportLeaksFromGitHub(ctx context.Context, reports []LeakReport) ([]LeakLabel, error) {
	return s.reportLeaks(ctx, leakReporter{
		actor: latchkey.Actor{Type: latchkey.ActorSystem, ID: latchkey.LeakReporterGitHub, Label: "GitHub secret scanning"},
		id:    latchkey.LeakReporterGitHub,
	}, reports)
}

// ReportLeaks acts on a report from a workspace's own scanner, a
// management key with the leaks:report scope. It reaches the keys of that
// workspace only: another workspace's token is answered as an unknown one
// is, and nothing is done to it.
func (s *Service) ReportLeaks(ctx context.Context, p latchkey.Principal, reports []LeakReport) ([]LeakLabel, error) {
	if p.Kind != latchkey.PrincipalKey && p.Kind != latchkey.PrincipalAnonymous {
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "leaks are reported with a GitHub signature or a management key holding leaks:report")
	}
	if err := latchkey.Authorize(p, latchkey.ActLeaksReport, latchkey.Target{WorkspaceID: p.WorkspaceID}); err != nil {
		return nil, err
	}
	return s.reportLeaks(ctx, leakReporter{actor: p.Actor(), id: p.KeyID, workspace: p.WorkspaceID, ip: p.IP}, reports)
}

type leakReporter struct {
	actor     latchkey.Actor
	id        string // Leak.Reporter
	workspace string // the only workspace in reach; "" for GitHub
	ip        string
}

func (s *Service) reportLeaks(ctx context.Context, r leakReporter, reports []LeakReport) ([]LeakLabel, error) {
	if len(reports) > MaxLeakReports {
		return nil, latchkey.Errorf(latchkey.ETOOLARGE, "a report may hold at most %d tokens", MaxLeakReports)
	}
	out := make([]LeakLabel, 0, len(reports))
	for _, rep := range reports {
		label, err := s.reportLeak(ctx, r, rep)
		if err != nil {
			return nil, err
		}
		out = append(out, LeakLabel{TokenRaw: rep.Token, TokenType: rep.Type, Label: label})
	}
	return out, nil
}

// reportLeak costs at most one lookup and one write: none for a string
// that is not a well-formed token, a lookup for a token of no key, and
// the write once per leaked secret.
func (s *Service) reportLeak(ctx context.Context, r leakReporter, rep LeakReport) (string, error) {
	if _, err := s.format.Parse(rep.Token); err != nil {
		return FalsePositive, nil
	}
	h := token.Hash(rep.Token)
	k, err := s.store.KeyByHash(ctx, h)
	switch {
	case latchkey.IsNotFound(err):
		return FalsePositive, nil
	case err != nil:
		return "", err
	case r.workspace != "" && k.WorkspaceID != r.workspace:
		// Another workspace's key: its scanner neither acts on it nor
		// learns that it exists.
		return FalsePositive, nil
	}
	now := s.Now()
	if !live(k, h, now) {
		return TruePositive, nil // a real secret, which opens nothing any more
	}
	w, err := s.store.Workspace(ctx, k.WorkspaceID)
	if err != nil {
		return "", err
	}
	members, err := s.store.Members(ctx, k.WorkspaceID)
	if err != nil {
		return "", err
	}
	l := latchkey.Leak{Hash: h, WorkspaceID: k.WorkspaceID, KeyID: k.ID, Reporter: r.id, ReportedAt: now,
		TokenType: clip(rep.Type, maxLeakType), URL: clip(rep.URL, maxLeakURL), Source: clip(rep.Source, maxLeakSource),
		Action: latchkey.LeakNotified}
	if w.Settings.OnLeak.Revokes() {
		l.Action = latchkey.LeakRevoked
	}
	revokedBy := r.actor.ID
	events := func(k *latchkey.Key) []latchkey.Event {
		data := map[string]any{"url": l.URL, "source": l.Source, "token_type": l.TokenType,
			"reporter": l.Reporter, "action": l.Action, "name": k.Name}
		evs := []latchkey.Event{s.leakEvent(r, k.WorkspaceID, latchkey.EventKeyLeaked, k.ID, data, now)}
		if l.Action == latchkey.LeakRevoked && k.RevokedAt != nil && k.RevokedAt.Equal(now) && k.RevokedBy == revokedBy {
			evs = append(evs, s.leakEvent(r, k.WorkspaceID, latchkey.EventKeyRevoked, k.ID,
				map[string]any{"name": k.Name, "reason": "leaked"}, now))
		}
		return evs
	}
	mails := func(k *latchkey.Key) []*latchkey.Mail {
		return s.leakMails(w, members, k, l)
	}
	_, recorded, err := s.store.RecordLeak(ctx, l, revokedBy, events, mails)
	switch {
	case latchkey.IsNotFound(err):
		// Deleted or reset between the lookup and the write: the
		// secret no longer opens anything.
		return TruePositive, nil
	case err != nil:
		return "", err
	}
	if recorded && l.Action == latchkey.LeakRevoked {
		s.invalidateKey(k.ID)
	}
	return TruePositive, nil
}

// live reports whether the secret hashing to h still opens k at now.
func live(k *latchkey.Key, h [32]byte, now time.Time) bool {
	switch {
	case k.RevokedAt != nil:
		return false
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return false
	case k.Hash == h:
		return true
	}
	// The previous secret of a reset, within its grace period.
	return k.PreviousExpiresAt != nil && now.Before(*k.PreviousExpiresAt)
}

func (s *Service) leakEvent(r leakReporter, ws, action, target string, data map[string]any, at time.Time) latchkey.Event {
	return latchkey.Event{ID: s.ids.New(id.Event), WorkspaceID: ws, At: at, Actor: r.actor,
		Action: action, Target: target, IP: r.ip, Data: data}
}

// LeakSubject is the subject of the mail about a leaked key. Like the
// expiry notices' it holds no text anyone outside latchkey chose.
const LeakSubject = "latchkey: an API key was found in public"

// leakMails are one mail to each of the workspace's active owners and
// super admins and the key's creator. The reporter's text (URL, source,
// type) and the key's name appear only in the body, quoted with Go's
// escaping so that line breaks and control characters cannot act.
func (s *Service) leakMails(w *latchkey.Workspace, members []*latchkey.Member, k *latchkey.Key, l latchkey.Leak) []*latchkey.Mail {
	var b strings.Builder
	fmt.Fprintf(&b, "The secret of an API key of the workspace %s (%s) was reported found in public.\n\n", strconv.Quote(w.Name), w.ID)
	fmt.Fprintf(&b, "Key:      %s, %s, named %s\n", k.ID, k.Environment, strconv.Quote(k.Name))
	fmt.Fprintf(&b, "Found at: %s\n", strconv.Quote(l.URL))
	fmt.Fprintf(&b, "Source:   %s\n", strconv.Quote(l.Source))
	if l.Reporter == latchkey.LeakReporterGitHub {
		b.WriteString("Reported by GitHub secret scanning.\n\n")
	} else {
		fmt.Fprintf(&b, "Reported by the workspace's scanner key %s.\n\n", l.Reporter)
	}
	if l.Action == latchkey.LeakRevoked {
		b.WriteString("The key has been revoked: requests with it are refused. Create a new key and\n" +
			"replace the old secret wherever it is used, then remove it from where it was found.\n")
	} else {
		b.WriteString("The workspace's policy is to notify only: the key STILL WORKS. Reset or revoke it\n" +
			"now unless you are sure the secret is not usable by others.\n")
		fmt.Fprintf(&b, "Over the API: POST /v1/workspaces/%s/keys/%s/revoke\n", w.ID, k.ID)
	}
	body := b.String()
	var to []string
	for _, m := range members {
		if !m.Active || m.Email == "" {
			continue
		}
		if m.Role == latchkey.RoleOwner || m.Role == latchkey.RoleSuperAdmin || m.UserID == k.CreatedBy {
			if e := strings.ToLower(m.Email); !slices.Contains(to, e) {
				to = append(to, e)
			}
		}
	}
	mails := make([]*latchkey.Mail, 0, len(to))
	for _, addr := range to {
		mails = append(mails, &latchkey.Mail{ID: s.ids.New(id.Mail), WorkspaceID: w.ID, To: addr,
			Subject: LeakSubject, Body: body, CreatedAt: l.ReportedAt})
	}
	return mails
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

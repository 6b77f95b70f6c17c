package manage

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Default key quotas: generous for real use, small enough that one member
// cannot flood a workspace (and its owners' mailboxes) with keys.
const (
	DefaultMaxKeysPerMember    = 100
	DefaultMaxKeysPerWorkspace = 10_000
)

// quota caps how many keys exist; 0 means no cap.
type quota struct {
	perMember, perWorkspace int
}

func newQuota(perMember, perWorkspace int) quota {
	pick := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	return quota{pick(perMember, DefaultMaxKeysPerMember), pick(perWorkspace, DefaultMaxKeysPerWorkspace)}
}

// checkQuota refuses a new key of owner in ws once a cap is reached. Two
// creations at the same instant may both pass the count: the caps bound
// abuse, they are not an exact ledger.
func (s *Service) checkQuota(ctx context.Context, ws, owner string) error {
	if owner != latchkey.OwnerWorkspace && s.quota.perMember > 0 {
		n, err := s.store.CountKeys(ctx, ws, owner)
		if err != nil {
			return err
		}
		if n >= s.quota.perMember {
			return latchkey.Errorf(latchkey.EUNPROCESSABLE, "you have %d personal keys, the most this server allows: delete keys you no longer use", n).
				WithDetail("quota", "keys_per_member").WithDetail("limit", s.quota.perMember)
		}
	}
	if s.quota.perWorkspace > 0 {
		n, err := s.store.CountKeys(ctx, ws, "")
		if err != nil {
			return err
		}
		if n >= s.quota.perWorkspace {
			return latchkey.Errorf(latchkey.EUNPROCESSABLE, "this workspace has %d keys, the most this server allows: delete keys it no longer uses", n).
				WithDetail("quota", "keys_per_workspace").WithDetail("limit", s.quota.perWorkspace)
		}
	}
	return nil
}

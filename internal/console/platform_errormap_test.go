package console_test

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The platform key and portal pages' part of failing (errormap_test.go).

func (f *failing) CreatePlatformKey(context.Context, latchkey.Principal, manage.NewPlatformKey) (*latchkey.PlatformKey, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) PlatformKeys(context.Context, latchkey.Principal) ([]*latchkey.PlatformKey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RevokePlatformKey(context.Context, latchkey.Principal, string) (*latchkey.PlatformKey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RedeemPortalLink(context.Context, string, string) (*manage.PortalEntry, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ReturnURLAllowed(string) bool { return false }

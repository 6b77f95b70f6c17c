package api_test

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The platform key and portal handlers' part of failing (errormap_test.go).

func (f *failing) IsPlatformSecret(string) bool { return false }
func (f *failing) PlatformKeyOf(context.Context, string) (*latchkey.PlatformKey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreatePlatformKey(context.Context, latchkey.Principal, manage.NewPlatformKey) (*latchkey.PlatformKey, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) PlatformKeys(context.Context, latchkey.Principal) ([]*latchkey.PlatformKey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RevokePlatformKey(context.Context, latchkey.Principal, string) (*latchkey.PlatformKey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ProvisionWorkspace(context.Context, latchkey.Principal, manage.NewProvisionedWorkspace) (*latchkey.ProvisionedWorkspace, bool, error) {
	return nil, false, f.fail(f.err)
}
func (f *failing) ProvisionedWorkspaces(context.Context, latchkey.Principal, string) ([]*latchkey.ProvisionedWorkspace, error) {
	return nil, f.fail(f.err)
}
func (f *failing) SyncPortalMember(context.Context, latchkey.Principal, string, latchkey.PortalUser) (*latchkey.Member, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RemovePortalMember(context.Context, latchkey.Principal, string, string) error {
	return f.fail(f.err)
}
func (f *failing) CreatePortalSession(context.Context, latchkey.Principal, manage.PortalSessionRequest) (*manage.PortalLink, error) {
	return nil, f.fail(f.err)
}

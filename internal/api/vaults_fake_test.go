package api_test

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

func (f *failing) CreateVault(context.Context, latchkey.Principal, string, manage.CreateVault) (*latchkey.Vault, error) {
	return nil, f.fail(f.err)
}

func (f *failing) ListVaults(context.Context, latchkey.Principal, string) ([]*latchkey.Vault, error) {
	return nil, f.fail(f.err)
}

func (f *failing) Vault(context.Context, latchkey.Principal, string, string) (*latchkey.Vault, []*latchkey.VaultSecret, error) {
	return nil, nil, f.fail(f.err)
}

func (f *failing) DeleteVault(context.Context, latchkey.Principal, string, string) error {
	return f.fail(f.err)
}

func (f *failing) CreateSecret(context.Context, latchkey.Principal, string, string, manage.CreateSecret) (*latchkey.VaultSecret, error) {
	return nil, f.fail(f.err)
}

func (f *failing) Secret(context.Context, latchkey.Principal, string, string, string) (*latchkey.VaultSecret, error) {
	return nil, f.fail(f.err)
}

func (f *failing) RevealSecret(context.Context, latchkey.Principal, string, string, string, string) (string, error) {
	return "", f.fail(f.err)
}

func (f *failing) DeleteSecret(context.Context, latchkey.Principal, string, string, string) error {
	return f.fail(f.err)
}

func (f *failing) ResetKeyInto(context.Context, latchkey.Principal, string, string, time.Duration, *manage.SaveToVault) (*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}

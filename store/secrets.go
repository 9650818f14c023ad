package store

import (
	"context"
	"errors"
	"fmt"
)

// SecretsBucket is the per-tenant bucket of sealed secrets other than the
// shared secret: the Forge app token and the Organizations API key.
const SecretsBucket = "secrets"

// PutSecret stores a tenant secret sealed with AES-GCM, bound to the
// tenant and to name, so it opens only for that tenant and that use.
func (s *Store) PutSecret(ctx context.Context, clientKey, name string, plaintext []byte) error {
	sealed, err := s.TenantSeal(clientKey, name, plaintext)
	if err != nil {
		return fmt.Errorf("store: seal %s of %q: %w", name, clientKey, err)
	}
	return s.TenantPut(ctx, clientKey, SecretsBucket, []byte(name), sealed)
}

// Secret opens a tenant secret; ok is false when none is stored.
func (s *Store) Secret(ctx context.Context, clientKey, name string) (plaintext []byte, ok bool, err error) {
	sealed, err := s.TenantGet(ctx, clientKey, SecretsBucket, []byte(name))
	if errors.Is(err, ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	plain, err := s.TenantOpen(clientKey, name, sealed)
	if err != nil {
		return nil, false, fmt.Errorf("store: open %s of %q: %w", name, clientKey, err)
	}
	return plain, true, nil
}

// DeleteSecret forgets a tenant secret; an absent one is not an error.
func (s *Store) DeleteSecret(ctx context.Context, clientKey, name string) error {
	return s.TenantDelete(ctx, clientKey, SecretsBucket, []byte(name))
}

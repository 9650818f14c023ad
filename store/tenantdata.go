package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// TenantGet returns a copy of the value at key in the tenant's named bucket,
// or ErrNotFound if the tenant, the bucket or the key is absent.
func (s *Store) TenantGet(ctx context.Context, clientKey, bucket string, key []byte) ([]byte, error) {
	if err := checkDataArgs(clientKey, bucket, key); err != nil {
		return nil, err
	}
	var out []byte
	err := s.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Get(clientKey, bucket, key)
		return err
	})
	return out, err
}

// TenantPut stores value at key in the tenant's named bucket, creating the
// bucket on demand. Only PutTenant creates a tenant: writing for an unknown
// or purged tenant returns ErrNotFound, so a late request cannot resurrect it.
func (s *Store) TenantPut(ctx context.Context, clientKey, bucket string, key, value []byte) error {
	if err := checkDataArgs(clientKey, bucket, key); err != nil {
		return err
	}
	return s.Update(ctx, func(tx Tx) error {
		return tx.Put(clientKey, bucket, key, value)
	})
}

// TenantDelete removes key from the tenant's named bucket. An absent bucket
// or key is not an error; an unknown tenant is ErrNotFound.
func (s *Store) TenantDelete(ctx context.Context, clientKey, bucket string, key []byte) error {
	if err := checkDataArgs(clientKey, bucket, key); err != nil {
		return err
	}
	return s.Update(ctx, func(tx Tx) error {
		return tx.Delete(clientKey, bucket, key)
	})
}

// TenantSeal seals a tenant secret (org keys, app tokens) bound to both the
// tenant and its purpose, so it opens only for that tenant and that use.
func (s *Store) TenantSeal(clientKey, purpose string, plaintext []byte) ([]byte, error) {
	ad, err := tenantPurposeAD(clientKey, purpose)
	if err != nil {
		return nil, err
	}
	return s.sealer.Seal(plaintext, ad)
}

// TenantOpen opens a value sealed by TenantSeal with the same clientKey and
// purpose.
func (s *Store) TenantOpen(clientKey, purpose string, sealed []byte) ([]byte, error) {
	ad, err := tenantPurposeAD(clientKey, purpose)
	if err != nil {
		return nil, err
	}
	return s.sealer.Open(sealed, ad)
}

func tenantPurposeAD(clientKey, purpose string) ([]byte, error) {
	if clientKey == "" || purpose == "" {
		return nil, errors.New("store: tenant seal: client key and purpose must not be empty")
	}
	if strings.IndexByte(clientKey, 0) >= 0 || strings.IndexByte(purpose, 0) >= 0 {
		return nil, errors.New("store: tenant seal: client key and purpose must not contain NUL")
	}
	// A NUL separator (never part of either) and a prefix distinct from the
	// shared secret's "tenant/<clientKey>" keep every context unique, even
	// for client keys that contain "/".
	return []byte("tenant-data\x00" + clientKey + "\x00" + purpose), nil
}

func tenantBucket(tx *bolt.Tx, clientKey string) *bolt.Bucket {
	return tx.Bucket(bucketTenantData).Bucket([]byte(clientKey))
}

func checkDataArgs(clientKey, bucket string, key []byte) error {
	if len(key) == 0 {
		return errors.New("store: tenant data: client key, bucket and key must not be empty")
	}
	return checkBucketArgs(clientKey, bucket)
}

// checkBucketArgs refuses empty names and bucket names with NUL, which the
// store keeps for its own buckets (seqBucket).
func checkBucketArgs(clientKey, bucket string) error {
	if clientKey == "" || bucket == "" {
		return errors.New("store: tenant data: client key and bucket must not be empty")
	}
	if strings.IndexByte(bucket, 0) >= 0 {
		return fmt.Errorf("store: tenant data: bucket name %q contains NUL", bucket)
	}
	return nil
}

package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketChainHeads holds every signed head of every tenant's proof chain,
// outside the tenants' data: purging an uninstalled tenant deletes its
// chain but not these, so the operator cannot rewrite a tenant's history
// without the signed heads disagreeing. Keys are clientKey, NUL, then the
// head's sequence number (8 bytes, big-endian).
var bucketChainHeads = []byte("chain-heads")

func headKey(clientKey string, seq int64) []byte {
	k := append([]byte(clientKey), 0)
	return binary.BigEndian.AppendUint64(k, uint64(seq))
}

// PutChainHead keeps a signed head of a tenant's chain (the caller's JSON).
func (s *Store) PutChainHead(ctx context.Context, clientKey string, seq int64, signed []byte) error {
	if clientKey == "" || seq < 1 || bytes.IndexByte([]byte(clientKey), 0) >= 0 {
		return errors.New("store: chain head: a client key and a sequence number are required")
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChainHeads)
		if b == nil {
			return errors.New("store: chain heads bucket missing")
		}
		if err := b.Put(headKey(clientKey, seq), bytes.Clone(signed)); err != nil {
			return fmt.Errorf("store: chain head of %q: %w", clientKey, dbErr(err))
		}
		return nil
	})
}

// ChainHeads returns a tenant's kept heads in sequence order, also after
// the tenant's data was purged.
func (s *Store) ChainHeads(ctx context.Context, clientKey string) ([][]byte, error) {
	var out [][]byte
	prefix := append([]byte(clientKey), 0)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketChainHeads)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			out = append(out, bytes.Clone(v))
		}
		return nil
	})
	return out, err
}

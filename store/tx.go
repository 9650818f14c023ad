package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// Tx is one atomic unit of work on tenants' data: everything written
// through it is committed together by Update, or not at all.
//
// Data lives in named buckets of byte keys and values, per tenant. A bucket
// exists while it holds at least one key; Put creates it. Only PutTenant
// creates a tenant: every method returns ErrNotFound for an unknown or
// purged tenant, so a late request cannot resurrect one. Client keys,
// bucket names and keys must not be empty, and bucket names must not
// contain NUL.
//
// Values handed to callbacks are valid only during the callback unless
// copied; Get returns a copy. A Tx is not safe for concurrent use, and it
// fails with an error once its function has returned.
type Tx interface {
	// Get returns a copy of the value at key, or ErrNotFound when the
	// tenant, the bucket or the key is absent.
	Get(clientKey, bucket string, key []byte) ([]byte, error)
	// Put stores value (nil stores an empty value) at key, creating the
	// bucket on demand. The value is copied.
	Put(clientKey, bucket string, key, value []byte) error
	// Delete removes key. An absent key or bucket is not an error.
	Delete(clientKey, bucket string, key []byte) error
	// DeleteBucket removes the bucket and all its keys. An absent bucket
	// is not an error. The bucket's NextSeq counter is kept.
	DeleteBucket(clientKey, bucket string) error
	// Each calls fn for every key >= from in key order (from nil: from
	// the first key) until fn returns ErrStop, which ends the walk without
	// error, or another error, which Each returns. An absent bucket is
	// walked as empty. fn may write through the Tx, even to the bucket
	// being walked, including deleting the current key; whether keys it
	// writes ahead of the walk are visited is unspecified.
	Each(clientKey, bucket string, from []byte, fn func(k, v []byte) error) error
	// EachReverse is Each downward, from the last key <= from (from nil:
	// from the last key).
	EachReverse(clientKey, bucket string, from []byte, fn func(k, v []byte) error) error
	// Buckets lists the names of the tenant's buckets that start with
	// prefix (empty: all), sorted.
	Buckets(clientKey, prefix string) ([]string, error)
	// NextSeq returns the next value of the tenant's counter named bucket,
	// starting at 1. The counter is durable with the transaction, never
	// repeats a value during the tenant's life (DeleteBucket keeps it), and
	// does not create the bucket.
	NextSeq(clientKey, bucket string) (uint64, error)
}

// ErrStop ends an Each or EachReverse walk early; the walk then returns nil.
var ErrStop = errors.New("store: stop")

var (
	errReadOnly = errors.New("the transaction is read-only")
	errTxDone   = errors.New("transaction used after its function returned")
)

// seqBucket, inside a tenant's data bucket, maps a bucket name to its
// NextSeq counter (8 bytes, big-endian). Its NUL keeps it apart from every
// bucket name a caller can use.
var seqBucket = []byte("\x00seq")

// Update runs fn in a read-write transaction and commits it if fn returns
// nil. An error from fn (returned unchanged) or a panic rolls back
// everything fn wrote. fn must not call other Store methods: the engine
// allows one writer at a time, and a read inside a write can deadlock.
func (s *Store) Update(ctx context.Context, fn func(Tx) error) error {
	if fn == nil {
		return errors.New("store: update: nil function")
	}
	return s.update(ctx, func(btx *bolt.Tx) error {
		t := &boltTx{tx: btx, writable: true}
		defer t.done.Store(true)
		return fn(t)
	})
}

// View runs fn in a read-only transaction that sees a consistent snapshot.
// Writes through its Tx fail. fn's error is returned unchanged.
func (s *Store) View(ctx context.Context, fn func(Tx) error) error {
	if fn == nil {
		return errors.New("store: view: nil function")
	}
	return s.view(ctx, func(btx *bolt.Tx) error {
		t := &boltTx{tx: btx}
		defer t.done.Store(true)
		return fn(t)
	})
}

type boltTx struct {
	tx       *bolt.Tx
	writable bool
	// done is set when the function the Tx was handed to returns; bbolt
	// frees the transaction's memory right after, so nothing may touch tx.
	done atomic.Bool
	// writes counts writes, so a walk knows when to reposition its cursor.
	writes uint64
}

var _ Tx = (*boltTx)(nil)

func (t *boltTx) Get(clientKey, bucket string, key []byte) ([]byte, error) {
	if err := t.usable(false); err != nil {
		return nil, dataErr("get", clientKey, bucket, key, err)
	}
	if err := checkDataArgs(clientKey, bucket, key); err != nil {
		return nil, err
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return nil, err
	}
	var v []byte
	if b := tb.Bucket([]byte(bucket)); b != nil {
		v = b.Get(key)
	}
	if v == nil {
		return nil, dataErr("get", clientKey, bucket, key, ErrNotFound)
	}
	// bbolt's slice dies with the transaction. Clone keeps an empty value
	// non-nil, distinct from "absent".
	return bytes.Clone(v), nil
}

func (t *boltTx) Put(clientKey, bucket string, key, value []byte) error {
	if err := t.usable(true); err != nil {
		return dataErr("put", clientKey, bucket, key, err)
	}
	if err := checkDataArgs(clientKey, bucket, key); err != nil {
		return err
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return err
	}
	t.writes++
	b, err := tb.CreateBucketIfNotExists([]byte(bucket))
	if err != nil {
		return fmt.Errorf("store: tenant %q create bucket %q: %w", clientKey, bucket, dbErr(err))
	}
	// bbolt keeps a reference to the value until commit, and callers
	// reuse buffers. Clone also turns nil into an empty value.
	value = append([]byte{}, value...)
	if err := b.Put(key, value); err != nil {
		return dataErr("put", clientKey, bucket, key, dbErr(err))
	}
	return nil
}

func (t *boltTx) Delete(clientKey, bucket string, key []byte) error {
	if err := t.usable(true); err != nil {
		return dataErr("delete", clientKey, bucket, key, err)
	}
	if err := checkDataArgs(clientKey, bucket, key); err != nil {
		return err
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return err
	}
	b := tb.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	t.writes++
	if err := b.Delete(key); err != nil {
		return dataErr("delete", clientKey, bucket, key, dbErr(err))
	}
	return nil
}

func (t *boltTx) DeleteBucket(clientKey, bucket string) error {
	if err := t.usable(true); err != nil {
		return bucketErr("delete", clientKey, bucket, err)
	}
	if err := checkBucketArgs(clientKey, bucket); err != nil {
		return err
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return err
	}
	if tb.Bucket([]byte(bucket)) == nil {
		return nil
	}
	t.writes++
	if err := tb.DeleteBucket([]byte(bucket)); err != nil {
		return bucketErr("delete", clientKey, bucket, dbErr(err))
	}
	return nil
}

func (t *boltTx) Each(clientKey, bucket string, from []byte, fn func(k, v []byte) error) error {
	return t.walk(clientKey, bucket, from, false, fn)
}

func (t *boltTx) EachReverse(clientKey, bucket string, from []byte, fn func(k, v []byte) error) error {
	return t.walk(clientKey, bucket, from, true, fn)
}

func (t *boltTx) walk(clientKey, bucket string, from []byte, reverse bool, fn func(k, v []byte) error) error {
	if err := t.usable(false); err != nil {
		return bucketErr("walk", clientKey, bucket, err)
	}
	if err := checkBucketArgs(clientKey, bucket); err != nil {
		return err
	}
	if fn == nil {
		return errors.New("store: tenant data: walk with a nil function")
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return err
	}
	b := tb.Bucket([]byte(bucket))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	var k, v []byte
	switch {
	case from == nil && !reverse:
		k, v = c.First()
	case from == nil:
		k, v = c.Last()
	case !reverse:
		k, v = c.Seek(from)
	default:
		k, v = seekAtOrBefore(c, from)
	}
	var last []byte // a copy of the current key, to reposition after writes
	for k != nil {
		// Data buckets hold no sub-buckets, but a cursor would show one
		// as a nil value; skip it rather than report an empty value.
		if v == nil && b.Bucket(k) != nil {
			k, v = step(c, reverse)
			continue
		}
		last = append(last[:0], k...)
		writes := t.writes
		if err := fn(k, v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		if t.writes == writes {
			k, v = step(c, reverse)
			continue
		}
		// bbolt cursors are undefined after a write: find our place again.
		// fn may even have deleted or replaced the bucket.
		if b = tb.Bucket([]byte(bucket)); b == nil {
			return nil
		}
		c = b.Cursor()
		if reverse {
			k, v = seekAtOrBefore(c, last)
		} else {
			k, v = c.Seek(last)
		}
		if bytes.Equal(k, last) {
			k, v = step(c, reverse)
		}
	}
	return nil
}

func step(c *bolt.Cursor, reverse bool) ([]byte, []byte) {
	if reverse {
		return c.Prev()
	}
	return c.Next()
}

// seekAtOrBefore moves c to the last key <= key.
func seekAtOrBefore(c *bolt.Cursor, key []byte) ([]byte, []byte) {
	k, v := c.Seek(key)
	if k == nil {
		return c.Last()
	}
	if !bytes.Equal(k, key) {
		return c.Prev()
	}
	return k, v
}

func (t *boltTx) Buckets(clientKey, prefix string) ([]string, error) {
	if err := t.usable(false); err != nil {
		return nil, fmt.Errorf("store: tenant %q list buckets: %w", clientKey, err)
	}
	if clientKey == "" {
		return nil, errors.New("store: tenant data: client key must not be empty")
	}
	if strings.IndexByte(prefix, 0) >= 0 {
		return nil, errors.New("store: tenant data: bucket prefix must not contain NUL")
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return nil, err
	}
	var names []string
	c := tb.Cursor()
	for k, v := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
		if v != nil || bytes.IndexByte(k, 0) >= 0 {
			continue // not a bucket, or internal like seqBucket
		}
		// An empty bucket does not exist as far as callers can tell, as
		// in an engine that stores rows rather than buckets.
		if b := tb.Bucket(k); b != nil {
			if first, _ := b.Cursor().First(); first != nil {
				names = append(names, string(k))
			}
		}
	}
	return names, nil // the cursor walked in byte order, which is Go's string order
}

func (t *boltTx) NextSeq(clientKey, bucket string) (uint64, error) {
	if err := t.usable(true); err != nil {
		return 0, bucketErr("next sequence of", clientKey, bucket, err)
	}
	if err := checkBucketArgs(clientKey, bucket); err != nil {
		return 0, err
	}
	tb, err := t.tenant(clientKey)
	if err != nil {
		return 0, err
	}
	t.writes++
	seqs, err := tb.CreateBucketIfNotExists(seqBucket)
	if err != nil {
		return 0, fmt.Errorf("store: tenant %q create counters: %w", clientKey, dbErr(err))
	}
	var n uint64
	if v := seqs.Get([]byte(bucket)); v != nil {
		if len(v) != 8 {
			return 0, bucketErr("next sequence of", clientKey, bucket, fmt.Errorf("corrupt counter of %d bytes", len(v)))
		}
		n = binary.BigEndian.Uint64(v)
	}
	if n == math.MaxUint64 {
		return 0, bucketErr("next sequence of", clientKey, bucket, errors.New("counter exhausted"))
	}
	n++
	if err := seqs.Put([]byte(bucket), binary.BigEndian.AppendUint64(nil, n)); err != nil {
		return 0, bucketErr("next sequence of", clientKey, bucket, dbErr(err))
	}
	return n, nil
}

// usable refuses a finished transaction and, for a write, a read-only one.
func (t *boltTx) usable(write bool) error {
	if t.done.Load() {
		return errTxDone
	}
	if write && !t.writable {
		return errReadOnly
	}
	return nil
}

// tenant returns the tenant's data bucket, or ErrNotFound when the tenant
// is unknown or purged.
func (t *boltTx) tenant(clientKey string) (*bolt.Bucket, error) {
	tb := tenantBucket(t.tx, clientKey)
	if tb == nil {
		return nil, fmt.Errorf("store: tenant %q data: %w", clientKey, ErrNotFound)
	}
	return tb, nil
}

func dataErr(op, clientKey, bucket string, key []byte, err error) error {
	return fmt.Errorf("store: tenant %q %s %s/%x: %w", clientKey, op, bucket, key, err)
}

func bucketErr(op, clientKey, bucket string, err error) error {
	return fmt.Errorf("store: tenant %q %s bucket %q: %w", clientKey, op, bucket, err)
}

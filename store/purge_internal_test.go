package store

import (
	"bytes"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A purged tenant leaves nothing behind but the signed heads of its proof
// chain: no record, no index entry, no bucket, no key or value anywhere
// in the file that names it.
func TestPurgeLeavesOnlyChainHeads(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, testSealer(t))
	ctx := t.Context()
	const ck = "tenant-to-purge-7f3a"
	tn := Tenant{ClientKey: ck, SharedSecret: "s3cret", BaseURL: "https://purge.atlassian.net", Installed: true, InstallationID: "ari:cloud:ecosystem::installation/" + ck}
	if err := s.PutTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx Tx) error {
		for _, b := range []string{"scans", "scan-1", "reviews", "review-items-1", "rescan-pending", "new-seats", "pd-accounts", "chain", "salts", "config"} {
			if err := tx.Put(ck, b, []byte("k-"+ck), []byte("v-"+ck)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ctx, ck, "org-key", []byte("secret-org-key")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChainHead(ctx, ck, 7, []byte(`{"head":"signed"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTenant(ctx, ck, func(t *Tenant) error { t.Installed = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if purged, err := s.PurgeUninstalled(ctx, time.Now().Add(365*24*time.Hour)); err != nil || len(purged) != 1 {
		t.Fatalf("purged %v %v", purged, err)
	}
	heads, err := s.ChainHeads(ctx, ck)
	if err != nil || len(heads) != 1 {
		t.Fatalf("chain heads after the purge: %d %v", len(heads), err)
	}
	found := 0
	err = s.db.View(func(tx *bolt.Tx) error {
		var walk func(path string, b *bolt.Bucket) error
		walk = func(path string, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil { // a nested bucket
					if bytes.Contains(k, []byte(ck)) {
						t.Errorf("bucket %s/%s names the tenant", path, k)
					}
					return walk(path+"/"+string(k), b.Bucket(k))
				}
				if bytes.Contains(k, []byte(ck)) || bytes.Contains(v, []byte(ck)) || bytes.Contains(v, []byte("s3cret")) {
					if strings.HasPrefix(path, "/"+string(bucketChainHeads)) {
						found++
						return nil
					}
					t.Errorf("%s/%s still names the tenant", path, k)
				}
				return nil
			})
		}
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walk("/"+string(name), b) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("the walk did not find the chain heads it keeps: it proves nothing")
	}
}

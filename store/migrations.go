package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// migrations is the schema history. Append only: never edit, reorder or
// remove a step that has shipped, because databases record steps by name
// and refuse to open when the history diverges.
var migrations = []migration{
	{name: "0001_initial_buckets", up: migrateInitialBuckets},
	{name: "0002_installations_index", up: migrateInstallationsIndex},
	{name: "0003_chain_heads", up: migrateChainHeads},
}

// migrateChainHeads adds the bucket of signed chain heads, kept apart
// from the tenants' data so that purging a tenant leaves them.
func migrateChainHeads(tx *bolt.Tx, _ time.Time) error {
	if _, err := tx.CreateBucketIfNotExists([]byte("chain-heads")); err != nil {
		return fmt.Errorf("create bucket chain-heads: %w", dbErr(err))
	}
	return nil
}

// Bucket names are spelled out in migrations instead of using the package
// variables, so that renaming a live bucket cannot change what an old step
// does.

func migrateInitialBuckets(tx *bolt.Tx, _ time.Time) error {
	for _, name := range []string{"meta", "tenants", "t"} {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, dbErr(err))
		}
	}
	return nil
}

// migrateInstallationsIndex builds the installationId → clientKey index that
// Forge lookups need from the tenant records of databases that predate it.
func migrateInstallationsIndex(tx *bolt.Tx, _ time.Time) error {
	// The tenant record as it was when this step was written, frozen so
	// that later changes to the live record cannot break this step.
	type tenantV1 struct {
		V              int       `json:"v"`
		InstallationID string    `json:"installationId"`
		UpdatedAt      time.Time `json:"updatedAt"`
	}
	type owner struct {
		clientKey string
		updatedAt time.Time
	}

	index, err := tx.CreateBucketIfNotExists([]byte("installations"))
	if err != nil {
		return fmt.Errorf("create bucket installations: %w", dbErr(err))
	}
	tenants := tx.Bucket([]byte("tenants"))
	if tenants == nil {
		return errors.New("bucket tenants missing")
	}

	owners := map[string]owner{}
	err = tenants.ForEach(func(k, v []byte) error {
		var rec tenantV1
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode tenant %q: %w", k, err)
		}
		if rec.V != 1 {
			return fmt.Errorf("tenant %q: record version %d, want 1", k, rec.V)
		}
		if rec.InstallationID == "" {
			return nil
		}
		// Two records can claim one id when Atlassian reissued it; the
		// most recently updated record is the live installation, as it
		// would be had the index existed all along.
		cur, taken := owners[rec.InstallationID]
		if !taken || rec.UpdatedAt.After(cur.updatedAt) {
			owners[rec.InstallationID] = owner{clientKey: string(k), updatedAt: rec.UpdatedAt}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, o := range owners {
		if err := index.Put([]byte(id), []byte(o.clientKey)); err != nil {
			return fmt.Errorf("index installation %q: %w", id, dbErr(err))
		}
	}
	return nil
}

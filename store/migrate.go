package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// migration is one schema step. up must be deterministic given the
// database contents and must not use the live types of this package, which
// move on while a migration has to keep working on old data forever.
type migration struct {
	name string
	up   func(tx *bolt.Tx, now time.Time) error
}

// migrationRecord is what meta remembers about an applied step.
type migrationRecord struct {
	Name       string    `json:"name"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
}

// schemaKey is meta's key for the step with 1-based number n; big-endian so
// that bbolt's byte order is numeric order.
func schemaKey(n int) []byte {
	k := make([]byte, len(metaSchemaPrefix)+8)
	copy(k, metaSchemaPrefix)
	binary.BigEndian.PutUint64(k[len(metaSchemaPrefix):], uint64(n))
	return k
}

// appliedMigrations lists the names recorded in meta, in order.
func appliedMigrations(tx *bolt.Tx) ([]string, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return nil, nil
	}
	var names []string
	c := meta.Cursor()
	for k, v := c.Seek(metaSchemaPrefix); k != nil && bytes.HasPrefix(k, metaSchemaPrefix); k, v = c.Next() {
		want := schemaKey(len(names) + 1)
		if !bytes.Equal(k, want) {
			return nil, fmt.Errorf("store: schema history is corrupt: expected entry %d, found key %x", len(names)+1, k)
		}
		var rec migrationRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return nil, fmt.Errorf("store: schema history entry %d: %w", len(names)+1, err)
		}
		names = append(names, rec.Name)
	}
	return names, nil
}

// checkApplied refuses a database whose history is not a prefix of known:
// running against a newer or diverged schema would corrupt it.
func checkApplied(applied []string, known []migration) error {
	if len(applied) > len(known) {
		return fmt.Errorf("store: database schema is newer than this binary: it has %d migrations (last %q), this binary knows %d (last %q); run a newer seatlens",
			len(applied), applied[len(applied)-1], len(known), lastName(known))
	}
	for i, name := range applied {
		if name != known[i].name {
			return fmt.Errorf("store: schema history mismatch at migration %d: database has %q, this binary has %q", i+1, name, known[i].name)
		}
	}
	return nil
}

func lastName(ms []migration) string {
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1].name
}

// migrate applies the pending steps of ms, each in its own write transaction
// together with its history entry, so a crash leaves either all or none of a
// step behind.
func migrate(ctx context.Context, db *bolt.DB, ms []migration, now func() time.Time) error {
	var applied []string
	err := view(ctx, db, func(tx *bolt.Tx) error {
		var err error
		applied, err = appliedMigrations(tx)
		return err
	})
	if err != nil {
		return err
	}
	if err := checkApplied(applied, ms); err != nil {
		return err
	}
	for n := len(applied) + 1; n <= len(ms); n++ {
		m := ms[n-1]
		err := update(ctx, db, func(tx *bolt.Tx) error {
			started := now()
			if err := m.up(tx, started); err != nil {
				return fmt.Errorf("store: migration %s: %w", m.name, err)
			}
			meta := tx.Bucket(bucketMeta)
			if meta == nil {
				return fmt.Errorf("store: migration %s: meta bucket missing afterwards", m.name)
			}
			v, err := json.Marshal(migrationRecord{Name: m.name, StartedAt: started, FinishedAt: now()})
			if err != nil {
				return fmt.Errorf("store: migration %s: encode record: %w", m.name, err)
			}
			if err := meta.Put(schemaKey(n), v); err != nil {
				return fmt.Errorf("store: migration %s: record: %w", m.name, dbErr(err))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the number of migrations applied to the database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var n int
	err := s.view(ctx, func(tx *bolt.Tx) error {
		applied, err := appliedMigrations(tx)
		n = len(applied)
		return err
	})
	return n, err
}

package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// These tests live inside the package because they drive the migration
// machinery step by step and write records in old shapes with raw bbolt.

var testEpoch = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testEpoch }

func testSealer(t *testing.T) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func openBolt(t *testing.T, dir string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, DBFileName), fileMode, &bolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func openStore(t *testing.T, dir string, sealer *Sealer) *Store {
	t.Helper()
	s, err := Open(t.Context(), Options{Dir: dir, Sealer: sealer, NoSync: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// dump returns every key/value of a top-level bucket.
func dump(t *testing.T, db *bolt.DB, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			return fmt.Errorf("no bucket %s", bucket)
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestMigrationInstallationsIndex(t *testing.T) {
	dir := t.TempDir()
	sealer := testSealer(t)

	// A database as a binary that knew only migration 1 left it.
	db := openBolt(t, dir)
	if err := migrate(t.Context(), db, migrations[:1], fixedNow); err != nil {
		t.Fatal(err)
	}
	err := db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("installations")) != nil {
			return errors.New("migration 1 already created the index")
		}
		tenants := tx.Bucket([]byte("tenants"))
		data := tx.Bucket([]byte("t"))
		for _, r := range []struct {
			clientKey, installationID string
			updated                   time.Time
		}{
			{"ck-connect", "", testEpoch}, // Connect only: no installation id
			{"ck-forge-1", "inst-1", testEpoch},
			{"ck-forge-2", "inst-2", testEpoch},
			// inst-3 was reissued: the later record owns it.
			{"ck-stale", "inst-3", testEpoch},
			{"ck-current", "inst-3", testEpoch.Add(time.Second)},
		} {
			sealed, err := sealer.Seal([]byte("secret-"+r.clientKey), secretAD(r.clientKey))
			if err != nil {
				return err
			}
			// The v1 record exactly as the original code wrote it.
			raw := fmt.Sprintf(`{"v":1,"clientKey":%q,"appKey":"com.seatlens.app","baseUrl":"https://%s.atlassian.net",`+
				`"installationId":%q,"sharedSecretSealed":%q,"installed":true,"enabled":true,`+
				`"installedAt":"2024-01-01T00:00:00Z","updatedAt":%q}`,
				r.clientKey, r.clientKey, r.installationID, base64.StdEncoding.EncodeToString(sealed), r.updated.Format(time.RFC3339Nano))
			if err := tenants.Put([]byte(r.clientKey), []byte(raw)); err != nil {
				return err
			}
			if _, err := data.CreateBucket([]byte(r.clientKey)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := dump(t, db, "tenants")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening with the current binary runs the rest.
	s := openStore(t, dir, sealer)
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != len(migrations) {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	for id, want := range map[string]string{"inst-1": "ck-forge-1", "inst-2": "ck-forge-2", "inst-3": "ck-current"} {
		got, err := s.TenantByInstallation(t.Context(), id)
		if err != nil {
			t.Fatalf("TenantByInstallation(%s): %v", id, err)
		}
		if got.ClientKey != want || got.SharedSecret != "secret-"+want {
			t.Errorf("TenantByInstallation(%s) = %s / %q, want %s", id, got.ClientKey, got.SharedSecret, want)
		}
	}
	index := dump(t, s.db, "installations")
	if len(index) != 3 {
		t.Errorf("index = %v, want 3 entries", index)
	}
	if after := dump(t, s.db, "tenants"); !mapsEqual(before, after) {
		t.Errorf("migration changed tenant records:\nbefore %v\nafter  %v", before, after)
	}
	meta := dump(t, s.db, "meta")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again is a no-op: same history, same index, same records.
	s = openStore(t, dir, sealer)
	if got := dump(t, s.db, "meta"); !mapsEqual(meta, got) {
		t.Error("second Open changed meta")
	}
	if got := dump(t, s.db, "installations"); !mapsEqual(index, got) {
		t.Error("second Open changed the index")
	}
	if got := dump(t, s.db, "tenants"); !mapsEqual(before, got) {
		t.Error("second Open changed tenant records")
	}
}

func TestMigrationHistoryRecords(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, testSealer(t))
	meta := dump(t, s.db, "meta")
	for i, m := range migrations {
		raw, ok := meta[string(schemaKey(i+1))]
		if !ok {
			t.Fatalf("no history entry for %s", m.name)
		}
		var rec migrationRecord
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Name != m.name || !rec.StartedAt.Equal(testEpoch) || !rec.FinishedAt.Equal(testEpoch) {
			t.Errorf("entry %d = %+v", i+1, rec)
		}
	}
	if k := schemaKey(1); !bytes.Equal(k, append([]byte("schema/"), 0, 0, 0, 0, 0, 0, 0, 1)) {
		t.Errorf("schemaKey(1) = %q", k)
	}
	if _, ok := meta["sealcheck"]; !ok {
		t.Error("no sealcheck")
	}
	if meta["sealfp"] != s.sealer.Fingerprint() {
		t.Errorf("sealfp = %q, want %q", meta["sealfp"], s.sealer.Fingerprint())
	}
}

func TestMigrateRefusesDivergedHistory(t *testing.T) {
	dir := t.TempDir()
	db := openBolt(t, dir)
	renamed := []migration{migrations[0], {name: "0002_something_else", up: func(*bolt.Tx, time.Time) error { return nil }}}
	if err := migrate(t.Context(), db, renamed, fixedNow); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	_, err := Open(t.Context(), Options{Dir: dir, Sealer: testSealer(t), NoSync: true})
	if err == nil {
		t.Fatal("Open accepted a diverged history")
	}
	for _, name := range []string{"0002_something_else", "0002_installations_index"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	sealer := testSealer(t)
	newer := append(append([]migration{}, migrations...), migration{
		name: "0003_from_the_future",
		up:   func(*bolt.Tx, time.Time) error { return nil },
	})
	db := openBolt(t, dir)
	if err := migrate(t.Context(), db, newer, fixedNow); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return checkSealKey(tx, sealer, true) }); err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if err := db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&backup); return err }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	_, err := Open(t.Context(), Options{Dir: dir, Sealer: sealer, NoSync: true})
	if err == nil || !strings.Contains(err.Error(), "0003_from_the_future") || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v", err)
	}

	restoreDir := t.TempDir()
	err = Restore(t.Context(), restoreDir, &backup, sealer)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Restore of a newer schema: %v", err)
	}
}

func TestMigrationFailureIsAtomic(t *testing.T) {
	dir := t.TempDir()
	db := openBolt(t, dir)
	defer db.Close()
	boom := errors.New("boom")
	failing := []migration{migrations[0], {name: "0002_fails", up: func(tx *bolt.Tx, _ time.Time) error {
		if _, err := tx.CreateBucket([]byte("half-done")); err != nil {
			return err
		}
		return boom
	}}}
	if err := migrate(t.Context(), db, failing, fixedNow); !errors.Is(err, boom) {
		t.Fatalf("migrate = %v, want boom", err)
	}
	err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("half-done")) != nil {
			return errors.New("failed step left its changes")
		}
		applied, err := appliedMigrations(tx)
		if err != nil {
			return err
		}
		if len(applied) != 1 {
			return fmt.Errorf("history %v, want only step 1", applied)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrationRefusesUnknownRecordVersion(t *testing.T) {
	dir := t.TempDir()
	db := openBolt(t, dir)
	if err := migrate(t.Context(), db, migrations[:1], fixedNow); err != nil {
		t.Fatal(err)
	}
	err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("tenants")).Put([]byte("x"), []byte(`{"v":7,"installationId":"i"}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	_, err = Open(t.Context(), Options{Dir: dir, Sealer: testSealer(t), NoSync: true})
	if err == nil || !strings.Contains(err.Error(), "0002_installations_index") {
		t.Fatalf("Open = %v, want the migration to fail and be named", err)
	}
}

func TestSealedSecretBoundToTenant(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, testSealer(t))
	ctx := t.Context()
	for _, ck := range []string{"a", "b"} {
		if err := s.PutTenant(ctx, Tenant{ClientKey: ck, SharedSecret: "secret-" + ck, Installed: true}); err != nil {
			t.Fatal(err)
		}
	}
	// Copy a's sealed secret into b's record, as an attacker with write
	// access to the file might.
	err := s.db.Update(func(tx *bolt.Tx) error {
		tenants := tx.Bucket(bucketTenants)
		var a, b tenantRecord
		if err := json.Unmarshal(tenants.Get([]byte("a")), &a); err != nil {
			return err
		}
		if err := json.Unmarshal(tenants.Get([]byte("b")), &b); err != nil {
			return err
		}
		b.SharedSecretSealed = a.SharedSecretSealed
		v, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return tenants.Put([]byte("b"), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tenant(ctx, "b"); err == nil {
		t.Fatalf("b opened a's secret: %q", got.SharedSecret)
	}
	if _, err := s.Tenant(ctx, "a"); err != nil {
		t.Errorf("a unaffected: %v", err)
	}
}

func TestRecordUnderWrongKeyRefused(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, testSealer(t))
	ctx := t.Context()
	if err := s.PutTenant(ctx, Tenant{ClientKey: "a", SharedSecret: "x", Installed: true}); err != nil {
		t.Fatal(err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTenants)
		return b.Put([]byte("moved"), b.Get([]byte("a")))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tenant(ctx, "moved"); err == nil {
		t.Fatal("a record stored under another client key was accepted")
	}
}

func TestDBErrHidesBolt(t *testing.T) {
	if err := dbErr(fmt.Errorf("wrapped: %w", bolt.ErrTimeout)); err != ErrLocked {
		t.Errorf("timeout → %v, want ErrLocked", err)
	}
	err := dbErr(bolt.ErrBucketNotFound)
	if errors.Is(err, bolt.ErrBucketNotFound) || err.Error() != bolt.ErrBucketNotFound.Error() {
		t.Errorf("sentinel not made opaque: %v", err)
	}
	other := errors.New("disk full")
	if !errors.Is(dbErr(other), other) {
		t.Error("non-bbolt error lost its identity")
	}
	if dbErr(nil) != nil {
		t.Error("nil → non-nil")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRestoreMigratesOldBackup(t *testing.T) {
	sealer := testSealer(t)
	db := openBolt(t, t.TempDir())
	if err := migrate(t.Context(), db, migrations[:1], fixedNow); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return checkSealKey(tx, sealer, true) }); err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if err := db.View(func(tx *bolt.Tx) error { _, err := tx.WriteTo(&backup); return err }); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	dir := t.TempDir()
	if err := Restore(t.Context(), dir, &backup, sealer); err != nil {
		t.Fatal(err)
	}
	restored := openBolt(t, dir)
	defer restored.Close()
	err := restored.View(func(tx *bolt.Tx) error {
		applied, err := appliedMigrations(tx)
		if err != nil {
			return err
		}
		if len(applied) != len(migrations) || tx.Bucket([]byte("installations")) == nil {
			return fmt.Errorf("restored copy not migrated: %v", applied)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

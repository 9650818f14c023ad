// Package store is seatlens' persistent state: Connect installations
// (tenants), per-tenant data, schema migrations, and hot backup/restore, all
// kept in a single bbolt file whose secrets are sealed with AES-256-GCM.
//
// The package deliberately exposes no bbolt types or errors so the storage
// engine can change without touching callers.
package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	// ErrNotFound reports a missing tenant, installation, bucket or key.
	ErrNotFound = errors.New("store: not found")
	// ErrExists is returned by Restore, which never overwrites a database.
	ErrExists = errors.New("store: data folder already holds a database")
	// ErrLocked means another process (usually a running server) holds the
	// database's file lock.
	ErrLocked = errors.New("store: database is locked by another process")
)

const (
	// DBFileName is the database file inside the data folder.
	DBFileName = "seatlens.db"
	// DefaultSealKeyFileName is the conventional seal key file name.
	DefaultSealKeyFileName = "seal.key"

	restoreTmpName = DBFileName + ".restore-tmp"
	defaultTimeout = time.Second
	dirMode        = 0o700
	fileMode       = 0o600
)

// BackupHandler's snapshots are named backupTmpPrefix plus CreateTemp's
// random part.
const (
	backupTmpPrefix  = DBFileName + ".backup-"
	backupTmpPattern = backupTmpPrefix + "*"
)

// Top-level buckets.
var (
	bucketMeta          = []byte("meta")
	bucketTenants       = []byte("tenants")
	bucketInstallations = []byte("installations")
	bucketTenantData    = []byte("t")
)

// Keys in the meta bucket.
var (
	metaSchemaPrefix = []byte("schema/")
	metaSealCheck    = []byte("sealcheck")
	metaSealFP       = []byte("sealfp")
)

const (
	sealCheckPlaintext = "seatlens-sealcheck"
	sealCheckAD        = "meta/sealcheck"
)

// Options configures Open.
type Options struct {
	Dir     string           // data folder; created 0700 if absent
	Sealer  *Sealer          // required
	Now     func() time.Time // default time.Now().UTC()
	NoSync  bool             // tests only: skips fsync, so a crash can lose data
	Timeout time.Duration    // file-lock wait, default 1s
}

// Store is safe for concurrent use.
type Store struct {
	db     *bolt.DB
	sealer *Sealer
	now    func() time.Time
	path   string
	cache  tenantCache
}

// Open opens (creating if needed) the database in o.Dir, brings its schema up
// to date and verifies that o.Sealer is the key the database was sealed with.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, errors.New("store: open: Options.Dir is empty")
	}
	if o.Sealer == nil {
		return nil, errors.New("store: open: Options.Sealer is nil")
	}
	if o.Now == nil {
		o.Now = func() time.Time { return time.Now().UTC() }
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if err := os.MkdirAll(o.Dir, dirMode); err != nil {
		return nil, fmt.Errorf("store: create data folder: %w", err)
	}

	path := filepath.Join(o.Dir, DBFileName)
	if err := tightenMode(path); err != nil {
		return nil, err
	}
	// Only the cheap check of the header and freelist: a full walk would
	// slow every start. It is safe without the lock because bbolt grows the
	// file before it commits a meta page that needs the room.
	if err := verifyBoltFile(path, false); err != nil {
		return nil, fmt.Errorf("store: database %s %w", path, err)
	}
	db, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: o.Timeout, NoSync: o.NoSync})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, dbErr(err))
	}
	s := &Store{db: db, sealer: o.Sealer, now: o.Now, path: path}
	if err := s.init(ctx, o.Dir); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init(ctx context.Context, dir string) error {
	// Only now, holding the file lock, can we be sure no server is using the
	// data folder, so a leftover restore copy is garbage from a crash.
	if err := os.Remove(filepath.Join(dir, restoreTmpName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: remove stale restore file: %w", err)
	}
	// Likewise a backup snapshot: BackupHandler removes its own, unless
	// the process died while a client was downloading it.
	if err := removeStaleSnapshots(dir); err != nil {
		return err
	}
	if err := refuseForeign(ctx, s.db); err != nil {
		return err
	}
	if err := migrate(ctx, s.db, migrations, s.now); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketTenants, bucketInstallations, bucketTenantData, bucketChainHeads} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: create bucket %s: %w", name, dbErr(err))
			}
		}
		return checkSealKey(tx, s.sealer, true)
	})
}

// tightenMode makes an existing database file private. Open creates it 0600,
// but a file copied in by hand (a restore with cp, an unpacked archive) may
// be readable by others, and it holds tenant data and sealed secrets.
func tightenMode(path string) error {
	// Windows has no meaningful Unix permission bits to tighten.
	if runtime.GOOS == "windows" {
		return nil
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // bbolt creates it with fileMode
	}
	if err != nil {
		return fmt.Errorf("store: stat %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return nil
	}
	if err := os.Chmod(path, fileMode); err != nil {
		return fmt.Errorf("store: restrict permissions of %s to %04o: %w", path, fileMode, err)
	}
	return nil
}

// removeStaleSnapshots deletes leftover BackupHandler snapshots in dir. It
// lists the folder rather than globbing because dir may contain glob
// metacharacters.
func removeStaleSnapshots(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: list data folder: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), backupTmpPrefix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: remove stale backup snapshot: %w", err)
		}
	}
	return nil
}

// refuseForeign stops Open from migrating (and so scribbling over) some other
// application's bbolt file that happens to sit at our path.
func refuseForeign(ctx context.Context, db *bolt.DB) error {
	return view(ctx, db, func(tx *bolt.Tx) error {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error {
			empty = false
			return errStopIteration
		})
		if !empty && tx.Bucket(bucketMeta) == nil {
			return fmt.Errorf("store: %s is not a seatlens database (no meta bucket)", db.Path())
		}
		return nil
	})
}

var errStopIteration = errors.New("stop iteration")

// checkSealKey proves the configured key is the one that sealed the
// database, so a wrong key fails at startup instead of at the first tenant
// request. With initialize set, a database without a seal check gets one.
func checkSealKey(tx *bolt.Tx, sealer *Sealer, initialize bool) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return errors.New("store: seal check: meta bucket missing")
	}
	sealed := meta.Get(metaSealCheck)
	if sealed == nil {
		if !initialize {
			return errors.New("store: seal check: database has no seal check record")
		}
		v, err := sealer.Seal([]byte(sealCheckPlaintext), []byte(sealCheckAD))
		if err != nil {
			return fmt.Errorf("store: seal check: %w", err)
		}
		if err := meta.Put(metaSealCheck, v); err != nil {
			return fmt.Errorf("store: write seal check: %w", dbErr(err))
		}
		if err := meta.Put(metaSealFP, []byte(sealer.Fingerprint())); err != nil {
			return fmt.Errorf("store: write seal fingerprint: %w", dbErr(err))
		}
		return nil
	}
	pt, err := sealer.Open(sealed, []byte(sealCheckAD))
	if err != nil || string(pt) != sealCheckPlaintext {
		stored := string(meta.Get(metaSealFP))
		if stored == "" {
			stored = "unknown"
		}
		return fmt.Errorf("%w: database was sealed with key %s, but the configured key is %s",
			errSealKeyMismatch, stored, sealer.Fingerprint())
	}
	return nil
}

var errSealKeyMismatch = errors.New("store: seal key mismatch")

// Close releases the database and its file lock. It is safe to call twice.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close: %w", dbErr(err))
	}
	return nil
}

// Path is the database file, for logs and operator messages.
func (s *Store) Path() string { return s.path }

// view and update run fn in a transaction. fn's errors come back untouched so
// sentinels like ErrNotFound survive; bbolt's own errors are made opaque.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	return view(ctx, s.db, fn)
}

func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	return update(ctx, s.db, fn)
}

func view(ctx context.Context, db *bolt.DB, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tx, err := db.Begin(false)
	if err != nil {
		return fmt.Errorf("store: begin read: %w", dbErr(err))
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

func update(ctx context.Context, db *bolt.DB, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	tx, err := db.Begin(true)
	if err != nil {
		return fmt.Errorf("store: begin write: %w", dbErr(err))
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", dbErr(err))
	}
	return nil
}

// boltSentinels are bbolt's exported errors; callers must never be able to
// match them, or they would come to depend on the storage engine.
var boltSentinels = []error{
	berrors.ErrDatabaseNotOpen, berrors.ErrInvalid, berrors.ErrInvalidMapping,
	berrors.ErrVersionMismatch, berrors.ErrChecksum, berrors.ErrTxNotWritable,
	berrors.ErrTxClosed, berrors.ErrDatabaseReadOnly, berrors.ErrFreePagesNotLoaded,
	berrors.ErrBucketNotFound, berrors.ErrBucketExists, berrors.ErrBucketNameRequired,
	berrors.ErrKeyRequired, berrors.ErrKeyTooLarge, berrors.ErrValueTooLarge,
	berrors.ErrMaxSizeReached, berrors.ErrIncompatibleValue, berrors.ErrSameBuckets,
	berrors.ErrDifferentDB,
}

// dbErr translates an error returned by bbolt: a lock timeout becomes
// ErrLocked, bbolt's sentinels keep their message but lose their identity,
// and anything else (OS errors such as ENOSPC) passes through unchanged.
func dbErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, berrors.ErrTimeout) {
		return ErrLocked
	}
	for _, sentinel := range boltSentinels {
		if errors.Is(err, sentinel) {
			return opaqueError(err.Error())
		}
	}
	return err
}

type opaqueError string

func (e opaqueError) Error() string { return string(e) }

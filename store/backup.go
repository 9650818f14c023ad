package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole database to w while the
// store keeps serving: bbolt's read transaction pins a snapshot. Cancelling
// ctx stops the copy at the next write to w.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		if err != nil {
			return fmt.Errorf("store: backup: %w", dbErr(err))
		}
		return nil
	})
	return n, err
}

// BackupHandler serves Backup for `seatlens backup`, which reaches it over a
// local unix socket while the server runs. Content-Length is exact, so a
// client can tell a truncated copy from a complete one.
//
// The snapshot goes to a temporary file in the data folder first and only
// then to the client. Streaming straight from the read transaction let a
// client that stops reading hold the transaction open indefinitely; bbolt
// cannot remap a growing file while any read transaction is open, so the
// next large write stalled and every read queued behind it. A snapshot
// costs disk space equal to the database for the duration of the request.
func (s *Store) BackupHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		f, size, err := s.snapshot(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer removeSnapshot(f)
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		h.Set("Content-Disposition", `attachment; filename="`+DBFileName+`"`)
		h.Set("Cache-Control", "no-store")
		// Once streaming has begun the status is sent; the short body
		// against Content-Length is how the client learns of a failure.
		_, _ = io.Copy(ctxWriter{r.Context(), w}, f)
	})
}

// snapshot writes a backup to a new temporary file in the data folder: it
// is private (0700, and CreateTemp makes the file 0600), which matters as
// the copy holds every sealed secret and all tenant data. The caller must
// removeSnapshot the file, which is positioned at its start.
func (s *Store) snapshot(ctx context.Context) (_ *os.File, _ int64, err error) {
	f, err := os.CreateTemp(filepath.Dir(s.path), backupTmpPattern)
	if err != nil {
		return nil, 0, fmt.Errorf("store: backup: create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			removeSnapshot(f)
		}
	}()
	if _, err := s.Backup(ctx, f); err != nil {
		return nil, 0, err
	}
	// The file, not the count Backup reports, is what the client gets.
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("store: backup: stat temp file: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, fmt.Errorf("store: backup: rewind temp file: %w", err)
	}
	return f, fi.Size(), nil
}

// removeSnapshot closes and deletes a snapshot file. Close comes first
// because Windows cannot remove an open file; Open removes any leftover.
func removeSnapshot(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// BackupFile writes a copy of the database in dir to w without a running
// server, for `seatlens backup` when the server is down. It only reads: the
// file is opened read-only, with no sealer, migrations or seal check, so a
// backup taken from an old or damaged data folder leaves it exactly as it
// was. A running server holds the file lock, which makes this ErrLocked;
// use the server's BackupHandler then.
func BackupFile(ctx context.Context, dir string, w io.Writer) (n int64, err error) {
	if dir == "" {
		return 0, errors.New("store: backup: dir is empty")
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	path := filepath.Join(dir, DBFileName)
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	// bbolt would try to initialise an empty file, and fail on the
	// read-only descriptor with a confusing message.
	if fi.Size() == 0 {
		return 0, fmt.Errorf("store: backup: database %s is empty", path)
	}
	if err := verifyBoltFile(path, false); err != nil {
		return 0, fmt.Errorf("store: backup: database %s %w", path, err)
	}
	// The pre-check cannot see every corruption, and this is the command
	// an operator reaches for when something is already wrong: a damaged
	// page must fail the backup, not crash it.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: backup: database %s is corrupt: %v", path, r)
		}
	}()
	db, err := bolt.Open(path, fileMode, &bolt.Options{ReadOnly: true, Timeout: defaultTimeout})
	if err != nil {
		return 0, fmt.Errorf("store: backup: open %s: %w", path, dbErr(err))
	}
	defer db.Close()
	err = view(ctx, db, func(tx *bolt.Tx) error {
		// Not a seatlens database: nothing Restore would accept.
		if tx.Bucket(bucketMeta) == nil {
			return fmt.Errorf("store: backup: %s is not a seatlens database (no meta bucket)", path)
		}
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		if err != nil {
			return fmt.Errorf("store: backup: %w", dbErr(err))
		}
		return nil
	})
	return n, err
}

// ctxWriter lets a long copy notice cancellation between writes.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (cw ctxWriter) Write(p []byte) (int, error) {
	if err := cw.ctx.Err(); err != nil {
		return 0, err
	}
	return cw.w.Write(p)
}

// Restore installs a backup read from r as the database of dir, which must
// not already have one. The copy is verified (bbolt consistency, seatlens
// schema, seal key) and migrated before it takes the database's name, so a
// bad backup never becomes the live database.
func Restore(ctx context.Context, dir string, r io.Reader, sealer *Sealer) (err error) {
	if dir == "" {
		return errors.New("store: restore: dir is empty")
	}
	if sealer == nil {
		return errors.New("store: restore: sealer is nil")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("store: restore: create data folder: %w", err)
	}
	dbPath := filepath.Join(dir, DBFileName)
	if err := refuseExisting(dbPath); err != nil {
		return err
	}

	tmp := filepath.Join(dir, restoreTmpName)
	// A leftover from a crashed restore would make O_EXCL fail forever.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: restore: remove stale temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := writeRestoreFile(ctx, tmp, r); err != nil {
		return err
	}
	if err := verifyRestoreFile(ctx, tmp, sealer); err != nil {
		return err
	}
	return installRestoreFile(tmp, dbPath)
}

func refuseExisting(dbPath string) error {
	_, err := os.Lstat(dbPath)
	switch {
	case err == nil:
		return fmt.Errorf("store: restore into %s: %w", dbPath, ErrExists)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("store: restore: %w", err)
	}
}

func writeRestoreFile(ctx context.Context, tmp string, r io.Reader) error {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("store: restore: create temp file (is another restore running?): %w", err)
	}
	n, err := io.Copy(ctxWriter{ctx, f}, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: restore: write temp file: %w", err)
	}
	// bbolt would happily initialise an empty file as a new database.
	if n == 0 {
		return errors.New("store: restore: backup is empty")
	}
	return nil
}

func verifyRestoreFile(ctx context.Context, tmp string, sealer *Sealer) (err error) {
	// bbolt trusts its file: it panics on some corruptions its checksums do
	// not cover and faults on page references past the end of the file. A
	// bad backup must fail the restore, not crash the operator's command.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: restore: backup is corrupt: %v", r)
		}
	}()
	// Structure first, on plain reads: once every page reference is known
	// to be in range and acyclic, bbolt (and its Check, which runs on its
	// own goroutine out of reach of the recover above) cannot fault.
	if err := verifyBoltFile(tmp, true); err != nil {
		return fmt.Errorf("store: restore: backup %w", err)
	}
	db, err := bolt.Open(tmp, fileMode, &bolt.Options{Timeout: defaultTimeout})
	if err != nil {
		return fmt.Errorf("store: restore: backup is not a readable bbolt database: %w", dbErr(err))
	}
	defer db.Close()

	err = view(ctx, db, func(tx *bolt.Tx) error {
		var problems []error
		for err := range tx.Check(bolt.WithKVStringer(lengthStringer{})) {
			// Keep the message short; one corruption tends to cascade.
			if len(problems) < 5 {
				problems = append(problems, dbErr(err))
			}
		}
		if len(problems) > 0 {
			return fmt.Errorf("store: restore: backup fails the consistency check: %w", errors.Join(problems...))
		}
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: restore: backup is not a seatlens database (no meta bucket)")
		}
		applied, err := appliedMigrations(tx)
		if err != nil {
			return fmt.Errorf("store: restore: %w", err)
		}
		if len(applied) == 0 {
			return errors.New("store: restore: backup is not a seatlens database (no schema history)")
		}
		return checkApplied(applied, migrations)
	})
	if err != nil {
		return err
	}
	if err := migrate(ctx, db, migrations, func() time.Time { return time.Now().UTC() }); err != nil {
		return err
	}
	err = view(ctx, db, func(tx *bolt.Tx) error {
		if err := checkSealKey(tx, sealer, false); err != nil {
			return fmt.Errorf("store: restore: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: restore: close verified copy: %w", dbErr(err))
	}
	return nil
}

// installRestoreFile gives the verified copy the database's name. A hard link
// fails if the name is taken, which closes the race with a server that
// created a database after our first check; a plain rename would silently
// replace a database that server already has open.
func installRestoreFile(tmp, dbPath string) error {
	if err := os.Link(tmp, dbPath); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("store: restore into %s: %w", dbPath, ErrExists)
		}
		// Some filesystems have no hard links; fall back to a checked
		// rename and accept the small race.
		if err := refuseExisting(dbPath); err != nil {
			return err
		}
		if err := os.Rename(tmp, dbPath); err != nil {
			return fmt.Errorf("store: restore: rename into place: %w", err)
		}
		return syncDir(filepath.Dir(dbPath))
	}
	// The database is in place; a temp name we fail to drop is harmless
	// because Open removes it.
	_ = os.Remove(tmp)
	return syncDir(filepath.Dir(dbPath))
}

// lengthStringer describes keys and values in Check's messages by length
// only: a corrupted length would make bbolt's default hex dump read past
// the end of the file, and keys and values may hold customer data.
type lengthStringer struct{}

func (lengthStringer) KeyToString(k []byte) string   { return fmt.Sprintf("<%d bytes>", len(k)) }
func (lengthStringer) ValueToString(v []byte) string { return fmt.Sprintf("<%d bytes>", len(v)) }

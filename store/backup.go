package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/fnv"
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
func (s *Store) BackupHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		started := false
		err := s.view(r.Context(), func(tx *bolt.Tx) error {
			h := w.Header()
			h.Set("Content-Type", "application/octet-stream")
			h.Set("Content-Length", strconv.FormatInt(tx.Size(), 10))
			h.Set("Content-Disposition", `attachment; filename="`+DBFileName+`"`)
			h.Set("Cache-Control", "no-store")
			started = true
			if _, err := tx.WriteTo(ctxWriter{r.Context(), w}); err != nil {
				return fmt.Errorf("store: backup: %w", dbErr(err))
			}
			return nil
		})
		if err != nil && !started {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		// Once streaming has begun the status is sent; the short body
		// against Content-Length is how the client learns of the failure.
	})
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
	// bad backup must fail the restore, not crash the operator's command, so
	// turn faults into panics and panics into errors on this goroutine.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: restore: backup is corrupt: %v", r)
		}
	}()
	if err := checkBoltFileSize(tmp); err != nil {
		return err
	}
	db, err := bolt.Open(tmp, fileMode, &bolt.Options{Timeout: defaultTimeout})
	if err != nil {
		return fmt.Errorf("store: restore: backup is not a readable bbolt database: %w", dbErr(err))
	}
	defer db.Close()

	err = view(ctx, db, func(tx *bolt.Tx) error {
		// tx.Check walks the file on a goroutine of its own, where a fault
		// would kill the process. Reading every page here first means a
		// bad page reference faults on this goroutine, recoverably.
		if err := readEverything(tx); err != nil {
			return fmt.Errorf("store: restore: backup is corrupt: %w", err)
		}
		var problems []error
		for err := range tx.Check() {
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

// bbolt's on-disk meta page (format version 2), in the machine's byte order
// as bbolt writes it. Offsets are from the start of the page, after bbolt's
// 16-byte page header.
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltMetaOffset     = 16
	boltMetaSumEnd     = boltMetaOffset + 56 // checksum covers the meta up to itself
	boltMetaPageSize   = boltMetaOffset + 8
	boltMetaHighWater  = boltMetaOffset + 40
	boltMetaTxID       = boltMetaOffset + 48
	boltMetaChecksum   = boltMetaSumEnd
	boltMetaLen        = boltMetaChecksum + 8
	boltMaxPageSizeLog = 14 // bbolt probes page sizes 1KiB << 0..14
)

// checkBoltFileSize refuses a file shorter than its own meta page says, the
// signature of an interrupted download, with a message that says so; bbolt
// itself would fault on the missing tail.
func checkBoltFileSize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}

	type meta struct{ pageSize, highWater, txid uint64 }
	readMeta := func(off int64) (meta, bool) {
		buf := make([]byte, boltMetaLen)
		if _, err := f.ReadAt(buf, off); err != nil {
			return meta{}, false
		}
		ne := binary.NativeEndian
		h := fnv.New64a()
		h.Write(buf[boltMetaOffset:boltMetaSumEnd])
		if ne.Uint32(buf[boltMetaOffset:]) != boltMagic || ne.Uint32(buf[boltMetaOffset+4:]) != boltVersion ||
			ne.Uint64(buf[boltMetaChecksum:]) != h.Sum64() {
			return meta{}, false
		}
		return meta{
			pageSize:  uint64(ne.Uint32(buf[boltMetaPageSize:])),
			highWater: ne.Uint64(buf[boltMetaHighWater:]),
			txid:      ne.Uint64(buf[boltMetaTxID:]),
		}, true
	}

	// Like bbolt: the first meta page gives the page size; failing that,
	// probe for the second one.
	m0, ok0 := readMeta(0)
	var m1 meta
	var ok1 bool
	if ok0 {
		m1, ok1 = readMeta(int64(m0.pageSize))
	} else {
		for i := range boltMaxPageSizeLog + 1 {
			if m1, ok1 = readMeta(1024 << i); ok1 {
				break
			}
		}
	}
	var m meta
	switch {
	case ok0 && ok1 && m1.txid > m0.txid, !ok0 && ok1:
		m = m1
	case ok0:
		m = m0
	default:
		// Not a format we can read; bbolt gets the final word.
		return nil
	}
	if want := m.highWater * m.pageSize; uint64(fi.Size()) < want {
		return fmt.Errorf("store: restore: backup is truncated: %d bytes, its header says %d", fi.Size(), want)
	}
	return nil
}

// readEverything reads every key and value of every bucket, which touches
// every page reachable from the root.
func readEverything(tx *bolt.Tx) error {
	var sum uint32
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			sum = crc32.Update(sum, crc32.IEEETable, k)
			if v != nil {
				sum = crc32.Update(sum, crc32.IEEETable, v)
				return nil
			}
			child := b.Bucket(k)
			if child == nil {
				return fmt.Errorf("key %x is neither value nor bucket", k)
			}
			return walk(child)
		})
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		return walk(b)
	})
}

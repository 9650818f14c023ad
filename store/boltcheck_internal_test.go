package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// These tests craft bbolt files by hand, with meta pages whose checksums
// are valid, to reach the checks a random corruption almost never passes.
// They live inside the package to share the checker's layout constants and
// checksum, so the forgeries are exactly what the checker would accept.

const boltMetaPageFlag = 0x04

// craftMeta returns a meta page (only its meaningful prefix).
func craftMeta(pageSize uint32, root, freelist, highWater, txid uint64) []byte {
	p := make([]byte, boltMetaEnd)
	ne.PutUint16(p[8:], boltMetaPageFlag)
	ne.PutUint32(p[boltMetaMagic:], boltMagic)
	ne.PutUint32(p[boltMetaVersion:], boltVersion)
	ne.PutUint32(p[boltMetaPageSize:], pageSize)
	ne.PutUint64(p[boltMetaRoot:], root)
	ne.PutUint64(p[boltMetaFreelist:], freelist)
	ne.PutUint64(p[boltMetaHighWater:], highWater)
	ne.PutUint64(p[boltMetaTxID:], txid)
	ne.PutUint64(p[boltMetaChecksum:], boltMetaSum(p))
	return p
}

// craftedFile lays out a database of 4 KiB pages: two meta pages, then the
// given pages from id 2 on. Each page's header is filled in, so a page only
// needs flags and content.
type craftedFile struct {
	pages    [][]byte // from page 2
	root     uint64
	freelist uint64
}

const craftPageSize = 4096

func (c craftedFile) bytes() []byte {
	n := 2 + len(c.pages)
	out := make([]byte, n*craftPageSize)
	copy(out, craftMeta(craftPageSize, c.root, c.freelist, uint64(n), 2))
	copy(out[craftPageSize:], craftMeta(craftPageSize, c.root, c.freelist, uint64(n), 1))
	ne.PutUint64(out[craftPageSize:], 1) // the page id; the checksum leaves it out
	for i, p := range c.pages {
		off := (i + 2) * craftPageSize
		copy(out[off:off+craftPageSize], p)
		ne.PutUint64(out[off:], uint64(i+2))
	}
	return out
}

func craftPage(flags uint16, count uint16) []byte {
	p := make([]byte, craftPageSize)
	ne.PutUint16(p[8:], flags)
	ne.PutUint16(p[10:], count)
	return p
}

// minimalFile is an empty but valid database: freelist page 2, root leaf 3.
func minimalFile() craftedFile {
	return craftedFile{
		pages:    [][]byte{craftPage(boltFreelistPage, 0), craftPage(boltLeafPage, 0)},
		root:     3,
		freelist: 2,
	}
}

func writeFile(t *testing.T, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), DBFileName)
	if err := os.WriteFile(path, content, fileMode); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCraftedFileIsValid is the control for the tests below: the forgery
// machinery makes files that both the checker and bbolt accept, so a
// rejection below is the checker's verdict on the one crafted flaw.
func TestCraftedFileIsValid(t *testing.T) {
	path := writeFile(t, minimalFile().bytes())
	for _, walk := range []bool{false, true} {
		if err := verifyBoltFile(path, walk); err != nil {
			t.Fatalf("verifyBoltFile(walk=%v): %v", walk, err)
		}
	}
	db, err := bolt.Open(path, fileMode, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		t.Fatalf("bbolt's check of the crafted file: %v", err)
	}
}

// assertRefused checks that verifyBoltFile, Restore and Open all turn the
// file down with an error (rather than crash, which they used to).
func assertRefused(t *testing.T, path, want string, checkOpen bool) {
	t.Helper()
	for _, walk := range []bool{false, true} {
		if err := verifyBoltFile(path, walk); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("verifyBoltFile(walk=%v) = %v, want an error mentioning %q", walk, err, want)
		}
	}
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	restored := t.TempDir()
	if err := Restore(ctx, restored, f, testSealer(t)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Restore = %v, want an error mentioning %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(restored, DBFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed restore left a database behind: %v", err)
	}
	if !checkOpen {
		return
	}
	s, err := Open(ctx, Options{Dir: filepath.Dir(path), Sealer: testSealer(t), NoSync: true})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open accepted the file")
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Open = %v, want an error mentioning %q", err, want)
	}
}

// TestCraftedHighWaterOverflow: page size 2^24 times 2^40+1 pages wraps
// around uint64 to 16 MiB, so a 16 MiB file used to pass the size check and
// the walk then asked for 2^40+1 bytes of bookkeeping: a fatal out of
// memory error, which no recover catches.
func TestCraftedHighWaterOverflow(t *testing.T) {
	cases := []struct {
		name      string
		pageSize  uint32
		highWater uint64
		fileSize  int64
		want      string
	}{
		// Refused for its page size, which no bbolt on Linux creates.
		{"page size 2^24", 1 << 24, 1<<40 + 1, 1 << 24, "implausible header"},
		// A plausible page size: refused only by the size check, which
		// must divide. 4096 * (2^52+4) wraps to 16 KiB.
		{"high water 2^52+4", craftPageSize, 1<<52 + 4, 4 * craftPageSize, "truncated"},
		{"high water 2^64-1", craftPageSize, ^uint64(0), 4 * craftPageSize, "truncated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if wrapped := c.highWater * uint64(c.pageSize); int64(wrapped) > c.fileSize {
				t.Fatalf("bad case: %d pages of %d bytes wrap to %d, more than the file", c.highWater, c.pageSize, wrapped)
			}
			path := filepath.Join(t.TempDir(), DBFileName)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Write(craftMeta(c.pageSize, 3, 2, c.highWater, 1))
			if err == nil {
				err = f.Truncate(c.fileSize) // sparse
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			if m, ok := readBoltMeta(mustOpen(t, path)); !ok || m.highWater != c.highWater {
				t.Fatalf("the checker does not read the crafted meta page (%+v, %v)", m, ok)
			}
			assertRefused(t, path, c.want, true)
		})
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// TestCraftedFreelistCount: a freelist whose count (0xFFFF: the real count
// is in the first slot) claims 2^36 entries. bbolt copies the freelist into
// a slice of that length when it opens a database for writing.
func TestCraftedFreelistCount(t *testing.T) {
	c := minimalFile()
	c.pages[0] = craftPage(boltFreelistPage, 0xFFFF)
	ne.PutUint64(c.pages[0][boltPageHeaderSize:], 1<<36)
	path := writeFile(t, c.bytes())
	assertRefused(t, path, "freelist", true)
}

// TestCraftedElementCount: a leaf page claiming more elements than fit.
func TestCraftedElementCount(t *testing.T) {
	c := minimalFile()
	c.pages[1] = craftPage(boltLeafPage, 0xFFFE)
	path := writeFile(t, c.bytes())
	if err := verifyBoltFile(path, true); err == nil || !strings.Contains(err.Error(), "elements do not fit") {
		t.Fatalf("verifyBoltFile = %v", err)
	}
	f := mustOpen(t, path)
	if err := Restore(context.Background(), t.TempDir(), f, testSealer(t)); err == nil || !strings.Contains(err.Error(), "elements do not fit") {
		t.Errorf("Restore = %v", err)
	}
}

// TestCraftedDeepTree: a chain of branch pages, each with one child. It is
// structurally sound, but recursing down a long enough chain (a large file
// of small pages) overflows the goroutine stack, which is fatal.
func TestCraftedDeepTree(t *testing.T) {
	const depth = boltMaxDepth + 10
	c := craftedFile{root: 3, freelist: 2, pages: [][]byte{craftPage(boltFreelistPage, 0)}}
	for i := range depth {
		p := craftPage(boltBranchPage, 1)
		el := p[boltPageHeaderSize:]
		ne.PutUint32(el[0:], boltElementSize) // key right after the element
		ne.PutUint32(el[4:], 1)
		ne.PutUint64(el[8:], uint64(3+i+1))
		el[boltElementSize] = 'k'
		c.pages = append(c.pages, p)
	}
	c.pages = append(c.pages, craftPage(boltLeafPage, 0))
	path := writeFile(t, c.bytes())
	if err := verifyBoltFile(path, false); err != nil {
		t.Fatalf("the cheap check does not walk, yet: %v", err)
	}
	if err := verifyBoltFile(path, true); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Fatalf("verifyBoltFile = %v, want a depth error", err)
	}
}

// TestPageSizeLimitAdmitsRealDatabases: every page size bbolt picks on
// Linux (the OS page size: 4, 16 or 64 KiB) passes, as does this machine's.
func TestPageSizeLimitAdmitsRealDatabases(t *testing.T) {
	for _, size := range []int{4096, 16384, 65536, os.Getpagesize()} {
		dir := t.TempDir()
		path := filepath.Join(dir, DBFileName)
		db, err := bolt.Open(path, fileMode, &bolt.Options{PageSize: size, Timeout: time.Second, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("x"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), make([]byte, 3*size))
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, walk := range []bool{false, true} {
			if err := verifyBoltFile(path, walk); err != nil {
				t.Errorf("page size %d, walk=%v: %v", size, walk, err)
			}
		}
	}
}

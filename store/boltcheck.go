package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt maps its file into memory and follows page references without
// bounds checks, so a damaged file makes it fault (SIGBUS/SIGSEGV), loop or
// exhaust memory instead of returning an error. verifyBoltFile reads the
// on-disk format (version 2) with plain reads to reject such damage before
// bbolt sees the file. A file it does not recognise is left to bbolt, so a
// future format is refused by bbolt, not misjudged here.

const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeaderSize = 16 // id u64, flags u16, count u16, overflow u32
	boltElementSize    = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	boltBucketHeader   = 16 // root pgid u64, sequence u64
	boltMaxPageSizeLog = 14 // bbolt probes page sizes 1 KiB << 0..14
	// A real tree is a few levels deep per bucket (bbolt keeps at least
	// two keys per page) and seatlens nests buckets three or four deep.
	// The limit keeps a crafted chain of pages from recursing the walk (and
	// then bbolt) into a stack overflow, which no recover can catch.
	boltMaxDepth = 1000

	boltBranchPage   = 0x01
	boltLeafPage     = 0x02
	boltFreelistPage = 0x10
	boltBucketLeaf   = 0x01
	boltNoFreelist   = ^uint64(0)

	// Meta fields, as offsets from the start of the page.
	boltMetaMagic     = boltPageHeaderSize
	boltMetaVersion   = boltMetaMagic + 4
	boltMetaPageSize  = boltMetaVersion + 4
	boltMetaRoot      = boltMetaPageSize + 8 // after flags u32
	boltMetaFreelist  = boltMetaRoot + 16    // after the root bucket header
	boltMetaHighWater = boltMetaFreelist + 8
	boltMetaTxID      = boltMetaHighWater + 8
	boltMetaChecksum  = boltMetaTxID + 8 // FNV-64a of the meta up to here
	boltMetaEnd       = boltMetaChecksum + 8
)

// bbolt writes its structures in the machine's byte order.
var ne = binary.NativeEndian

// boltMaxPageSize is the largest page size a meta page may claim. bbolt uses
// the OS page size, which on Linux is 4, 16 or 64 KiB; this machine's own
// is allowed even if larger, so a database created here always passes.
var boltMaxPageSize = uint64(max(1<<16, os.Getpagesize()))

type boltMeta struct {
	pageSize, root, freelist, highWater, txid uint64
}

// verifyBoltFile checks that the file is as long as its meta page says and,
// with walk set, that every page reachable from the meta lies inside the
// file, is referenced once, and holds elements that fit in it.
//
// Without walk (at Open and BackupFile, on a file a running server may be
// writing) it checks only the meta page and the freelist, which bbolt reads
// in full when it opens a file for writing.
//
// Every size and count read from the file is checked against the file's
// length before anything is allocated from it, and with division, not
// multiplication, which a crafted value could overflow.
func verifyBoltFile(path string, walk bool) error {
	f, err := os.Open(path)
	if err != nil {
		return nil // bbolt reports this better
	}
	defer f.Close()
	m, ok := readBoltMeta(f)
	if !ok {
		return nil
	}
	// Size after meta: bbolt grows the file before it commits a meta page
	// that needs the room, so in this order a server writing the file
	// cannot make it look truncated.
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	size := uint64(fi.Size())
	if m.pageSize < boltMetaEnd || m.pageSize > boltMaxPageSize || m.highWater < 2 {
		return fmt.Errorf("is corrupt: implausible header (page size %d, %d pages)", m.pageSize, m.highWater)
	}
	if m.highWater > size/m.pageSize {
		return fmt.Errorf("is truncated: %d bytes, its header says %d pages of %d bytes", size, m.highWater, m.pageSize)
	}
	if m.root < 2 || m.root >= m.highWater {
		return fmt.Errorf("is corrupt: root page %d is outside the file (%d pages)", m.root, m.highWater)
	}
	w := &boltWalker{r: f, meta: m}
	if !walk {
		// bbolt copies the whole freelist at open, sized by a count from
		// the file: a bogus one exhausts memory or reads past the map.
		if err := w.freelist(); err != nil {
			// A running server may have reused the page since we read the
			// meta; the verdict holds only if that meta is still current.
			if m2, ok := readBoltMeta(f); !ok || m2 != m {
				return nil
			}
			return fmt.Errorf("is corrupt: freelist: %w", err)
		}
		return nil
	}
	// highWater <= size/pageSize bounds this by the file's size.
	w.seen = make([]bool, m.highWater)
	if err := w.freelist(); err != nil {
		return fmt.Errorf("is corrupt: freelist: %w", err)
	}
	if err := w.tree(m.root, 0); err != nil {
		return fmt.Errorf("is corrupt: %w", err)
	}
	return nil
}

// boltMetaSum is the checksum bbolt stores in a meta page: FNV-64a over the
// meta fields before it.
func boltMetaSum(page []byte) uint64 {
	h := fnv.New64a()
	h.Write(page[boltMetaMagic:boltMetaChecksum])
	return h.Sum64()
}

// readBoltMeta returns the meta page bbolt would use: the valid one with the
// higher transaction id. Like bbolt it takes the page size from the first
// meta page and, failing that, probes for the second.
func readBoltMeta(r io.ReaderAt) (boltMeta, bool) {
	read := func(off int64) (boltMeta, bool) {
		buf := make([]byte, boltMetaEnd)
		if _, err := r.ReadAt(buf, off); err != nil {
			return boltMeta{}, false
		}
		if ne.Uint32(buf[boltMetaMagic:]) != boltMagic || ne.Uint32(buf[boltMetaVersion:]) != boltVersion ||
			ne.Uint64(buf[boltMetaChecksum:]) != boltMetaSum(buf) {
			return boltMeta{}, false
		}
		return boltMeta{
			pageSize:  uint64(ne.Uint32(buf[boltMetaPageSize:])),
			root:      ne.Uint64(buf[boltMetaRoot:]),
			freelist:  ne.Uint64(buf[boltMetaFreelist:]),
			highWater: ne.Uint64(buf[boltMetaHighWater:]),
			txid:      ne.Uint64(buf[boltMetaTxID:]),
		}, true
	}
	m0, ok0 := read(0)
	var m1 boltMeta
	var ok1 bool
	if ok0 {
		m1, ok1 = read(int64(m0.pageSize))
	} else {
		for i := range boltMaxPageSizeLog + 1 {
			if m1, ok1 = read(1024 << i); ok1 {
				break
			}
		}
	}
	switch {
	case ok1 && (!ok0 || m1.txid > m0.txid):
		return m1, true
	case ok0:
		return m0, true
	default:
		return boltMeta{}, false
	}
}

type boltWalker struct {
	r    io.ReaderAt
	meta boltMeta
	seen []bool // by page id; catches cycles and shared pages; nil: not tracked
}

// run reads the page id and its overflow pages, claiming them. The check
// against highWater, which the caller has bounded by the file's size, is
// what bounds the buffer.
func (w *boltWalker) run(id uint64) ([]byte, error) {
	if id < 2 || id >= w.meta.highWater {
		return nil, fmt.Errorf("page %d is outside the file (%d pages)", id, w.meta.highWater)
	}
	hdr := make([]byte, boltPageHeaderSize)
	if _, err := w.r.ReadAt(hdr, int64(id*w.meta.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	overflow := uint64(ne.Uint32(hdr[12:]))
	if overflow >= w.meta.highWater-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the end of the file", id, overflow)
	}
	for p := id; w.seen != nil && p <= id+overflow; p++ {
		if w.seen[p] {
			return nil, fmt.Errorf("page %d is referenced more than once", p)
		}
		w.seen[p] = true
	}
	buf := make([]byte, (overflow+1)*w.meta.pageSize)
	if _, err := w.r.ReadAt(buf, int64(id*w.meta.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return buf, nil
}

func (w *boltWalker) freelist() error {
	if w.meta.freelist == boltNoFreelist {
		return nil
	}
	p, err := w.run(w.meta.freelist)
	if err != nil {
		return err
	}
	if ne.Uint16(p[8:])&boltFreelistPage == 0 {
		return fmt.Errorf("page %d is not a freelist page", w.meta.freelist)
	}
	// A count of 0xFFFF means the real count is in the first slot. bbolt
	// allocates that many ids, so it must fit in the pages just read.
	count, skip := uint64(ne.Uint16(p[10:])), uint64(0)
	if count == 0xFFFF {
		if len(p) < boltPageHeaderSize+8 {
			return errors.New("freelist page too short")
		}
		count, skip = ne.Uint64(p[boltPageHeaderSize:]), 1
	}
	if avail := uint64(len(p)-boltPageHeaderSize) / 8; count > avail || count+skip > avail {
		return fmt.Errorf("%d entries do not fit in %d bytes", count, len(p))
	}
	return nil
}

// tree checks a bucket's pages, descending into branches and sub-buckets;
// depth counts both.
func (w *boltWalker) tree(id uint64, depth int) error {
	p, err := w.run(id)
	if err != nil {
		return err
	}
	return w.page(p, id, depth)
}

// page checks one page (or an inline bucket's page, with id 0).
func (w *boltWalker) page(p []byte, id uint64, depth int) error {
	if depth >= boltMaxDepth {
		return fmt.Errorf("page %d: pages nested more than %d deep", id, boltMaxDepth)
	}
	if len(p) < boltPageHeaderSize {
		return fmt.Errorf("page %d: too short", id)
	}
	flags, count := ne.Uint16(p[8:]), uint64(ne.Uint16(p[10:]))
	if count*boltElementSize > uint64(len(p)-boltPageHeaderSize) {
		return fmt.Errorf("page %d: %d elements do not fit", id, count)
	}
	for i := range count {
		e := boltPageHeaderSize + i*boltElementSize
		el := p[e : e+boltElementSize]
		switch {
		case flags&boltBranchPage != 0:
			pos, ksize := uint64(ne.Uint32(el[0:])), uint64(ne.Uint32(el[4:]))
			if e+pos+ksize > uint64(len(p)) {
				return fmt.Errorf("page %d: branch element %d points outside the page", id, i)
			}
			if err := w.tree(ne.Uint64(el[8:]), depth+1); err != nil {
				return err
			}
		case flags&boltLeafPage != 0:
			lflags := ne.Uint32(el[0:])
			pos, ksize, vsize := uint64(ne.Uint32(el[4:])), uint64(ne.Uint32(el[8:])), uint64(ne.Uint32(el[12:]))
			start := e + pos
			if start+ksize+vsize > uint64(len(p)) {
				return fmt.Errorf("page %d: leaf element %d points outside the page", id, i)
			}
			if lflags&boltBucketLeaf == 0 {
				continue
			}
			v := p[start+ksize : start+ksize+vsize]
			if len(v) < boltBucketHeader {
				return fmt.Errorf("page %d: bucket element %d too short", id, i)
			}
			// A zero root means the bucket's page is inline, in v.
			var err error
			if root := ne.Uint64(v); root != 0 {
				err = w.tree(root, depth+1)
			} else {
				err = w.page(v[boltBucketHeader:], 0, depth+1)
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d: neither branch nor leaf (flags %#x)", id, flags)
		}
	}
	return nil
}

package store_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/seatlens/seatlens/store"
	"github.com/seatlens/seatlens/store/storetest"
)

func TestExperimentCorruption(t *testing.T) {
	sealer := storetest.NewSealer(t)
	s := storetest.OpenOptions(t, store.Options{Sealer: sealer})
	ctx := t.Context()
	for i := range 20 {
		ck := fmt.Sprint("t", i)
		_ = s.PutTenant(ctx, sampleTenant(ck))
		for j := range 50 {
			_ = s.TenantPut(ctx, ck, "b", seqKey(j), bytes.Repeat([]byte{1}, 200))
		}
	}
	backup := backupOf(t, s)
	t.Logf("size %d", len(backup))
	ok, bad := 0, 0
	for off := 4096 * 2; off < len(backup); off += 97 {
		c := bytes.Clone(backup)
		c[off] ^= 0xff
		err := store.Restore(ctx, t.TempDir(), bytes.NewReader(c), sealer)
		if err == nil {
			ok++
		} else {
			bad++
		}
	}
	for cut := 0; cut < len(backup); cut += 1000 {
		if err := store.Restore(ctx, t.TempDir(), bytes.NewReader(backup[:cut]), sealer); err == nil {
			t.Errorf("truncated at %d accepted", cut)
		}
	}
	t.Logf("ok %d bad %d", ok, bad)
}

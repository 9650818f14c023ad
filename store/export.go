package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// ExportFormat names the format of a tenant export.
const ExportFormat = "seatlens-tenant-export/1"

// TenantExport is what ExportTenant writes: the tenant's record (its
// shared secret left out) and every bucket of its data but the sealed
// secrets, each value as it is stored (JSON where it is JSON), each key
// as text, or as hex ("0x…") when it is not text.
type TenantExport struct {
	Format     string                                `json:"format"`
	ExportedAt time.Time                             `json:"exportedAt"`
	Tenant     exportTenant                          `json:"tenant"`
	Buckets    map[string]map[string]json.RawMessage `json:"buckets"`
}

type exportTenant struct {
	ClientKey      string     `json:"clientKey"`
	BaseURL        string     `json:"baseUrl"`
	ProductType    string     `json:"productType,omitempty"`
	InstallationID string     `json:"installationId,omitempty"`
	Installed      bool       `json:"installed"`
	UninstalledAt  *time.Time `json:"uninstalledAt,omitempty"`
}

// ExportTenant writes one tenant's data as JSON (an operator's answer to
// a request for it). ErrNotFound when unknown.
func (s *Store) ExportTenant(ctx context.Context, clientKey string, w io.Writer) error {
	t, err := s.Tenant(ctx, clientKey)
	if err != nil {
		return err
	}
	out := TenantExport{Format: ExportFormat, ExportedAt: s.now().UTC(), Buckets: map[string]map[string]json.RawMessage{},
		Tenant: exportTenant{ClientKey: t.ClientKey, BaseURL: t.BaseURL, ProductType: t.ProductType,
			InstallationID: t.InstallationID, Installed: t.Installed}}
	if !t.Installed && !t.UninstalledAt.IsZero() {
		at := t.UninstalledAt
		out.Tenant.UninstalledAt = &at
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketTenantData).Bucket([]byte(clientKey))
		if data == nil {
			return nil
		}
		return data.ForEachBucket(func(name []byte) error {
			if string(name) == SecretsBucket || name[0] == 0 { // sealed secrets; the sequence counters
				return nil
			}
			kv := map[string]json.RawMessage{}
			err := data.Bucket(name).ForEach(func(k, v []byte) error {
				kv[exportKey(k)] = exportValue(v)
				return nil
			})
			out.Buckets[string(name)] = kv
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("store: export tenant %q: %w", clientKey, dbErr(err))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

func exportKey(k []byte) string {
	if utf8.Valid(k) {
		printable := true
		for _, r := range string(k) {
			if r < 0x20 || r == 0x7f {
				printable = false
			}
		}
		if printable {
			return string(k)
		}
	}
	return "0x" + hex.EncodeToString(k)
}

func exportValue(v []byte) json.RawMessage {
	if json.Valid(v) {
		return json.RawMessage(append([]byte(nil), v...))
	}
	b, _ := json.Marshal(string(v))
	if !utf8.Valid(v) {
		b, _ = json.Marshal("0x" + hex.EncodeToString(v))
	}
	return b
}

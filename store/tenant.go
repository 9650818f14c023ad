package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Tenant is one Atlassian Connect installation.
type Tenant struct {
	ClientKey, AppKey, BaseURL, DisplayURL, ProductType, Description string
	ServerVersion, PluginsVersion, OAuthClientID, InstallationID     string

	SharedSecret string // plaintext in memory only; stored sealed

	Installed bool // false after uninstall, until a reinstall
	Enabled   bool

	InstalledAt, UpdatedAt, UninstalledAt time.Time // UninstalledAt is zero while installed
}

const tenantRecordVersion = 1

// tenantRecord is the stored JSON. The explicit version lets a future
// migration recognise (and rewrite) records of this shape; migrations must
// not depend on this type, which follows the live code.
type tenantRecord struct {
	V                  int       `json:"v"`
	ClientKey          string    `json:"clientKey"`
	AppKey             string    `json:"appKey"`
	BaseURL            string    `json:"baseUrl"`
	DisplayURL         string    `json:"displayUrl,omitempty"`
	ProductType        string    `json:"productType,omitempty"`
	Description        string    `json:"description,omitempty"`
	ServerVersion      string    `json:"serverVersion,omitempty"`
	PluginsVersion     string    `json:"pluginsVersion,omitempty"`
	OAuthClientID      string    `json:"oauthClientId,omitempty"`
	InstallationID     string    `json:"installationId,omitempty"`
	SharedSecretSealed []byte    `json:"sharedSecretSealed"`
	Installed          bool      `json:"installed"`
	Enabled            bool      `json:"enabled"`
	InstalledAt        time.Time `json:"installedAt"`
	UpdatedAt          time.Time `json:"updatedAt"`
	UninstalledAt      time.Time `json:"uninstalledAt,omitzero"`
}

// secretAD binds a sealed shared secret to its tenant, so a sealed value
// copied into another tenant's record will not open.
func secretAD(clientKey string) []byte { return []byte("tenant/" + clientKey) }

// Tenant returns the tenant with clientKey, or ErrNotFound. Every
// authenticated request asks for its tenant, so decoded records are cached
// in memory; every tenant write in this process invalidates the cache after
// it commits, so an uninstall or a new secret takes effect at once.
func (s *Store) Tenant(ctx context.Context, clientKey string) (Tenant, error) {
	if err := ctx.Err(); err != nil {
		return Tenant{}, err
	}
	if t, ok := s.cache.get(clientKey); ok {
		return t, nil
	}
	gen := s.cache.generation()
	var t Tenant
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		t, err = s.readTenant(tx, clientKey)
		return err
	})
	if err == nil {
		s.cache.put(clientKey, t, gen)
	}
	return t, err
}

// tenantCache holds decoded tenant records. A reader may only insert what
// it read if no write committed since it started (gen unchanged); a writer
// bumps gen and clears the map after committing, which also drops a stale
// record a racing reader inserted just before.
type tenantCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]Tenant
}

const maxCachedTenants = 10000

func (c *tenantCache) get(k string) (Tenant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[k]
	return t, ok
}

func (c *tenantCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *tenantCache) put(k string, t Tenant, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= maxCachedTenants {
		c.m = map[string]Tenant{}
	}
	c.m[k] = t
}

func (c *tenantCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.m)
}

// updateTenants runs a write transaction that changes tenant records and
// invalidates the cache once it is over.
func (s *Store) updateTenants(ctx context.Context, fn func(*bolt.Tx) error) error {
	defer s.cache.invalidate()
	return s.update(ctx, fn)
}

// TenantByInstallation finds a tenant by its Atlassian installationId, or
// returns ErrNotFound.
func (s *Store) TenantByInstallation(ctx context.Context, installationID string) (Tenant, error) {
	var t Tenant
	err := s.view(ctx, func(tx *bolt.Tx) error {
		clientKey := tx.Bucket(bucketInstallations).Get([]byte(installationID))
		if clientKey == nil || installationID == "" {
			return fmt.Errorf("store: installation %q: %w", installationID, ErrNotFound)
		}
		var err error
		t, err = s.readTenant(tx, string(clientKey))
		return err
	})
	return t, err
}

// PutTenant inserts or replaces a tenant. It stamps UpdatedAt (and
// InstalledAt when zero), keeps the installations index current and creates
// the tenant's data bucket if absent, so data written before an uninstall
// survives a reinstall within the grace period.
func (s *Store) PutTenant(ctx context.Context, t Tenant) error {
	return s.updateTenants(ctx, func(tx *bolt.Tx) error {
		return s.writeTenant(tx, t)
	})
}

// UpdateTenant applies fn to the stored tenant in a single write
// transaction. fn's error aborts the update and is returned unchanged.
func (s *Store) UpdateTenant(ctx context.Context, clientKey string, fn func(*Tenant) error) error {
	return s.updateTenants(ctx, func(tx *bolt.Tx) error {
		t, err := s.readTenant(tx, clientKey)
		if err != nil {
			return err
		}
		if err := fn(&t); err != nil {
			return err
		}
		if t.ClientKey != clientKey {
			return fmt.Errorf("store: update tenant %q: the client key cannot change (got %q)", clientKey, t.ClientKey)
		}
		return s.writeTenant(tx, t)
	})
}

// PurgeUninstalled removes every tenant uninstalled at or before cutoff,
// together with its data and index entry, and returns their client keys.
func (s *Store) PurgeUninstalled(ctx context.Context, cutoff time.Time) ([]string, error) {
	var purged []string
	err := s.updateTenants(ctx, func(tx *bolt.Tx) error {
		tenants := tx.Bucket(bucketTenants)
		var due []tenantRecord
		err := tenants.ForEach(func(k, v []byte) error {
			rec, err := decodeTenantRecord(k, v)
			if err != nil {
				return err
			}
			if !rec.Installed && !rec.UninstalledAt.After(cutoff) {
				due = append(due, rec)
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Deleting while ForEach iterates would skip keys, hence two passes.
		for _, rec := range due {
			if err := purge(tx, rec); err != nil {
				return err
			}
			purged = append(purged, rec.ClientKey)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return purged, nil
}

// purge deletes a tenant's record, data and index entry; its signed chain
// heads stay (heads.go).
func purge(tx *bolt.Tx, rec tenantRecord) error {
	key := []byte(rec.ClientKey)
	if err := tx.Bucket(bucketTenants).Delete(key); err != nil {
		return fmt.Errorf("store: purge tenant %q: %w", rec.ClientKey, dbErr(err))
	}
	data := tx.Bucket(bucketTenantData)
	if data.Bucket(key) != nil {
		if err := data.DeleteBucket(key); err != nil {
			return fmt.Errorf("store: purge tenant %q data: %w", rec.ClientKey, dbErr(err))
		}
	}
	return unindex(tx.Bucket(bucketInstallations), rec.InstallationID, rec.ClientKey)
}

// PurgeTenant deletes one tenant now, installed or not, as the grace
// period's end would: an operator's answer to a request to delete a
// tenant's data. Its signed chain heads stay. ErrNotFound when unknown.
func (s *Store) PurgeTenant(ctx context.Context, clientKey string) error {
	return s.updateTenants(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTenants).Get([]byte(clientKey))
		if v == nil {
			return ErrNotFound
		}
		rec, err := decodeTenantRecord([]byte(clientKey), v)
		if err != nil {
			return err
		}
		return purge(tx, rec)
	})
}

// Tenants returns every tenant, installed or not, sorted by client key.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	var all []Tenant
	err := s.view(ctx, func(tx *bolt.Tx) error {
		// bbolt iterates in byte order, which is Go's string order.
		return tx.Bucket(bucketTenants).ForEach(func(k, v []byte) error {
			t, err := s.decodeTenant(k, v)
			if err != nil {
				return err
			}
			all = append(all, t)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

func (s *Store) readTenant(tx *bolt.Tx, clientKey string) (Tenant, error) {
	v := tx.Bucket(bucketTenants).Get([]byte(clientKey))
	if v == nil || clientKey == "" {
		return Tenant{}, fmt.Errorf("store: tenant %q: %w", clientKey, ErrNotFound)
	}
	return s.decodeTenant([]byte(clientKey), v)
}

func decodeTenantRecord(key, v []byte) (tenantRecord, error) {
	var rec tenantRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return rec, fmt.Errorf("store: decode tenant %q: %w", key, err)
	}
	if rec.V != tenantRecordVersion {
		return rec, fmt.Errorf("store: tenant %q: record version %d, want %d", key, rec.V, tenantRecordVersion)
	}
	// The secret is bound to the key it is stored under; a record whose
	// own clientKey disagrees was moved or corrupted.
	if rec.ClientKey != string(key) {
		return rec, fmt.Errorf("store: tenant %q: record names client key %q", key, rec.ClientKey)
	}
	return rec, nil
}

func (s *Store) decodeTenant(key, v []byte) (Tenant, error) {
	rec, err := decodeTenantRecord(key, v)
	if err != nil {
		return Tenant{}, err
	}
	secret, err := s.sealer.Open(rec.SharedSecretSealed, secretAD(rec.ClientKey))
	if err != nil {
		return Tenant{}, fmt.Errorf("store: tenant %q shared secret: %w", rec.ClientKey, err)
	}
	return Tenant{
		ClientKey:      rec.ClientKey,
		AppKey:         rec.AppKey,
		BaseURL:        rec.BaseURL,
		DisplayURL:     rec.DisplayURL,
		ProductType:    rec.ProductType,
		Description:    rec.Description,
		ServerVersion:  rec.ServerVersion,
		PluginsVersion: rec.PluginsVersion,
		OAuthClientID:  rec.OAuthClientID,
		InstallationID: rec.InstallationID,
		SharedSecret:   string(secret),
		Installed:      rec.Installed,
		Enabled:        rec.Enabled,
		InstalledAt:    rec.InstalledAt,
		UpdatedAt:      rec.UpdatedAt,
		UninstalledAt:  rec.UninstalledAt,
	}, nil
}

func (s *Store) writeTenant(tx *bolt.Tx, t Tenant) error {
	if t.ClientKey == "" {
		return errors.New("store: put tenant: empty client key")
	}
	key := []byte(t.ClientKey)
	tenants := tx.Bucket(bucketTenants)

	var oldInstallationID string
	if old := tenants.Get(key); old != nil {
		rec, err := decodeTenantRecord(key, old)
		if err != nil {
			return err
		}
		oldInstallationID = rec.InstallationID
	}

	now := s.now().UTC()
	t.UpdatedAt = now
	if t.InstalledAt.IsZero() {
		t.InstalledAt = now
	}
	// Stored times are UTC so that a record reads back identical
	// whatever zone the caller used.
	t.InstalledAt, t.UninstalledAt = t.InstalledAt.UTC(), t.UninstalledAt.UTC()
	// Keep the invariant PurgeUninstalled relies on: an uninstalled tenant
	// always has a timestamp, an installed one never does.
	switch {
	case t.Installed:
		t.UninstalledAt = time.Time{}
	case t.UninstalledAt.IsZero():
		t.UninstalledAt = now
	}

	sealed, err := s.sealer.Seal([]byte(t.SharedSecret), secretAD(t.ClientKey))
	if err != nil {
		return fmt.Errorf("store: put tenant %q: %w", t.ClientKey, err)
	}
	v, err := json.Marshal(tenantRecord{
		V:                  tenantRecordVersion,
		ClientKey:          t.ClientKey,
		AppKey:             t.AppKey,
		BaseURL:            t.BaseURL,
		DisplayURL:         t.DisplayURL,
		ProductType:        t.ProductType,
		Description:        t.Description,
		ServerVersion:      t.ServerVersion,
		PluginsVersion:     t.PluginsVersion,
		OAuthClientID:      t.OAuthClientID,
		InstallationID:     t.InstallationID,
		SharedSecretSealed: sealed,
		Installed:          t.Installed,
		Enabled:            t.Enabled,
		InstalledAt:        t.InstalledAt,
		UpdatedAt:          t.UpdatedAt,
		UninstalledAt:      t.UninstalledAt,
	})
	if err != nil {
		return fmt.Errorf("store: encode tenant %q: %w", t.ClientKey, err)
	}
	if err := tenants.Put(key, v); err != nil {
		return fmt.Errorf("store: put tenant %q: %w", t.ClientKey, dbErr(err))
	}

	if _, err := tx.Bucket(bucketTenantData).CreateBucketIfNotExists(key); err != nil {
		return fmt.Errorf("store: create data bucket for tenant %q: %w", t.ClientKey, dbErr(err))
	}

	index := tx.Bucket(bucketInstallations)
	if oldInstallationID != t.InstallationID {
		if err := unindex(index, oldInstallationID, t.ClientKey); err != nil {
			return err
		}
	}
	if t.InstallationID != "" {
		// Atlassian reissues installation ids on reinstall, so an id that
		// points at another tenant is stale and simply reassigned.
		if err := index.Put([]byte(t.InstallationID), key); err != nil {
			return fmt.Errorf("store: index installation %q: %w", t.InstallationID, dbErr(err))
		}
	}
	return nil
}

// unindex drops installationID from the index only while it still points at
// clientKey; if it was reassigned it belongs to another tenant now.
func unindex(index *bolt.Bucket, installationID, clientKey string) error {
	if installationID == "" {
		return nil
	}
	id := []byte(installationID)
	if string(index.Get(id)) != clientKey {
		return nil
	}
	if err := index.Delete(id); err != nil {
		return fmt.Errorf("store: unindex installation %q: %w", installationID, dbErr(err))
	}
	return nil
}

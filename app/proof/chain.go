package proof

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seatlens/seatlens/store"
)

// Event is one link of a tenant's chain. Personal data never enters it:
// accounts appear as Ref, a hash salted per account.
type Event struct {
	Seq   int64          `json:"seq"`
	Time  string         `json:"time"` // RFC 3339, UTC, seconds
	Kind  string         `json:"kind"` // e.g. review.approved
	Actor string         `json:"actor"`
	Data  map[string]any `json:"data"`
	Prev  string         `json:"prev"` // hex SHA-256 of the previous event; 64 zeros for the first
	Hash  string         `json:"hash"` // hex SHA-256 over Prev's bytes and the event without Hash, canonical
}

// Genesis is the Prev of a chain's first event.
var Genesis = hex.EncodeToString(make([]byte, sha256.Size))

// HashOf computes an event's hash: SHA-256 over the previous hash (32
// bytes) followed by the event without its hash in canonical JSON.
func HashOf(e Event) (string, error) {
	prev, err := hex.DecodeString(e.Prev)
	if err != nil || len(prev) != sha256.Size {
		return "", fmt.Errorf("proof: event %d: prev is not a SHA-256 in hex", e.Seq)
	}
	e.Hash = ""
	body := map[string]any{"seq": e.Seq, "time": e.Time, "kind": e.Kind, "actor": e.Actor, "data": e.Data, "prev": e.Prev}
	c, err := Canonical(body)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(c)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Names in the tenant's data.
const (
	chainBucket = "chain"
	saltBucket  = "salts"
	keySecret   = "proof-signing-key"
	metaBucket  = "proof"
)

// Chain appends a tenant's events and signs its head.
type Chain struct {
	Store *store.Store
	Now   func() time.Time
}

func (c *Chain) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// Ref is an account as the chain names it: SHA-256 over the account's
// salt and its ID. Erasing the person deletes the salt; the chain stays
// valid and no longer leads to anyone. Ref creates the salt on first use.
func Ref(tx store.Tx, clientKey, accountID string) (string, error) {
	if accountID == "" {
		return "", nil
	}
	salt, err := tx.Get(clientKey, saltBucket, []byte(accountID))
	if errors.Is(err, store.ErrNotFound) {
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return "", err
		}
		if err := tx.Put(clientKey, saltBucket, []byte(accountID), salt); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(accountID))
	return "acct:" + hex.EncodeToString(h.Sum(nil)[:16]), nil
}

// Forget deletes an account's salt: its refs no longer lead to it.
func (c *Chain) Forget(ctx context.Context, clientKey, accountID string) error {
	return c.Store.Update(ctx, func(tx store.Tx) error {
		return tx.Delete(clientKey, saltBucket, []byte(accountID))
	})
}

func seqKey(seq int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(seq)) }

// AppendTx adds an event to the chain inside the caller's transaction, so
// that an action and its record are one write. accounts in data are the
// caller's to turn into refs first (RefTx).
func (c *Chain) AppendTx(tx store.Tx, clientKey, kind, actorAccount string, data map[string]any) (Event, error) {
	actor := "system"
	if actorAccount != "" {
		var err error
		if actor, err = Ref(tx, clientKey, actorAccount); err != nil {
			return Event{}, err
		}
	}
	prev := Genesis
	var last Event
	err := tx.EachReverse(clientKey, chainBucket, nil, func(_, v []byte) error {
		if err := json.Unmarshal(v, &last); err != nil {
			return fmt.Errorf("proof: decode the chain's last event: %w", err)
		}
		prev = last.Hash
		return store.ErrStop
	})
	if err != nil {
		return Event{}, err
	}
	if data == nil {
		data = map[string]any{}
	}
	e := Event{Seq: last.Seq + 1, Time: c.now().Format(time.RFC3339), Kind: kind, Actor: actor, Data: data, Prev: prev}
	if e.Hash, err = HashOf(e); err != nil {
		return Event{}, err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return Event{}, err
	}
	return e, tx.Put(clientKey, chainBucket, seqKey(e.Seq), v)
}

// Append adds an event in its own transaction.
func (c *Chain) Append(ctx context.Context, clientKey, kind, actorAccount string, data map[string]any) (Event, error) {
	var e Event
	err := c.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		e, err = c.AppendTx(tx, clientKey, kind, actorAccount, data)
		return err
	})
	return e, err
}

// Events returns the events with from ≤ seq ≤ to (to 0: to the head), in order.
func (c *Chain) Events(ctx context.Context, clientKey string, from, to int64) ([]Event, error) {
	out := []Event{}
	err := c.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, chainBucket, seqKey(max(from, 1)), func(_, v []byte) error {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("proof: decode event: %w", err)
			}
			if to > 0 && e.Seq > to {
				return store.ErrStop
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Head is the signed end of a chain segment.
type Head struct {
	Tenant string `json:"tenant"` // a hash of the tenant's clientKey
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash"`
	Time   string `json:"time"`
}

// Signed is a head with its Ed25519 signature over the head's canonical
// JSON, and the public key that made it.
type Signed struct {
	Head      Head   `json:"head"`
	Signature string `json:"signature"` // base64
	PublicKey string `json:"publicKey"` // base64 of the raw 32 bytes
	KeyID     string `json:"keyFingerprint"`
}

// Fingerprint names a public key: hex SHA-256 of its raw bytes, first 16 bytes.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// key returns the tenant's signing key, made on first use and kept sealed.
func (c *Chain) key(ctx context.Context, clientKey string) (ed25519.PrivateKey, error) {
	raw, ok, err := c.Store.Secret(ctx, clientKey, keySecret)
	if err != nil {
		return nil, err
	}
	if ok && len(raw) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(raw), nil
	}
	// The first use makes the key. Two first uses at once must not each
	// sign with a key of their own: the one stored first wins, checked
	// and written in one transaction.
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	sealed, err := c.Store.TenantSeal(clientKey, keySecret, priv.Seed())
	if err != nil {
		return nil, err
	}
	err = c.Store.Update(ctx, func(tx store.Tx) error {
		v, err := tx.Get(clientKey, store.SecretsBucket, []byte(keySecret))
		if errors.Is(err, store.ErrNotFound) {
			return tx.Put(clientKey, store.SecretsBucket, []byte(keySecret), sealed)
		}
		if err != nil {
			return err
		}
		seed, err := c.Store.TenantOpen(clientKey, keySecret, v)
		if err != nil {
			return err
		}
		if len(seed) != ed25519.SeedSize {
			return tx.Put(clientKey, store.SecretsBucket, []byte(keySecret), sealed)
		}
		priv = ed25519.NewKeyFromSeed(seed)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return priv, nil
}

// TenantRef names a tenant in evidence without its clientKey.
func TenantRef(clientKey string) string {
	sum := sha256.Sum256([]byte("seatlens-tenant\x00" + clientKey))
	return hex.EncodeToString(sum[:16])
}

// Sign signs the head at the chain's last event.
func (c *Chain) Sign(ctx context.Context, clientKey string, last Event) (Signed, error) {
	priv, err := c.key(ctx, clientKey)
	if err != nil {
		return Signed{}, err
	}
	h := Head{Tenant: TenantRef(clientKey), Seq: last.Seq, Hash: last.Hash, Time: c.now().Format(time.RFC3339)}
	msg, err := Canonical(h)
	if err != nil {
		return Signed{}, err
	}
	pub := priv.Public().(ed25519.PublicKey)
	signed := Signed{Head: h, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg)),
		PublicKey: base64.StdEncoding.EncodeToString(pub), KeyID: Fingerprint(pub)}
	// Every head signed is kept outside the tenant's data too.
	raw, err := json.Marshal(signed)
	if err != nil {
		return Signed{}, err
	}
	if err := c.Store.PutChainHead(ctx, clientKey, last.Seq, raw); err != nil {
		return Signed{}, err
	}
	return signed, nil
}

// OldKey is a signing key a tenant used before a rotation: its public
// half stays, so that earlier evidence can still be checked against it.
type OldKey struct {
	PublicKey   string `json:"publicKey"`
	Fingerprint string `json:"keyFingerprint"`
	RetiredAt   string `json:"retiredAt"`
}

const oldKeysKey = "old-keys"

// RotateKey replaces the tenant's signing key, keeps the old public key
// and records the rotation in the chain (signed by neither: the event is
// covered by the next signed head). It returns the new fingerprint.
func (c *Chain) RotateKey(ctx context.Context, clientKey, actorAccount string) (string, error) {
	old, err := c.key(ctx, clientKey)
	if err != nil {
		return "", err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	oldPub := old.Public().(ed25519.PublicKey)
	newPub := priv.Public().(ed25519.PublicKey)
	sealed, err := c.Store.TenantSeal(clientKey, keySecret, priv.Seed())
	if err != nil {
		return "", err
	}
	// The new key, the old public key kept and the rotation's event go in
	// one transaction: a crash leaves either the old key or the new one,
	// never a chain that names a key no one holds.
	err = c.Store.Update(ctx, func(tx store.Tx) error {
		// Another rotation may have come first: rotate what is stored.
		v, err := tx.Get(clientKey, store.SecretsBucket, []byte(keySecret))
		if err != nil {
			return err
		}
		seed, err := c.Store.TenantOpen(clientKey, keySecret, v)
		if err != nil {
			return fmt.Errorf("proof: open the signing key: %w", err)
		}
		if !bytes.Equal(seed, old.Seed()) {
			return errors.New("proof: the signing key changed during the rotation; rotate again")
		}
		var kept []OldKey
		if raw, err := tx.Get(clientKey, metaBucket, []byte(oldKeysKey)); err == nil {
			if err := json.Unmarshal(raw, &kept); err != nil {
				return err
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		kept = append(kept, OldKey{PublicKey: base64.StdEncoding.EncodeToString(oldPub), Fingerprint: Fingerprint(oldPub), RetiredAt: c.now().Format(time.RFC3339)})
		raw, err := json.Marshal(kept)
		if err != nil {
			return err
		}
		if err := tx.Put(clientKey, metaBucket, []byte(oldKeysKey), raw); err != nil {
			return err
		}
		if err := tx.Put(clientKey, store.SecretsBucket, []byte(keySecret), sealed); err != nil {
			return err
		}
		_, err = c.AppendTx(tx, clientKey, "key.rotated", actorAccount, map[string]any{"old": Fingerprint(oldPub), "new": Fingerprint(newPub)})
		return err
	})
	if err != nil {
		return "", err
	}
	return Fingerprint(newPub), nil
}

// OldKeys lists the tenant's retired public keys, oldest first.
func (c *Chain) OldKeys(ctx context.Context, clientKey string) ([]OldKey, error) {
	var kept []OldKey
	raw, err := c.Store.TenantGet(ctx, clientKey, metaBucket, []byte(oldKeysKey))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return kept, json.Unmarshal(raw, &kept)
}

// Recent returns up to limit events before seq (0: from the head), newest
// first, and the seq to ask from next (0 when the chain's start is reached).
func (c *Chain) Recent(ctx context.Context, clientKey string, before int64, limit int) ([]Event, int64, error) {
	out := []Event{}
	var next int64
	var from []byte
	if before > 0 {
		from = seqKey(before - 1)
	}
	err := c.Store.View(ctx, func(tx store.Tx) error {
		if before == 1 {
			return nil
		}
		return tx.EachReverse(clientKey, chainBucket, from, func(_, v []byte) error {
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("proof: decode event: %w", err)
			}
			if len(out) == limit {
				next = e.Seq + 1
				return store.ErrStop
			}
			out = append(out, e)
			return nil
		})
	})
	return out, next, err
}

// KeyFingerprint is the fingerprint of the tenant's current signing key.
func (c *Chain) KeyFingerprint(ctx context.Context, clientKey string) (string, error) {
	priv, err := c.key(ctx, clientKey)
	if err != nil {
		return "", err
	}
	return Fingerprint(priv.Public().(ed25519.PublicKey)), nil
}

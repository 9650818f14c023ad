package rescan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/seatlens/seatlens/store"
)

// erasedBucket remembers, as hashes, the accounts erased lately, so that
// a delivery naming one after its erasure (Jira's user_deleted comes
// whenever it comes) stores nothing of it again.
const erasedBucket = "rescan-erased"

// keepErased is how long an erased account's deliveries are refused.
const keepErased = 30 * 24 * time.Hour

func erasedKey(accountID string) []byte {
	h := sha256.Sum256([]byte(accountID))
	return []byte(hex.EncodeToString(h[:]))
}

// Forget removes an account from what the rescans keep of a tenant: its
// pending record, the identities of the deliveries that named it, its new
// seats, and its ID in the rescans listed (which stay, as "erased").
func (i *Inbox) Forget(ctx context.Context, clientKey, accountID string) error {
	err := i.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put(clientKey, erasedBucket, erasedKey(accountID), timeValue(i.now())); err != nil {
			return err
		}
		if err := tx.Delete(clientKey, PendingBucket, []byte(accountID)); err != nil {
			return err
		}
		err := tx.Each(clientKey, seenBucket, nil, func(k, _ []byte) error {
			if strings.Contains(string(k), "/"+accountID) {
				return tx.Delete(clientKey, seenBucket, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Each(clientKey, newSeatsBucket, nil, func(k, _ []byte) error {
			parts := strings.Split(string(k), "\x00")
			if len(parts) == 3 && parts[1] == accountID {
				return tx.Delete(clientKey, newSeatsBucket, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Each(clientKey, logBucket, nil, func(k, v []byte) error {
			var r Rescan
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("rescan: decode rescan: %w", err)
			}
			if r.AccountID != accountID {
				return nil
			}
			r.AccountID = "erased"
			out, err := json.Marshal(r)
			if err != nil {
				return err
			}
			return tx.Put(clientKey, logBucket, k, out)
		})
	})
	if err != nil {
		return fmt.Errorf("rescan: forget an account of %s: %w", clientKey, err)
	}
	return nil
}

// Package rescan decides when to scan: it keeps the accounts that webhooks
// and Forge events name as needing a targeted rescan (DESIGN.md §8). The
// rescans themselves, audit-log polling and schedules come next.
package rescan

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/seatlens/seatlens/app/webhook"
	"github.com/seatlens/seatlens/store"
)

// PendingBucket is the per-tenant bucket of accounts awaiting a targeted
// rescan: one key per account, so repeated deliveries coalesce.
const PendingBucket = "rescan-pending"

// Inbox records the accounts to rescan, durably (webhook.Inbox).
type Inbox struct{ Store *store.Store }

// MarkPending records that an account needs a rescan; the newest event
// for the account replaces an older one.
func (i Inbox) MarkPending(ctx context.Context, clientKey string, e webhook.Event) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("rescan: encode event: %w", err)
	}
	return i.Store.TenantPut(ctx, clientKey, PendingBucket, []byte(e.AccountID), v)
}

// Pending counts the tenant's accounts awaiting a targeted rescan.
func (i Inbox) Pending(ctx context.Context, clientKey string) (int, error) {
	n := 0
	err := i.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, PendingBucket, nil, func(_, _ []byte) error {
			n++
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("rescan: pending of %s: %w", clientKey, err)
	}
	return n, nil
}

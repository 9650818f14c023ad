package app

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

type inbox struct{ s *store.Store }

func (i inbox) MarkPending(ctx context.Context, clientKey string, e webhook.Event) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("app: encode webhook event: %w", err)
	}
	return i.s.TenantPut(ctx, clientKey, PendingBucket, []byte(e.AccountID), v)
}

// Pending counts the tenant's accounts awaiting a targeted rescan.
func (i inbox) Pending(ctx context.Context, clientKey string) (int, error) {
	n := 0
	err := i.s.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, PendingBucket, nil, func(_, _ []byte) error {
			n++
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("app: pending rescans of %s: %w", clientKey, err)
	}
	return n, nil
}

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

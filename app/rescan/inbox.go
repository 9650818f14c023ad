// Package rescan keeps the tenants' seat data fresh (DESIGN.md §8): it
// records which accounts changed (Jira's user webhooks, Forge user events,
// the org audit log polled or pushed), rescans them in place after a short
// debounce, escalates to a full scan when too many are pending, runs the
// scheduled full scans, and lists the seats that came in since the last
// full scan.
package rescan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seatlens/seatlens/app/webhook"
	"github.com/seatlens/seatlens/store"
)

// Per-tenant buckets.
const (
	// PendingBucket holds the accounts awaiting a targeted rescan: one key
	// per account, so repeated deliveries coalesce.
	PendingBucket = "rescan-pending"
	// seenBucket remembers the deliveries and audit events already taken,
	// by their identity, so a retry or an event both polled and pushed
	// counts once.
	seenBucket = "rescan-seen"
	// logBucket lists the targeted rescans done, by sequence.
	logBucket = "rescans"
)

// Causes of a rescan.
const (
	CauseWebhook   = "webhook"     // Jira's user_* webhooks
	CauseForge     = "forge-event" // Forge's avi:jira:*:user events
	CauseAuditLog  = "audit-log"   // the org audit log, polled
	CauseAuditHook = "audit-hook"  // the org audit log, pushed by its webhook
	// CausePersonalData: Atlassian's personal data reporting answered
	// "updated": the stored copy is stale.
	CausePersonalData = "personal-data"
)

// Hint is one reason an account is pending: what happened, through
// which group, and when. Hints say how a new seat came in.
type Hint struct {
	Cause   string    `json:"cause"`
	Event   string    `json:"event"` // webhook event, Forge event or audit action
	GroupID string    `json:"groupId,omitempty"`
	At      time.Time `json:"at"`
}

// maxHints bounds what one pending account keeps: the newest win.
const maxHints = 8

// Pending is an account awaiting a targeted rescan.
type Pending struct {
	AccountID string    `json:"accountId"`
	Hints     []Hint    `json:"hints"`
	FirstAt   time.Time `json:"firstAt"`
	LastAt    time.Time `json:"lastAt"` // the debounce runs from here
	// Deliveries counts what named this account, duplicates included;
	// Duplicates those already taken.
	Deliveries int `json:"deliveries"`
	Duplicates int `json:"duplicates"`
}

// Inbox records the accounts to rescan, durably; it is the webhook
// handlers' and the Forge entry points' webhook.Inbox.
type Inbox struct {
	Store *store.Store
	Now   func() time.Time
	// Notify, when set, hears of each tenant with new work (the worker).
	Notify func(clientKey string)
	// Metrics, when set, counts deliveries by source and outcome.
	Metrics interface {
		Delivery(source, outcome string)
	}
}

func (i *Inbox) now() time.Time {
	if i.Now != nil {
		return i.Now().UTC()
	}
	return time.Now().UTC()
}

// Mark is one account named by one delivery or event.
type Mark struct {
	AccountID string
	// Key identifies the delivery or event, so that a second copy is
	// known (empty: none, always taken).
	Key  string
	Hint Hint
}

// MarkPending records a webhook delivery or a Forge event
// (webhook.Inbox). A delivery Jira retries carries the same event, user
// and timestamp, which is its identity.
func (i *Inbox) MarkPending(ctx context.Context, clientKey string, e webhook.Event) error {
	cause := CauseWebhook
	if strings.HasPrefix(e.Name, "avi:") {
		cause = CauseForge
	}
	at := e.ReceivedAt
	if e.Timestamp > 0 {
		at = time.UnixMilli(e.Timestamp).UTC()
	}
	key := ""
	if e.Timestamp > 0 {
		key = cause + "/" + e.Name + "/" + e.AccountID + "/" + strconv.FormatInt(e.Timestamp, 10)
	}
	_, err := i.Mark(ctx, clientKey, cause, []Mark{{AccountID: e.AccountID, Key: key, Hint: Hint{Cause: cause, Event: e.Name, At: at}}})
	return err
}

// Mark records accounts to rescan in one transaction and returns how many
// accounts a new delivery (not a duplicate) named.
func (i *Inbox) Mark(ctx context.Context, clientKey, source string, marks []Mark) (int, error) {
	now := i.now()
	taken, dups := 0, 0
	accounts := map[string]bool{}
	err := i.Store.Update(ctx, func(tx store.Tx) error {
		taken, dups = 0, 0
		clear(accounts)
		for _, m := range marks {
			if _, err := tx.Get(clientKey, erasedBucket, erasedKey(m.AccountID)); err == nil {
				continue // erased: nothing of it is stored again
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
			dup := false
			if m.Key != "" {
				if _, err := tx.Get(clientKey, seenBucket, []byte(m.Key)); err == nil {
					dup = true
				} else if !errors.Is(err, store.ErrNotFound) {
					return err
				} else if err := tx.Put(clientKey, seenBucket, []byte(m.Key), timeValue(now)); err != nil {
					return err
				}
			}
			if dup {
				dups++
			} else {
				taken++
				accounts[m.AccountID] = true
			}
			var p Pending
			v, err := tx.Get(clientKey, PendingBucket, []byte(m.AccountID))
			switch {
			case err == nil:
				if err := json.Unmarshal(v, &p); err != nil {
					return fmt.Errorf("rescan: decode pending %s: %w", m.AccountID, err)
				}
			case errors.Is(err, store.ErrNotFound):
				if dup {
					continue // taken before and rescanned since: nothing to do
				}
				p = Pending{AccountID: m.AccountID, FirstAt: now}
			default:
				return err
			}
			p.Deliveries++
			if dup {
				p.Duplicates++
			} else {
				p.LastAt = now
				p.Hints = append(p.Hints, m.Hint)
				if len(p.Hints) > maxHints {
					p.Hints = p.Hints[len(p.Hints)-maxHints:]
				}
			}
			if v, err = json.Marshal(p); err != nil {
				return fmt.Errorf("rescan: encode pending: %w", err)
			}
			if err := tx.Put(clientKey, PendingBucket, []byte(m.AccountID), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("rescan: record %d accounts of %s: %w", len(marks), clientKey, err)
	}
	if i.Metrics != nil {
		for range taken {
			i.Metrics.Delivery(source, "taken")
		}
		for range dups {
			i.Metrics.Delivery(source, "duplicate")
		}
	}
	if taken > 0 && i.Notify != nil {
		i.Notify(clientKey)
	}
	return len(accounts), nil
}

// Pending counts the tenant's accounts awaiting a targeted rescan.
func (i *Inbox) Pending(ctx context.Context, clientKey string) (int, error) {
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

// PendingList lists the tenant's pending accounts in account order.
func (i *Inbox) PendingList(ctx context.Context, clientKey string, limit int) ([]Pending, error) {
	var out []Pending
	err := i.Store.View(ctx, func(tx store.Tx) error {
		return tx.Each(clientKey, PendingBucket, nil, func(_, v []byte) error {
			var p Pending
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("rescan: decode pending: %w", err)
			}
			out = append(out, p)
			if limit > 0 && len(out) >= limit {
				return store.ErrStop
			}
			return nil
		})
	})
	return out, err
}

func timeValue(t time.Time) []byte { return []byte(t.UTC().Format(time.RFC3339Nano)) }

// counter is a map of counts safe for concurrent use.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) set(k string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	if n == 0 {
		delete(c.m, k)
		return
	}
	c.m[k] = n
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

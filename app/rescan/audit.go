package rescan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/app/webhook"
	"github.com/seatlens/seatlens/store"
)

// auditBucket holds a tenant's audit-log polling state.
const (
	auditBucket   = "audit-log"
	auditStateKey = "state"
)

// DefaultAuditInterval is --audit-poll-interval's default (DESIGN.md §8).
const DefaultAuditInterval = time.Minute

// maxAuditEvents bounds one poll of one tenant; the rest waits for the
// next poll, so a backlog never holds the poller.
const maxAuditEvents = 5000

// AuditState is where a tenant's audit-log polling stands.
type AuditState struct {
	// From is the time of the newest event taken: the next poll asks from
	// there (the events at that millisecond again, known by their ids).
	From     time.Time `json:"from"`
	PolledAt time.Time `json:"polledAt"`
	Events   int       `json:"events"`   // events read, in all
	Accounts int       `json:"accounts"` // accounts they named, in all
	Error    string    `json:"error,omitempty"`
}

// AuditLogs gives the org API client of a tenant with an org key.
type AuditLogs interface {
	AuditLog(ctx context.Context, clientKey string) (c *atlassian.Client, orgID string, ok bool, err error)
}

// Latest gives a tenant's latest finished scan (for where polling starts).
type Latest interface {
	Scan(ctx context.Context, clientKey, id string) (scan.Record, error)
}

// Poller reads the org audit log of every tenant with an org key and
// marks the accounts its events name.
type Poller struct {
	Inbox    *Inbox
	Orgs     AuditLogs
	Scans    Latest
	Interval time.Duration
	Logger   zerolog.Logger
	Metrics  interface {
		AuditPoll(outcome string, events int)
	}
}

// Start polls every Interval until ctx ends.
func (p *Poller) Start(ctx context.Context) {
	if p.Interval <= 0 {
		p.Interval = DefaultAuditInterval
	}
	go every(ctx, p.Interval, nil, func() { p.PollAll(ctx) })
}

// every calls fn each period, and each time wake fires, until ctx ends.
func every(ctx context.Context, period time.Duration, wake <-chan struct{}, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
		fn()
	}
}

// PollAll polls every installed tenant once.
func (p *Poller) PollAll(ctx context.Context) {
	tenants, err := p.Inbox.Store.Tenants(ctx)
	if err != nil {
		p.Logger.Error().Err(err).Msg("rescan: list tenants for the audit log")
		return
	}
	for _, t := range tenants {
		if !t.Installed || ctx.Err() != nil {
			continue
		}
		if _, err := p.Poll(ctx, t.ClientKey); err != nil && ctx.Err() == nil {
			p.Logger.Warn().Err(err).Str("client_key", t.ClientKey).Msg("rescan: audit log poll failed")
		}
	}
}

// Poll reads one tenant's audit log from where it stands and returns the
// number of accounts marked; a tenant without an org key is skipped.
func (p *Poller) Poll(ctx context.Context, clientKey string) (int, error) {
	c, orgID, ok, err := p.Orgs.AuditLog(ctx, clientKey)
	if err != nil || !ok {
		return 0, err
	}
	st, err := p.state(ctx, clientKey)
	if err != nil {
		return 0, err
	}
	if st.From.IsZero() {
		// The first poll starts where the latest scan started: what came
		// before, the scan read.
		rec, err := p.Scans.Scan(ctx, clientKey, scan.Latest)
		switch {
		case err == nil && rec.StartedAt != nil:
			st.From = *rec.StartedAt
		case err == nil || errors.Is(err, scan.ErrNoScan):
			st.From = p.Inbox.now()
		default:
			return 0, err
		}
	}
	var events []atlassian.AuditEvent
	stop := errors.New("enough")
	err = c.EventsSince(ctx, orgID, st.From, func(page []atlassian.AuditEvent) error {
		events = append(events, page...)
		if len(events) >= maxAuditEvents {
			return stop
		}
		return nil
	})
	if errors.Is(err, stop) {
		err = nil
	}
	st.PolledAt = p.Inbox.now()
	if err != nil {
		st.Error = atlassian.Printable(err.Error())
		if p.Metrics != nil {
			p.Metrics.AuditPoll("failed", 0)
		}
		if serr := p.save(ctx, clientKey, st); serr != nil {
			return 0, serr
		}
		return 0, fmt.Errorf("rescan: poll the audit log of %s: %w", clientKey, err)
	}
	st.Error = ""
	n, newest, err := p.Inbox.MarkAudit(ctx, clientKey, CauseAuditLog, events, st.From)
	if err != nil {
		return 0, err
	}
	if newest.After(st.From) {
		st.From = newest
	}
	st.Events += len(events)
	st.Accounts += n
	if p.Metrics != nil {
		p.Metrics.AuditPoll("ok", len(events))
	}
	return n, p.save(ctx, clientKey, st)
}

// AuditState returns where a tenant's polling stands (zero before the
// first poll).
func (p *Poller) AuditState(ctx context.Context, clientKey string) (AuditState, error) {
	return p.state(ctx, clientKey)
}

func (p *Poller) state(ctx context.Context, clientKey string) (AuditState, error) {
	var st AuditState
	v, err := p.Inbox.Store.TenantGet(ctx, clientKey, auditBucket, []byte(auditStateKey))
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(v, &st); err != nil {
		return st, fmt.Errorf("rescan: decode audit state: %w", err)
	}
	return st, nil
}

func (p *Poller) save(ctx context.Context, clientKey string, st AuditState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("rescan: encode audit state: %w", err)
	}
	return p.Inbox.Store.TenantPut(ctx, clientKey, auditBucket, []byte(auditStateKey), v)
}

// MarkAudit marks the accounts that audit events name, each (event,
// account) once whether it was polled, pushed or both; events older than
// notBefore are only counted. It returns the accounts newly marked and
// the newest event's time.
func (i *Inbox) MarkAudit(ctx context.Context, clientKey, cause string, events []atlassian.AuditEvent, notBefore time.Time) (int, time.Time, error) {
	var marks []Mark
	var newest time.Time
	for _, e := range events {
		at := e.Attributes.Time.Time
		if at.After(newest) {
			newest = at
		}
		if e.ID == "" || !touchesSeats(e.Attributes.Action) || (!notBefore.IsZero() && at.Before(notBefore.Truncate(time.Millisecond))) {
			continue
		}
		group := ""
		for _, c := range e.Attributes.Context {
			if isGroupType(c.Type) {
				group = c.ID
			}
		}
		for _, c := range e.Attributes.Context {
			if !isUserType(c.Type) || webhook.CheckAccountID(c.ID) != nil {
				continue
			}
			marks = append(marks, Mark{AccountID: c.ID, Key: "audit/" + e.ID + "/" + c.ID,
				Hint: Hint{Cause: cause, Event: e.Attributes.Action, GroupID: group, At: at.UTC()}})
		}
	}
	if len(marks) == 0 {
		return 0, newest, nil
	}
	n, err := i.Mark(ctx, clientKey, cause, marks)
	return n, newest, err
}

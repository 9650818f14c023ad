package rescan

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/scan"
	"github.com/seatlens/seatlens/store"
)

// CauseSchedule is the cause of a scheduled full scan.
const CauseSchedule = "schedule"

// Schedules: Settings' schedule values and their periods.
var schedulePeriods = map[string]time.Duration{"daily": 24 * time.Hour, "weekly": 7 * 24 * time.Hour}

// defaultScheduleTick is how often the scheduler looks.
const defaultScheduleTick = 5 * time.Minute

// Scheduler queues each tenant's full scan when its schedule says it is
// due: a day or a week after the tenant's last scan was queued, whatever
// queued it. Without an org key this is what keeps group and product
// changes from going unseen; with one it catches what no event names
// (a new group, say).
type Scheduler struct {
	Store *store.Store
	Scans interface {
		Scans(ctx context.Context, clientKey string) ([]scan.Record, error)
		Enqueue(ctx context.Context, clientKey, cause string) (scan.Record, error)
	}
	// ScheduleOf reads a tenant's schedule setting (daily, weekly, off).
	ScheduleOf func(ctx context.Context, clientKey string) (string, error)
	Now        func() time.Time
	Tick       time.Duration
	Logger     zerolog.Logger
}

// Start looks every Tick until ctx ends.
func (s *Scheduler) Start(ctx context.Context) {
	if s.Tick <= 0 {
		s.Tick = defaultScheduleTick
	}
	go every(ctx, s.Tick, nil, func() {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn().Err(err).Msg("rescan: scheduled scans")
		}
	})
}

// RunDue queues the scans that are due and returns the tenants queued.
func (s *Scheduler) RunDue(ctx context.Context) ([]string, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	tenants, err := s.Store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	var queued []string
	var errs []error
	for _, t := range tenants {
		if !t.Installed {
			continue
		}
		due, err := s.due(ctx, t.ClientKey, now())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !due {
			continue
		}
		if _, err := s.Scans.Enqueue(ctx, t.ClientKey, CauseSchedule); err != nil && !errors.Is(err, scan.ErrScanRunning) {
			errs = append(errs, err)
			continue
		}
		queued = append(queued, t.ClientKey)
	}
	return queued, errors.Join(errs...)
}

// RunTenant queues one tenant's scan if it is due (the Forge scheduled
// trigger's turn); queued says whether it did.
func (s *Scheduler) RunTenant(ctx context.Context, clientKey string) (queued bool, err error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	due, err := s.due(ctx, clientKey, now())
	if err != nil || !due {
		return false, err
	}
	if _, err := s.Scans.Enqueue(ctx, clientKey, CauseSchedule); err != nil && !errors.Is(err, scan.ErrScanRunning) {
		return false, err
	}
	return true, nil
}

func (s *Scheduler) due(ctx context.Context, clientKey string, now time.Time) (bool, error) {
	sched, err := s.ScheduleOf(ctx, clientKey)
	if err != nil {
		return false, err
	}
	period, ok := schedulePeriods[sched]
	if !ok {
		return false, nil // off
	}
	recs, err := s.Scans.Scans(ctx, clientKey)
	if err != nil || len(recs) == 0 {
		return false, err // the install queues the first scan
	}
	last := recs[0]
	if last.State == scan.StateQueued || last.State == scan.StateRunning {
		return false, nil
	}
	return !last.QueuedAt.Add(period).After(now), nil
}

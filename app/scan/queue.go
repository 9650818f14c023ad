package scan

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/store"
)

// Scan states (DESIGN.md §9a).
const (
	StateQueued  = "queued"
	StateRunning = "running"
	StateDone    = "done"
	StateFailed  = "failed"
)

// Why a scan was queued.
const (
	CauseInstall = "install"
	CauseRequest = "request"
	CauseStart   = "start" // the demo scans its site at start
)

// Store layout, per tenant: one record per scan in recordsBucket keyed by
// its sequence number (8 bytes, big-endian, so keys sort by age), and the
// findings of a finished scan in the bucket findingsPrefix+id: headKey
// holds the document without its users, userPrefix+accountId each user.
// One user or one page is then read without the whole document.
const (
	recordsBucket  = "scans"
	findingsPrefix = "scan-"
	headKey        = "head"
	userPrefix     = "u/"
)

// ErrScanRunning is returned by Enqueue when the tenant already has a scan
// queued or running; the record returned is that scan.
var ErrScanRunning = errors.New("scan: a scan is already queued or running")

// ErrNoScan is returned when the scan asked for does not exist (or, for
// "latest", when no scan has finished yet).
var ErrNoScan = errors.New("scan: no such scan")

// Record is a scan as the API shows it.
type Record struct {
	ID        string     `json:"id"`
	State     string     `json:"state"`
	Cause     string     `json:"cause"`
	Phase     string     `json:"phase,omitempty"`
	Done      int        `json:"done"`
	Total     int        `json:"total"`
	Calls     int        `json:"calls"`
	Points    int        `json:"points"`
	QueuedAt  time.Time  `json:"queuedAt"`
	StartedAt *time.Time `json:"startedAt"`
	EndedAt   *time.Time `json:"endedAt"`
	// Error is why a failed scan failed: a stable code (a FailureKind) and
	// a sentence a person can act on.
	Error *RecordError `json:"error"`
	// Credentials are the credentials the scan read with; Unknown what
	// the missing ones left unknown (billing.Unknown*).
	Credentials []string        `json:"credentials"`
	Unknown     []string        `json:"unknown,omitempty"`
	Totals      *billing.Totals `json:"totals,omitempty"`
	// Attempts counts starts: a scan a restart interrupted is run again
	// once, then ends failed.
	Attempts int `json:"attempts"`
	// Refreshed counts the targeted rescans that updated this scan's
	// findings since it ended; RefreshedAt is the last one's time.
	Refreshed   int        `json:"refreshed,omitempty"`
	RefreshedAt *time.Time `json:"refreshedAt,omitempty"`
}

// RecordError is the error of a failed scan.
type RecordError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// maxAttempts is how often a scan is started before a restart that
// interrupts it ends it as failed.
const maxAttempts = 2

// Preparer builds the job of one scan of a tenant from the credentials it
// holds: the app's side of a scan. The site and org id are used in
// failure messages.
type Preparer interface {
	Prepare(ctx context.Context, clientKey string) (job Job, site string, err error)
}

// QueueConfig configures a Queue.
type QueueConfig struct {
	Store    *store.Store
	Prepare  Preparer
	Workers  int // scans at once across tenants; 0: 2
	Keep     int // scans kept per tenant; 0: 10
	Logger   zerolog.Logger
	Now      func() time.Time
	Interval time.Duration // how often a running scan checks that its tenant is still installed; 0: 5 s
	// Recorder, when set, writes each scan's end to the proof chain in the
	// same transaction as the scan's record.
	Recorder interface {
		RecordTx(tx store.Tx, clientKey, kind, actor, subject string, data map[string]any) error
	}
	// Ended, when set, hears of every scan's end (metrics, new seats).
	Ended func(clientKey string, rec Record)
}

// Queue runs the scans of every tenant: durable in the store, one scan per
// tenant at a time, tenants served in turn by a fixed number of workers.
type Queue struct {
	cfg QueueConfig

	mu      sync.Mutex
	ready   []string        // tenants with a queued scan, in the order they queued
	waiting map[string]bool // tenants in ready
	running map[string]*live
	wake    chan struct{}
	index   indexCache
}

// live is what a running scan reports while it runs.
type live struct {
	refresh  bool // a targeted rescan, not a scan
	id       string
	progress Progress
	job      *Job
}

// NewQueue builds a queue; Start runs it.
func NewQueue(cfg QueueConfig) (*Queue, error) {
	if cfg.Store == nil || cfg.Prepare == nil {
		return nil, errors.New("scan: a queue needs a store and a preparer")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	return &Queue{cfg: cfg, waiting: map[string]bool{}, running: map[string]*live{}, wake: make(chan struct{}, 1)}, nil
}

func recordKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

func keyOf(id string) ([]byte, bool) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return nil, false
	}
	return recordKey(seq), true
}

// Enqueue queues a full scan of a tenant. If one is already queued or
// running it returns that one and ErrScanRunning.
func (q *Queue) Enqueue(ctx context.Context, clientKey, cause string) (Record, error) {
	var rec Record
	var running bool
	err := q.cfg.Store.Update(ctx, func(tx store.Tx) error {
		last, ok, err := newest(tx, clientKey, nil)
		if err != nil {
			return err
		}
		if ok && (last.State == StateQueued || last.State == StateRunning) {
			rec, running = last, true
			return nil
		}
		seq, err := tx.NextSeq(clientKey, recordsBucket)
		if err != nil {
			return err
		}
		rec = Record{ID: strconv.FormatUint(seq, 10), State: StateQueued, Cause: cause, QueuedAt: q.cfg.Now().UTC(), Credentials: []string{}}
		return putRecord(tx, clientKey, rec)
	})
	if err != nil {
		return Record{}, fmt.Errorf("scan: enqueue for %s: %w", clientKey, err)
	}
	if running {
		return q.overlay(clientKey, rec), ErrScanRunning
	}
	q.push(clientKey)
	return rec, nil
}

// newest returns the newest record matching keep (nil: any).
func newest(tx store.Tx, clientKey string, keep func(Record) bool) (Record, bool, error) {
	var out Record
	found := false
	err := tx.EachReverse(clientKey, recordsBucket, nil, func(_, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("scan: decode scan record: %w", err)
		}
		if keep == nil || keep(r) {
			out, found = r, true
			return store.ErrStop
		}
		return nil
	})
	return out, found, err
}

func putRecord(tx store.Tx, clientKey string, r Record) error {
	key, ok := keyOf(r.ID)
	if !ok {
		return fmt.Errorf("scan: bad scan id %q", r.ID)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("scan: encode scan record: %w", err)
	}
	return tx.Put(clientKey, recordsBucket, key, v)
}

func (q *Queue) push(clientKey string) {
	q.mu.Lock()
	if !q.waiting[clientKey] {
		q.waiting[clientKey] = true
		q.ready = append(q.ready, clientKey)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next takes the first waiting tenant that has no scan running.
func (q *Queue) next() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, ck := range q.ready {
		if q.running[ck] != nil {
			continue
		}
		q.ready = append(q.ready[:i:i], q.ready[i+1:]...)
		delete(q.waiting, ck)
		q.running[ck] = &live{}
		return ck, true
	}
	return "", false
}

// Start recovers what a previous process left (a scan it was running is
// queued again, or ends failed after maxAttempts starts), then runs the
// workers until ctx ends. It returns once recovery is done.
func (q *Queue) Start(ctx context.Context) error {
	tenants, err := q.cfg.Store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("scan: recover the queue: %w", err)
	}
	for _, t := range tenants {
		var queued bool
		err := q.cfg.Store.Update(ctx, func(tx store.Tx) error {
			queued = false
			return tx.Each(t.ClientKey, recordsBucket, nil, func(k, v []byte) error {
				var r Record
				if err := json.Unmarshal(v, &r); err != nil {
					return fmt.Errorf("scan: decode scan record: %w", err)
				}
				switch r.State {
				case StateQueued:
					queued = t.Installed
				case StateRunning:
					if r.Attempts >= maxAttempts || !t.Installed {
						end := q.cfg.Now().UTC()
						r.State, r.EndedAt = StateFailed, &end
						r.Error = &RecordError{Code: string(FailInterrupted), Message: "the server stopped during this scan " + strconv.Itoa(r.Attempts) + " times; start a new scan"}
					} else {
						r.State, queued = StateQueued, true
					}
					return putRecord(tx, t.ClientKey, r)
				}
				return nil
			})
		})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("scan: recover the queue of %s: %w", t.ClientKey, err)
		}
		if queued {
			q.push(t.ClientKey)
		}
	}
	for range q.cfg.Workers {
		go q.work(ctx)
	}
	return nil
}

func (q *Queue) work(ctx context.Context) {
	for {
		ck, ok := q.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-q.wake:
				continue
			}
		}
		q.runOne(ctx, ck)
		q.mu.Lock()
		delete(q.running, ck)
		q.mu.Unlock()
		// Another worker may be waiting for this tenant's next scan.
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// runOne runs the tenant's queued scan.
func (q *Queue) runOne(ctx context.Context, clientKey string) {
	log := q.cfg.Logger.With().Str("client_key", clientKey).Logger()
	var rec Record
	found := false
	err := q.cfg.Store.Update(ctx, func(tx store.Tx) error {
		r, ok, err := newest(tx, clientKey, func(r Record) bool { return r.State == StateQueued })
		if err != nil || !ok {
			return err
		}
		start := q.cfg.Now().UTC()
		r.State, r.StartedAt, r.Attempts = StateRunning, &start, r.Attempts+1
		rec, found = r, true
		return putRecord(tx, clientKey, r)
	})
	if err != nil || !found {
		if err != nil && ctx.Err() == nil {
			log.Error().Err(err).Msg("scan: could not start a queued scan")
		}
		return
	}
	lv := &live{id: rec.ID}
	q.mu.Lock()
	q.running[clientKey] = lv
	q.mu.Unlock()

	scanCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	job, site, err := q.cfg.Prepare.Prepare(scanCtx, clientKey)
	if err != nil {
		q.finish(ctx, clientKey, rec, nil, nil, Classify(err), site, "")
		return
	}
	job.Source.Progress = func(p Progress) {
		q.mu.Lock()
		lv.progress = p
		q.mu.Unlock()
	}
	q.mu.Lock()
	lv.job = &job
	q.mu.Unlock()
	go q.watchTenant(scanCtx, clientKey, cancel)
	res, err := Run(scanCtx, job)
	rec.Calls, rec.Points = job.calls(), job.points()
	if err != nil {
		if ctx.Err() != nil {
			return // the server is stopping: the record stays running and is recovered at the next start
		}
		q.finish(ctx, clientKey, rec, nil, nil, Classify(err), site, job.Source.OrgID)
		return
	}
	rec.Calls, rec.Points = res.Calls, res.Points
	q.finish(ctx, clientKey, rec, res.Findings, res.Basis, nil, site, job.Source.OrgID)
	log.Info().Str("scan", rec.ID).Int("users", res.Findings.Totals.Users).Int("calls", res.Calls).
		Dur("took", res.Collected+res.Explained).Msg("scan done")
}

// watchTenant cancels a scan whose tenant is uninstalled meanwhile.
func (q *Queue) watchTenant(ctx context.Context, clientKey string, cancel context.CancelFunc) {
	t := time.NewTicker(q.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !q.installed(ctx, clientKey) {
				cancel()
				return
			}
		}
	}
}

func (q *Queue) installed(ctx context.Context, clientKey string) bool {
	t, err := q.cfg.Store.Tenant(ctx, clientKey)
	return err == nil && t.Installed
}

// finish records a scan's end: its findings and the done record in one
// transaction, or the failure. An uninstalled tenant's scan writes
// nothing but its failed record (and nothing at all once purged).
func (q *Queue) finish(ctx context.Context, clientKey string, rec Record, f *billing.Findings, basis *Basis, fail *Failure, site, orgID string) {
	end := q.cfg.Now().UTC()
	rec.EndedAt = &end
	if fail == nil && !q.installed(ctx, clientKey) {
		f, fail = nil, &Failure{Kind: FailInterrupted, Err: errors.New("the app was uninstalled")}
	}
	if fail != nil {
		rec.State = StateFailed
		rec.Error = &RecordError{Code: string(fail.Kind), Message: fail.Message(site, orgID)}
		q.cfg.Logger.Warn().Str("client_key", clientKey).Str("scan", rec.ID).Str("code", rec.Error.Code).
			Str("error", rec.Error.Message).Msg("scan failed")
		if fail.Kind == FailInterrupted && !q.installed(ctx, clientKey) {
			rec.Error.Message = "the scan stopped: the app was uninstalled from the site; nothing was kept"
		}
	} else {
		rec.State = StateDone
		totals := f.Totals
		rec.Totals = &totals
		rec.Credentials = f.Sources.Credentials
		rec.Unknown = f.Sources.Unknown
		rec.Done, rec.Total, rec.Phase = 0, 0, ""
	}
	// The seat index is built before the scan is recorded done, so the
	// first page asked for once it is done comes from memory.
	// (Kept even if the write fails: it is used only once the record
	// says done.)
	if f != nil {
		q.index.put([2]string{clientKey, rec.ID}, indexOf(rec.ID, f))
	}
	err := q.cfg.Store.Update(ctx, func(tx store.Tx) error {
		if f != nil {
			if err := saveFindings(tx, clientKey, rec.ID, f); err != nil {
				return err
			}
			if err := saveBasis(tx, clientKey, rec.ID, basis); err != nil {
				return err
			}
		}
		if err := putRecord(tx, clientKey, rec); err != nil {
			return err
		}
		if q.cfg.Recorder != nil {
			data := map[string]any{"scan": rec.ID, "state": rec.State, "calls": rec.Calls, "credentials": rec.Credentials}
			if rec.Totals != nil {
				data["billableSeats"], data["removable"] = rec.Totals.BillableSeats, rec.Totals.Removable
			}
			if rec.Error != nil {
				data["error"] = rec.Error.Code
			}
			if err := q.cfg.Recorder.RecordTx(tx, clientKey, "scan."+rec.State, "", "", data); err != nil {
				return err
			}
		}
		return q.prune(tx, clientKey)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		q.cfg.Logger.Error().Err(err).Str("client_key", clientKey).Str("scan", rec.ID).Msg("scan: could not record the scan's end")
		return
	}
	if q.cfg.Ended != nil && err == nil {
		q.cfg.Ended(clientKey, rec)
	}
}

// Depth is how many tenants have a scan waiting to start and how many
// have one running (targeted rescans not counted).
func (q *Queue) Depth() (queued, running int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, lv := range q.running {
		if !lv.refresh {
			running++
		}
	}
	return len(q.ready), running
}

// saveFindings writes the findings of scan id: the head, then each user.
func saveFindings(tx store.Tx, clientKey, id string, f *billing.Findings) error {
	if err := putHead(tx, clientKey, id, f); err != nil {
		return err
	}
	for i := range f.Users {
		if err := putUser(tx, clientKey, id, &f.Users[i]); err != nil {
			return err
		}
	}
	return nil
}

// putHead writes a scan's findings without their users.
func putHead(tx store.Tx, clientKey, id string, f *billing.Findings) error {
	head := *f
	head.Users = []billing.UserFindings{}
	v, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("scan: encode findings: %w", err)
	}
	return tx.Put(clientKey, findingsPrefix+id, []byte(headKey), v)
}

// putUser writes one user's findings of a scan.
func putUser(tx store.Tx, clientKey, id string, u *billing.UserFindings) error {
	v, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("scan: encode findings of %s: %w", u.AccountID, err)
	}
	return tx.Put(clientKey, findingsPrefix+id, []byte(userPrefix+u.AccountID), v)
}

// prune keeps the newest Keep finished scans of a tenant.
func (q *Queue) prune(tx store.Tx, clientKey string) error {
	kept := 0
	var drop []Record
	err := tx.EachReverse(clientKey, recordsBucket, nil, func(_, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("scan: decode scan record: %w", err)
		}
		if r.State == StateQueued || r.State == StateRunning {
			return nil
		}
		kept++
		if kept > q.cfg.Keep {
			drop = append(drop, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range drop {
		key, _ := keyOf(r.ID)
		if err := tx.Delete(clientKey, recordsBucket, key); err != nil {
			return err
		}
		if err := tx.DeleteBucket(clientKey, findingsPrefix+r.ID); err != nil {
			return err
		}
	}
	return nil
}

// overlay adds a running scan's live progress to its record.
func (q *Queue) overlay(clientKey string, r Record) Record {
	if r.State != StateRunning {
		return r
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	lv := q.running[clientKey]
	if lv == nil || lv.id != r.ID {
		return r
	}
	r.Phase, r.Done, r.Total = lv.progress.Stage, lv.progress.Done, lv.progress.Total
	if lv.job != nil {
		r.Calls, r.Points = lv.job.calls(), lv.job.points()
	}
	return r
}

// Scans lists a tenant's kept scans, newest first.
func (q *Queue) Scans(ctx context.Context, clientKey string) ([]Record, error) {
	out := []Record{}
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		return tx.EachReverse(clientKey, recordsBucket, nil, func(_, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("scan: decode scan record: %w", err)
			}
			out = append(out, q.overlay(clientKey, r))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("scan: list scans of %s: %w", clientKey, err)
	}
	return out, nil
}

// Latest is the id for the newest finished scan with findings.
const Latest = "latest"

// Scan returns one scan; id may be Latest. ErrNoScan when there is none.
func (q *Queue) Scan(ctx context.Context, clientKey, id string) (Record, error) {
	var out Record
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := findRecord(tx, clientKey, id)
		out = r
		return err
	})
	if err != nil {
		return Record{}, err
	}
	return q.overlay(clientKey, out), nil
}

func findRecord(tx store.Tx, clientKey, id string) (Record, error) {
	if id == Latest {
		r, ok, err := newest(tx, clientKey, func(r Record) bool { return r.State == StateDone })
		if err != nil {
			return Record{}, err
		}
		if !ok {
			return Record{}, ErrNoScan
		}
		return r, nil
	}
	key, ok := keyOf(id)
	if !ok {
		return Record{}, ErrNoScan
	}
	v, err := tx.Get(clientKey, recordsBucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return Record{}, ErrNoScan
	}
	if err != nil {
		return Record{}, err
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return Record{}, fmt.Errorf("scan: decode scan record: %w", err)
	}
	return r, nil
}

// head reads a finished scan's record and its findings without users.
func head(tx store.Tx, clientKey, id string) (Record, *billing.Findings, error) {
	r, err := findRecord(tx, clientKey, id)
	if err != nil {
		return Record{}, nil, err
	}
	if r.State != StateDone {
		return Record{}, nil, ErrNoScan
	}
	raw, err := tx.Get(clientKey, findingsPrefix+r.ID, []byte(headKey))
	if errors.Is(err, store.ErrNotFound) {
		return Record{}, nil, ErrNoScan
	}
	if err != nil {
		return Record{}, nil, err
	}
	var f billing.Findings
	if err := json.Unmarshal(raw, &f); err != nil {
		return Record{}, nil, fmt.Errorf("scan: decode findings: %w", err)
	}
	return r, &f, nil
}

// eachUser decodes the users of scan id in account order.
func eachUser(tx store.Tx, clientKey, id string, fn func(*billing.UserFindings)) error {
	return tx.Each(clientKey, findingsPrefix+id, []byte(userPrefix), func(k, v []byte) error {
		if len(k) < len(userPrefix) || string(k[:len(userPrefix)]) != userPrefix {
			return store.ErrStop
		}
		var u billing.UserFindings
		if err := json.Unmarshal(v, &u); err != nil {
			return fmt.Errorf("scan: decode findings of %s: %w", k[len(userPrefix):], err)
		}
		fn(&u)
		return nil
	})
}

// Findings loads the whole findings document of a finished scan (id may be
// Latest). ErrNoScan when the scan has none.
func (q *Queue) Findings(ctx context.Context, clientKey, id string) (Record, *billing.Findings, error) {
	var rec Record
	var f *billing.Findings
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if rec, f, err = head(tx, clientKey, id); err != nil {
			return err
		}
		f.Users = make([]billing.UserFindings, 0, f.Totals.Users)
		return eachUser(tx, clientKey, rec.ID, func(u *billing.UserFindings) { f.Users = append(f.Users, *u) })
	})
	if err != nil {
		return Record{}, nil, err
	}
	return rec, f, nil
}

// User returns one user's findings of a finished scan without reading the
// others; ErrNoScan when the scan or the user is not there.
func (q *Queue) User(ctx context.Context, clientKey, id, accountID string) (billing.UserFindings, error) {
	var u billing.UserFindings
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := findRecord(tx, clientKey, id)
		if err != nil {
			return err
		}
		v, err := tx.Get(clientKey, findingsPrefix+r.ID, []byte(userPrefix+accountID))
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoScan
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &u)
	})
	return u, err
}

package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/seatlens/seatlens/app/apperr"
)

// States of a review once it runs.
const (
	StateExecuting = "executing"
	StateDone      = "done"
	StatePartial   = "partial"
	StateUndoing   = "undoing"
)

// Outcomes of an item.
const (
	OutcomePending     = "pending"
	OutcomeRemoved     = "removed"
	OutcomeSkipped     = "skipped"
	OutcomeFailed      = "failed"
	OutcomeCompensated = "compensated" // a later removal failed; the earlier ones were put back
	OutcomeUndoing     = "undoing"
	OutcomeUndone      = "undone"
	OutcomeUndoFailed  = "undo-failed"
)

// Action is one membership removal of an item's plan. Its state is
// written before and after the call, so a process that dies in between
// knows the call may have happened and checks instead of guessing.
type Action struct {
	GroupID   string `json:"groupId"`
	GroupName string `json:"groupName"`
	// State: planned → removing → removed | failed; removed → readding →
	// readded | failed (compensation).
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Credential is the credential the last call of the action used
	// (org-key or forge-app-token).
	Credential string `json:"credential,omitempty"`
}

// Action states.
const (
	ActPlanned  = "planned"
	ActRemoving = "removing"
	ActRemoved  = "removed"
	ActFailed   = "failed"
	ActReadding = "readding"
	ActReadded  = "readded"
)

// Current is an account as the site has it now.
type Current struct {
	Exists bool
	Groups map[string]bool // group IDs it belongs to
	// Products the account holds a role on now; nil when the credential
	// cannot tell.
	Products map[string]bool
	// LastActive per product, where known.
	LastActive map[string]time.Time
}

// Cleaner changes one tenant's memberships with a credential that may:
// the org key (the Organizations API, Atlassian's documented path) or the
// Forge app token (product REST).
type Cleaner interface {
	Credential() string
	Current(ctx context.Context, accountID string) (Current, error)
	// Synced says whether a group is synced from an identity provider now.
	Synced(ctx context.Context, groupID string) (bool, error)
	Remove(ctx context.Context, groupID, accountID string) error
	Add(ctx context.Context, groupID, accountID string) error
}

// Cleaners builds a tenant's Cleaner; an apperr with code
// no-cleanup-credential when the tenant holds neither credential.
type Cleaners interface {
	Cleaner(ctx context.Context, clientKey string) (Cleaner, error)
}

// Executor runs approved reviews, durably: every action's intent and
// outcome are in the store around its call, and Resume carries on what a
// stopped process left.
type Executor struct {
	Reviews  *Service
	Cleaners Cleaners
	Workers  int // items at once per review; 0: 4
	Logger   zerolog.Logger

	mu      sync.Mutex
	running map[[2]string]bool
	ctx     context.Context
}

// Start resumes every review a previous process left executing; the runs
// last as long as ctx.
func (e *Executor) Start(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	tenants, err := e.Reviews.Store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("review: resume: %w", err)
	}
	for _, t := range tenants {
		list, err := e.Reviews.List(ctx, t.ClientKey)
		if err != nil {
			continue // a purged tenant
		}
		for _, r := range list {
			if r.State == StateExecuting || r.State == StateUndoing {
				e.launch(t.ClientKey, r.ID)
			}
		}
	}
	return nil
}

// Execute starts an approved review; it answers once the run is recorded
// and runs in the background. Like an approval, it is never the
// submitter's, and where approvers are named only theirs.
func (e *Executor) Execute(ctx context.Context, clientKey, id, by string, approvers []string) (*Review, error) {
	const op = "review.Execute"
	if _, err := e.Cleaners.Cleaner(ctx, clientKey); err != nil {
		return nil, err
	}
	r, err := e.Reviews.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateApproved {
			return wrongState(r, StateApproved)
		}
		if by == r.SubmittedBy {
			return apperr.WithCode(op, apperr.Forbidden, "self-approval", "You submitted this review: an approver executes it.", nil)
		}
		if len(approvers) > 0 && !slices.Contains(approvers, by) {
			return apperr.WithCode(op, apperr.Forbidden, "not-an-approver", "Only the approvers named in Settings may execute reviews.", nil)
		}
		at := e.Reviews.now()
		r.State, r.ExecutedBy, r.ExecutedAt = StateExecuting, by, &at
		for i := range r.Items {
			it := &r.Items[i]
			it.Actions = nil
			for _, p := range it.Plan {
				it.Actions = append(it.Actions, Action{GroupID: p.GroupID, GroupName: p.GroupName, State: ActPlanned})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !e.launch(clientKey, id) {
		return nil, apperr.E(op, apperr.Unavailable, "The server is stopping; the review runs when it starts again.", nil)
	}
	return r, nil
}

func (e *Executor) launch(clientKey, id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil || e.ctx.Err() != nil {
		return false
	}
	if e.running == nil {
		e.running = map[[2]string]bool{}
	}
	k := [2]string{clientKey, id}
	if e.running[k] {
		return true
	}
	e.running[k] = true
	go func() {
		defer func() {
			e.mu.Lock()
			delete(e.running, k)
			e.mu.Unlock()
		}()
		if err := e.run(e.ctx, clientKey, id); err != nil && e.ctx.Err() == nil {
			e.Logger.Error().Err(err).Str("client_key", clientKey).Str("review", id).Msg("review: execution stopped")
		}
	}()
	return true
}

// run carries out every pending item, then records the review's end.
func (e *Executor) run(ctx context.Context, clientKey, id string) error {
	r, err := e.Reviews.Get(ctx, clientKey, id)
	if err != nil {
		return err
	}
	cl, err := e.Cleaners.Cleaner(ctx, clientKey)
	if err != nil {
		// The credential went away since the review started: every item
		// not yet begun fails with the reason; begun ones wait for it.
		// Items not begun fail with the reason; a removal that may have
		// happened stays to be settled once a credential is back.
		_, cerr := e.Reviews.change(ctx, clientKey, id, func(r *Review) error {
			unsettled := false
			for i := range r.Items {
				it := &r.Items[i]
				switch {
				case it.Outcome == OutcomePending && !begun(it):
					it.Outcome, it.Reason = OutcomeFailed, apperr.SafeMessage(err)
				case it.Outcome == OutcomeUndoing:
					it.Outcome, it.Reason = OutcomeUndoFailed, apperr.SafeMessage(err)
				case it.Outcome == OutcomePending:
					unsettled = true
				}
			}
			if !unsettled && (r.State == StateExecuting || r.State == StateUndoing) {
				at := e.Reviews.now()
				r.State, r.FinishedAt = StatePartial, &at
			}
			return nil
		})
		return errors.Join(err, cerr)
	}
	workers := e.Workers
	if workers <= 0 {
		workers = 4
	}
	undo := r.State == StateUndoing
	jobs := make(chan int)
	var wg sync.WaitGroup
	errs := make(chan error, len(r.Items))
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				work := func() error { return e.item(ctx, cl, clientKey, id, i, r.ScannedAt) }
				if undo {
					work = func() error { return e.undoItem(ctx, cl, clientKey, id, i) }
				}
				if err := work(); err != nil {
					errs <- err
				}
			}
		})
	}
	for i, it := range r.Items {
		if (!undo && it.Outcome == OutcomePending) || (undo && it.Outcome == OutcomeUndoing) {
			select {
			case jobs <- i:
			case <-ctx.Done():
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if ctx.Err() != nil {
		return ctx.Err() // stopped: the review stays executing and resumes at the next start
	}
	_, err = e.Reviews.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateExecuting && r.State != StateUndoing {
			return nil
		}
		at := e.Reviews.now()
		r.FinishedAt, r.State = &at, StateDone
		for _, it := range r.Items {
			switch it.Outcome {
			case OutcomeRemoved, OutcomeSkipped, OutcomeUndone:
			default:
				r.State = StatePartial
			}
		}
		return nil
	})
	return errors.Join(append(all, err)...)
}

func begun(it *Item) bool {
	return slices.ContainsFunc(it.Actions, func(a Action) bool { return a.State != ActPlanned })
}

// setItem writes one item's change.
func (e *Executor) setItem(ctx context.Context, clientKey, id string, i int, fn func(*Item)) error {
	return e.Reviews.changeItem(ctx, clientKey, id, i, fn)
}

// item frees one seat: check the account as it is now, remove the plan's
// memberships one by one (intent and outcome recorded around each call),
// verify, and put back what was removed if the plan cannot complete.
func (e *Executor) item(ctx context.Context, cl Cleaner, clientKey, id string, i int, scannedAt time.Time) error {
	r, it, err := e.Reviews.item(ctx, clientKey, id, i)
	if err != nil {
		return err
	}
	skip := func(reason string) error {
		return e.setItem(ctx, clientKey, id, i, func(it *Item) { it.Outcome, it.Reason = OutcomeSkipped, reason })
	}
	cur, err := cl.Current(ctx, it.AccountID)
	if err != nil {
		return err // transient: the item stays pending, and a resume retries it
	}
	// A call the last process made but did not see the end of: the
	// membership says whether it happened.
	for j, a := range it.Actions {
		if a.State == ActRemoving {
			next := ActPlanned
			if !cur.Groups[a.GroupID] {
				next = ActRemoved
			}
			if err := e.setItem(ctx, clientKey, id, i, func(it *Item) { it.Actions[j].State = next }); err != nil {
				return err
			}
			it.Actions[j].State = next
		}
	}
	if !begun(&it) {
		switch {
		case !cur.Exists:
			return skip("The account no longer exists on the site.")
		case !cur.LastActive[it.Product].IsZero() && !cur.LastActive[it.Product].Before(scannedAt):
			// At or after the scan (both to the second): in use again.
			return skip(fmt.Sprintf("Active on %s since the scan (%s): the seat is in use.", it.Product, cur.LastActive[it.Product].Format(time.DateOnly)))
		case !slices.ContainsFunc(it.Actions, func(a Action) bool { return cur.Groups[a.GroupID] }):
			return skip("Already removed from every group of the plan.")
		}
		for _, gid := range r.Grants[it.Product] {
			if cur.Groups[gid] && !slices.ContainsFunc(it.Actions, func(a Action) bool { return a.GroupID == gid }) {
				return skip("Another group now grants " + it.Product + ": the plan would not free the seat.")
			}
		}
		for _, a := range it.Actions {
			synced, err := cl.Synced(ctx, a.GroupID)
			if err != nil {
				return err
			}
			if synced {
				return skip("Group " + a.GroupName + " is now synced from the identity provider: remove the user there.")
			}
		}
	}
	for j, a := range it.Actions {
		if a.State != ActPlanned {
			continue
		}
		if !cur.Groups[a.GroupID] {
			if err := e.setItem(ctx, clientKey, id, i, func(it *Item) { it.Actions[j].State = ActRemoved }); err != nil {
				return err
			}
			continue
		}
		if err := e.setItem(ctx, clientKey, id, i, func(it *Item) {
			it.Actions[j].State, it.Actions[j].Credential = ActRemoving, cl.Credential()
		}); err != nil {
			return err
		}
		callErr := e.remove(ctx, cl, a.GroupID, it.AccountID)
		if callErr != nil && ctx.Err() != nil {
			return ctx.Err() // stopping: left "removing", checked at the resume
		}
		if err := e.setItem(ctx, clientKey, id, i, func(it *Item) {
			if callErr == nil {
				it.Actions[j].State = ActRemoved
			} else {
				it.Actions[j].State, it.Actions[j].Error = ActFailed, callErr.Error()
			}
		}); err != nil {
			return err
		}
		if callErr != nil {
			return e.compensate(ctx, cl, clientKey, id, i, "Removing the account from "+a.GroupName+" failed ("+callErr.Error()+")")
		}
	}
	// Verify twice: the memberships are gone, and so is the seat.
	after, err := cl.Current(ctx, it.AccountID)
	if err != nil {
		return err
	}
	for _, a := range it.Actions {
		if after.Groups[a.GroupID] {
			return e.compensate(ctx, cl, clientKey, id, i, "The account is still in "+a.GroupName+" after its removal")
		}
	}
	if after.Products != nil && after.Products[it.Product] {
		return e.compensate(ctx, cl, clientKey, id, i, "The seat on "+it.Product+" is still held after the plan (another path grants it)")
	}
	return e.setItem(ctx, clientKey, id, i, func(it *Item) { it.Outcome, it.Reason = OutcomeRemoved, "" })
}

// transientTries is how often a removal is tried when the failure may
// pass (a 5xx, a timeout): the client does not retry a membership change
// itself, since the first attempt may have been applied; here the
// membership is read before each new try.
const transientTries = 3

// remove removes a membership, trying again after transient failures
// unless the membership is already gone.
func (e *Executor) remove(ctx context.Context, cl Cleaner, groupID, accountID string) error {
	var err error
	for try := 1; ; try++ {
		if err = cl.Remove(ctx, groupID, accountID); err == nil || !errors.Is(err, ErrTransient) || try == transientTries {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try) * 200 * time.Millisecond):
		}
		if cur, cerr := cl.Current(ctx, accountID); cerr == nil && !cur.Groups[groupID] {
			return nil // the failed-looking call took effect
		}
	}
}

// compensate puts back the memberships an unfinished plan removed, so no
// seat is left half-done, and records why.
func (e *Executor) compensate(ctx context.Context, cl Cleaner, clientKey, id string, i int, why string) error {
	_, it, err := e.Reviews.item(ctx, clientKey, id, i)
	if err != nil {
		return err
	}
	outcome, reason := OutcomeCompensated, why+"; the memberships removed before were put back."
	for j, a := range it.Actions {
		if a.State != ActRemoved && a.State != ActReadding {
			continue
		}
		if err := e.setItem(ctx, clientKey, id, i, func(it *Item) {
			it.Actions[j].State, it.Actions[j].Credential = ActReadding, cl.Credential()
		}); err != nil {
			return err
		}
		addErr := cl.Add(ctx, a.GroupID, it.AccountID)
		if addErr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := e.setItem(ctx, clientKey, id, i, func(it *Item) {
			if addErr == nil {
				it.Actions[j].State = ActReadded
			} else {
				it.Actions[j].State, it.Actions[j].Error = ActFailed, "putting back: "+addErr.Error()
			}
		}); err != nil {
			return err
		}
		if addErr != nil {
			outcome, reason = OutcomeFailed, why+"; putting the account back into "+a.GroupName+" failed too ("+addErr.Error()+")."
		}
	}
	return e.setItem(ctx, clientKey, id, i, func(it *Item) { it.Outcome, it.Reason = outcome, reason })
}

// Running lists the tenant's reviews in flight (for tests and status).
func (e *Executor) Running(clientKey, id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running[[2]string{clientKey, id}]
}

// Undo puts back the memberships a finished review removed, for all its
// removed items or the ones named; it answers once recorded and runs in
// the background like an execution.
func (e *Executor) Undo(ctx context.Context, clientKey, id string, only []Ask) (*Review, error) {
	if _, err := e.Cleaners.Cleaner(ctx, clientKey); err != nil {
		return nil, err
	}
	r, err := e.Reviews.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateDone && r.State != StatePartial {
			return wrongState(r, "done or partial")
		}
		n := 0
		for i := range r.Items {
			it := &r.Items[i]
			if it.Outcome != OutcomeRemoved {
				continue
			}
			if len(only) > 0 && !slices.ContainsFunc(only, func(a Ask) bool { return a.AccountID == it.AccountID && a.Product == it.Product }) {
				continue
			}
			it.Outcome, n = OutcomeUndoing, n+1
		}
		if n == 0 {
			return apperr.WithCode("review.Undo", apperr.Conflict, "wrong-state", "No removed seat of this review matches: nothing to undo.", nil)
		}
		r.State = StateUndoing
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !e.launch(clientKey, id) {
		return nil, apperr.E("review.Undo", apperr.Unavailable, "The server is stopping; the undo runs when it starts again.", nil)
	}
	return r, nil
}

// undoItem re-adds an item's removed memberships, verified, and says in
// words what it could not restore.
func (e *Executor) undoItem(ctx context.Context, cl Cleaner, clientKey, id string, i int) error {
	_, it, err := e.Reviews.item(ctx, clientKey, id, i)
	if err != nil {
		return err
	}
	cur, err := cl.Current(ctx, it.AccountID)
	if err != nil {
		return err
	}
	if !cur.Exists {
		return e.setItem(ctx, clientKey, id, i, func(it *Item) {
			it.Outcome, it.Reason = OutcomeUndoFailed, "The account no longer exists on the site: nothing could be put back."
		})
	}
	var problems []string
	for j, a := range it.Actions {
		if a.State != ActRemoved && a.State != ActReadding {
			continue
		}
		if cur.Groups[a.GroupID] {
			if err := e.setItem(ctx, clientKey, id, i, func(it *Item) { it.Actions[j].State = ActReadded }); err != nil {
				return err
			}
			continue
		}
		if synced, err := cl.Synced(ctx, a.GroupID); err != nil {
			return err
		} else if synced {
			problems = append(problems, a.GroupName+" is now synced from the identity provider: add the user there")
			continue
		}
		if err := e.setItem(ctx, clientKey, id, i, func(it *Item) {
			it.Actions[j].State, it.Actions[j].Credential = ActReadding, cl.Credential()
		}); err != nil {
			return err
		}
		addErr := cl.Add(ctx, a.GroupID, it.AccountID)
		if addErr != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := e.setItem(ctx, clientKey, id, i, func(it *Item) {
			if addErr == nil {
				it.Actions[j].State = ActReadded
			} else {
				it.Actions[j].Error = "putting back: " + addErr.Error()
			}
		}); err != nil {
			return err
		}
		if addErr != nil {
			problems = append(problems, "putting the account back into "+a.GroupName+" failed: "+undoWords(addErr))
		}
	}
	after, err := cl.Current(ctx, it.AccountID)
	if err != nil {
		return err
	}
	if after.Products != nil && !after.Products[it.Product] && len(problems) == 0 {
		problems = append(problems, "the memberships are back but the seat is not")
	}
	return e.setItem(ctx, clientKey, id, i, func(it *Item) {
		if len(problems) == 0 {
			it.Outcome, it.Reason = OutcomeUndone, ""
		} else {
			it.Outcome, it.Reason = OutcomeUndoFailed, strings.Join(problems, "; ")+"."
		}
	})
}

// Refusals a Cleaner's Add or Remove reports (wrapping the API's error),
// so that an outcome can say what happened in words.
var (
	ErrLicenceLimit = errors.New("the product's licence limit is reached")
	ErrGroupSynced  = errors.New("the group is synced from the identity provider")
	ErrGone         = errors.New("the account or the group no longer exists")
	// ErrTransient is a failure that may pass (a 5xx, a timeout, no
	// answer): the removal is tried again.
	ErrTransient = errors.New("a failure that may pass")
)

// undoWords names a refusal of a re-add in words.
func undoWords(err error) string {
	switch {
	case errors.Is(err, ErrLicenceLimit):
		return "the product's licence limit is reached (free a seat or raise the limit, then undo again)"
	case errors.Is(err, ErrGroupSynced):
		return "the group is now synced from the identity provider"
	case errors.Is(err, ErrGone):
		return "the account or the group no longer exists"
	}
	return err.Error()
}

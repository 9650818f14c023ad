// Package review is the four-eyes part of a cleanup (DESIGN.md §7): a
// review built from a scan's seats, submitted by one Jira admin and
// approved or rejected by another, with the rules enforced here whatever
// a client sends. Execution, verification and undo come next; a review
// goes no further than approved today.
package review

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/store"
)

// States of a review.
const (
	StateDraft     = "draft"
	StateSubmitted = "submitted"
	StateApproved  = "approved"
	StateRejected  = "rejected"
)

// Review is a set of seats to free, and who asked and who decided.
type Review struct {
	ID           string     `json:"id"`
	Title        string     `json:"title"`
	State        string     `json:"state"`
	ScanID       string     `json:"scanId"`
	CreatedBy    string     `json:"createdBy"`
	CreatedAt    time.Time  `json:"createdAt"`
	SubmittedBy  string     `json:"submittedBy,omitempty"`
	SubmittedAt  *time.Time `json:"submittedAt,omitempty"`
	ApprovedBy   string     `json:"approvedBy,omitempty"`
	RejectedBy   string     `json:"rejectedBy,omitempty"`
	DecidedAt    *time.Time `json:"decidedAt,omitempty"`
	RejectReason string     `json:"rejectReason,omitempty"`
	ExecutedBy   string     `json:"executedBy,omitempty"`
	ExecutedAt   *time.Time `json:"executedAt,omitempty"`
	FinishedAt   *time.Time `json:"finishedAt,omitempty"`
	Items        []Item     `json:"items"`
	// ScannedAt is when the scan the items come from was taken: activity
	// after it means a seat is in use again. Grants are the groups that
	// granted each product in that scan, to tell a seat another group now
	// holds.
	ScannedAt time.Time           `json:"scannedAt"`
	Grants    map[string][]string `json:"grants,omitempty"`
	// Exclusions are the seats taken out of the draft, and why.
	Exclusions []Exclusion `json:"exclusions,omitempty"`
	// Progress counts the items an execution or an undo has finished.
	Progress *Progress `json:"progress,omitempty"`
}

// Progress is how far a run is.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Exclusion is a seat taken out of a review, with its reason; Hold asks
// for a manual hold of the seat (until Expires, when set), so that later
// scans keep it out of cleanups too.
type Exclusion struct {
	AccountID string     `json:"accountId"`
	Product   string     `json:"product"`
	Reason    string     `json:"reason"`
	Hold      bool       `json:"hold,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
	By        string     `json:"by,omitempty"`
	At        time.Time  `json:"at"`
}

// Item is one seat of a review with the plan that frees it, as the scan
// found it.
type Item struct {
	AccountID     string             `json:"accountId"`
	DisplayName   string             `json:"displayName"`
	Product       string             `json:"product"`
	Verdict       string             `json:"verdict"`
	Justification string             `json:"justification,omitempty"`
	Plan          []billing.PlanItem `json:"plan"`
	Collateral    []string           `json:"collateral"`
	Outcome       string             `json:"outcome"` // pending until executed
	Reason        string             `json:"reason,omitempty"`
	Actions       []Action           `json:"actions,omitempty"`
}

// Ask is a seat someone asks to add.
type Ask struct {
	AccountID     string `json:"accountId"`
	Product       string `json:"product"`
	Justification string `json:"justification,omitempty"`
}

// Refusal is a seat that cannot be part of a review, and why.
type Refusal struct {
	AccountID string `json:"accountId"`
	Product   string `json:"product"`
	Reason    string `json:"reason"`
}

// NotRemovableError lists the seats a create or an add refused; nothing
// was stored.
type NotRemovableError struct{ Seats []Refusal }

func (e *NotRemovableError) Error() string {
	return fmt.Sprintf("review: %d seats cannot be part of a review", len(e.Seats))
}

// Seats is what a review reads of a finished scan.
type Seats interface {
	// User is one account's findings in scan id; an error wrapping
	// ErrUnknownSeat when the scan does not hold it.
	User(ctx context.Context, clientKey, scanID, accountID string) (billing.UserFindings, error)
}

// ErrUnknownSeat is a seat the scan does not hold.
var ErrUnknownSeat = errors.New("review: no such seat in the scan")

// Service keeps a tenant's reviews.
type Service struct {
	Store *store.Store
	Seats Seats
	Now   func() time.Time
	// Recorder, when set, writes every change to the proof chain.
	Recorder Recorder
}

const bucket = "reviews"

// limits on what a person types.
const (
	maxTitle         = 200
	maxJustification = 2000
	maxItems         = 50_000
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func key(id string) ([]byte, bool) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(nil, n), true
}

// A review is stored as a header in the reviews bucket and one record per
// item in itemsPrefix+id, keyed by the item's position: an execution
// rewrites one item at a time, not the whole review.
const itemsPrefix = "review-items-"

func itemKey(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i)) }

// put writes the header and every item.
func put(tx store.Tx, clientKey string, r *Review) error {
	k, _ := key(r.ID)
	h := *r
	h.Items = nil
	v, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("review: encode: %w", err)
	}
	if err := tx.Put(clientKey, bucket, k, v); err != nil {
		return err
	}
	if err := tx.DeleteBucket(clientKey, itemsPrefix+r.ID); err != nil {
		return err
	}
	for i := range r.Items {
		if err := putItem(tx, clientKey, r.ID, i, &r.Items[i]); err != nil {
			return err
		}
	}
	return nil
}

func putItem(tx store.Tx, clientKey, id string, i int, it *Item) error {
	v, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("review: encode item: %w", err)
	}
	return tx.Put(clientKey, itemsPrefix+id, itemKey(i), v)
}

// header reads a review without its items.
func header(tx store.Tx, clientKey, id string) (*Review, error) {
	k, ok := key(id)
	if !ok {
		return nil, notFound()
	}
	v, err := tx.Get(clientKey, bucket, k)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, err
	}
	var r Review
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, fmt.Errorf("review: decode: %w", err)
	}
	r.Items = nil
	return &r, nil
}

func getItem(tx store.Tx, clientKey, id string, i int) (Item, error) {
	v, err := tx.Get(clientKey, itemsPrefix+id, itemKey(i))
	if err != nil {
		return Item{}, fmt.Errorf("review: item %d of review %s: %w", i, id, err)
	}
	var it Item
	if err := json.Unmarshal(v, &it); err != nil {
		return Item{}, fmt.Errorf("review: decode item: %w", err)
	}
	return it, nil
}

// get reads a review with its items.
func get(tx store.Tx, clientKey, id string) (*Review, error) {
	r, err := header(tx, clientKey, id)
	if err != nil {
		return nil, err
	}
	r.Items = []Item{}
	err = tx.Each(clientKey, itemsPrefix+id, nil, func(_, v []byte) error {
		var it Item
		if err := json.Unmarshal(v, &it); err != nil {
			return fmt.Errorf("review: decode item: %w", err)
		}
		r.Items = append(r.Items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// item reads one item of a review with the review's header.
func (s *Service) item(ctx context.Context, clientKey, id string, i int) (*Review, Item, error) {
	var r *Review
	var it Item
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if r, err = header(tx, clientKey, id); err != nil {
			return err
		}
		it, err = getItem(tx, clientKey, id, i)
		return err
	})
	return r, it, err
}

// changeItem applies fn to one item in one transaction, and records it.
func (s *Service) changeItem(ctx context.Context, clientKey, id string, i int, fn func(*Item)) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		r, err := header(tx, clientKey, id)
		if err != nil {
			return err
		}
		it, err := getItem(tx, clientKey, id, i)
		if err != nil {
			return err
		}
		r.Items = []Item{it}
		before := snap(r)
		fn(&r.Items[0])
		if err := s.record(tx, clientKey, before, r); err != nil {
			return err
		}
		return putItem(tx, clientKey, id, i, &r.Items[0])
	})
}

func notFound() error {
	return apperr.WithCode("review", apperr.NotFound, "not-found", "No such review.", nil)
}

func wrongState(r *Review, want string) error {
	return apperr.WithCode("review", apperr.Conflict, "wrong-state", "The review is "+r.State+"; this needs it "+want+".", nil)
}

// items turns asks into items of scan scanID, or refuses the lot.
func (s *Service) items(ctx context.Context, clientKey, scanID string, asks []Ask) ([]Item, error) {
	if len(asks) == 0 {
		return nil, apperr.WithCode("review.items", apperr.Invalid, "bad-request", "items: name at least one seat", nil)
	}
	if len(asks) > maxItems {
		return nil, apperr.WithCode("review.items", apperr.Invalid, "bad-request", fmt.Sprintf("items: at most %d seats a review", maxItems), nil)
	}
	var out []Item
	var refused []Refusal
	users := map[string]billing.UserFindings{}
	seen := map[[2]string]bool{}
	for i, a := range asks {
		if a.AccountID == "" || a.Product == "" {
			return nil, apperr.WithCode("review.items", apperr.Invalid, "bad-request", fmt.Sprintf("items[%d]: accountId and product are required", i), nil)
		}
		if len(a.Justification) > maxJustification {
			return nil, apperr.WithCode("review.items", apperr.Invalid, "bad-request", fmt.Sprintf("items[%d].justification: at most %d characters", i, maxJustification), nil)
		}
		if seen[[2]string{a.AccountID, a.Product}] {
			continue
		}
		seen[[2]string{a.AccountID, a.Product}] = true
		refuse := func(reason string) { refused = append(refused, Refusal{a.AccountID, a.Product, reason}) }
		u, ok := users[a.AccountID]
		if !ok {
			var err error
			u, err = s.Seats.User(ctx, clientKey, scanID, a.AccountID)
			if errors.Is(err, ErrUnknownSeat) {
				refuse("the scan holds no such account")
				continue
			}
			if err != nil {
				return nil, err
			}
			users[a.AccountID] = u
		}
		j := slices.IndexFunc(u.Seats, func(st billing.Seat) bool { return st.Product == a.Product })
		if j < 0 {
			refuse("the account holds no seat on " + a.Product)
			continue
		}
		seat := u.Seats[j]
		switch {
		case !seat.Billable:
			refuse("the seat is not billable")
			continue
		case seat.Verdict == billing.VerdictHold:
			refuse("the seat is on hold: " + firstReason(seat, billing.VerdictHold))
			continue
		case len(seat.Plan) == 0:
			refuse("no plan Seatlens can carry out (a direct or inferred role, or a synced group): see idp-tasks.csv")
			continue
		case seat.Verdict == billing.VerdictReview && strings.TrimSpace(a.Justification) == "":
			refuse("a review seat needs a written justification")
			continue
		case seat.Verdict != billing.VerdictRemovable && seat.Verdict != billing.VerdictReview:
			refuse("the seat's verdict is " + seat.Verdict)
			continue
		}
		out = append(out, Item{AccountID: u.AccountID, DisplayName: u.DisplayName, Product: seat.Product, Verdict: seat.Verdict,
			Justification: strings.TrimSpace(a.Justification), Plan: seat.Plan, Collateral: seat.Collateral, Outcome: "pending"})
	}
	if len(refused) > 0 {
		return nil, &NotRemovableError{Seats: refused}
	}
	return out, nil
}

func firstReason(s billing.Seat, category string) string {
	for _, r := range s.Reasons {
		if r.Category == category {
			return r.Message
		}
	}
	return "see its reasons"
}

func checkTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > maxTitle {
		return "", apperr.WithCode("review", apperr.Invalid, "bad-request", fmt.Sprintf("title: 1 to %d characters", maxTitle), nil)
	}
	return t, nil
}

// Create makes a draft of scanID's seats; every seat must be removable, or
// a review seat with a justification, with an executable plan.
func (s *Service) Create(ctx context.Context, clientKey, by, scanID string, scannedAt time.Time, grants map[string][]string, title string, asks []Ask) (*Review, error) {
	t, err := checkTitle(title)
	if err != nil {
		return nil, err
	}
	items, err := s.items(ctx, clientKey, scanID, asks)
	if err != nil {
		return nil, err
	}
	r := &Review{Title: t, State: StateDraft, ScanID: scanID, CreatedBy: by, CreatedAt: s.now(), Items: items,
		ScannedAt: scannedAt.UTC(), Grants: grants}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		seq, err := tx.NextSeq(clientKey, bucket)
		if err != nil {
			return err
		}
		r.ID = strconv.FormatUint(seq, 10)
		if s.Recorder != nil {
			err := s.Recorder.RecordTx(tx, clientKey, "review.created", by, "", map[string]any{"review": r.ID, "title": r.Title,
				"scan": r.ScanID, "items": len(r.Items)})
			if err != nil {
				return err
			}
			for _, it := range r.Items {
				err := s.Recorder.RecordTx(tx, clientKey, "review.item-added", by, it.AccountID, map[string]any{"review": r.ID,
					"product": it.Product, "verdict": it.Verdict, "justified": it.Justification != ""})
				if err != nil {
					return err
				}
			}
		}
		return put(tx, clientKey, r)
	})
	if err != nil {
		return nil, fmt.Errorf("review: create: %w", err)
	}
	return r, nil
}

// Get returns one review, with its progress once it runs.
func (s *Service) Get(ctx context.Context, clientKey, id string) (*Review, error) {
	var r *Review
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = get(tx, clientKey, id)
		return err
	})
	if err == nil && r.ExecutedAt != nil {
		p := &Progress{Total: len(r.Items)}
		for _, it := range r.Items {
			if it.Outcome != OutcomePending && it.Outcome != OutcomeUndoing {
				p.Done++
			}
		}
		r.Progress = p
	}
	return r, err
}

// List returns the tenant's reviews, newest first, without their items.
func (s *Service) List(ctx context.Context, clientKey string) ([]Review, error) {
	out := []Review{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		return tx.EachReverse(clientKey, bucket, nil, func(_, v []byte) error {
			var r Review
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("review: decode: %w", err)
			}
			r.Items, r.Grants = nil, nil
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// change applies fn to a review in one transaction.
func (s *Service) change(ctx context.Context, clientKey, id string, fn func(*Review) error) (*Review, error) {
	var r *Review
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if r, err = get(tx, clientKey, id); err != nil {
			return err
		}
		before := snap(r)
		if err := fn(r); err != nil {
			return err
		}
		if err := s.record(tx, clientKey, before, r); err != nil {
			return err
		}
		return put(tx, clientKey, r)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// AddItems adds seats to a draft.
func (s *Service) AddItems(ctx context.Context, clientKey, id string, asks []Ask) (*Review, error) {
	r, err := s.Get(ctx, clientKey, id)
	if err != nil {
		return nil, err
	}
	if r.State != StateDraft {
		return nil, wrongState(r, StateDraft)
	}
	items, err := s.items(ctx, clientKey, r.ScanID, asks)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateDraft {
			return wrongState(r, StateDraft)
		}
		for _, it := range items {
			if !slices.ContainsFunc(r.Items, func(x Item) bool { return x.AccountID == it.AccountID && x.Product == it.Product }) {
				r.Items = append(r.Items, it)
			}
		}
		if len(r.Items) > maxItems {
			return apperr.WithCode("review", apperr.Invalid, "bad-request", fmt.Sprintf("items: at most %d seats a review", maxItems), nil)
		}
		return nil
	})
}

// Exclude takes seats out of a draft, each with its reason.
func (s *Service) Exclude(ctx context.Context, clientKey, id, by string, ex []Exclusion) (*Review, error) {
	if len(ex) == 0 {
		return nil, apperr.WithCode("review.Exclude", apperr.Invalid, "bad-request", "items: name at least one seat", nil)
	}
	for i, e := range ex {
		if e.AccountID == "" || e.Product == "" {
			return nil, apperr.WithCode("review.Exclude", apperr.Invalid, "bad-request", fmt.Sprintf("items[%d]: accountId and product are required", i), nil)
		}
		if r := strings.TrimSpace(e.Reason); r == "" || len(r) > maxJustification {
			return nil, apperr.WithCode("review.Exclude", apperr.Invalid, "bad-request", fmt.Sprintf("items[%d].reason: 1 to %d characters: why the seat stays", i, maxJustification), nil)
		}
		if e.Expires != nil && !e.Hold {
			return nil, apperr.WithCode("review.Exclude", apperr.Invalid, "bad-request", fmt.Sprintf("items[%d].expires: only with hold", i), nil)
		}
	}
	return s.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateDraft {
			return wrongState(r, StateDraft)
		}
		for _, e := range ex {
			n := len(r.Items)
			r.Items = slices.DeleteFunc(r.Items, func(x Item) bool { return x.AccountID == e.AccountID && x.Product == e.Product })
			if len(r.Items) == n {
				return apperr.WithCode("review.Exclude", apperr.Invalid, "bad-request", "items: "+e.AccountID+"/"+e.Product+" is not in the review", nil)
			}
			e.Reason, e.By, e.At = strings.TrimSpace(e.Reason), by, s.now()
			r.Exclusions = append(r.Exclusions, e)
		}
		return nil
	})
}

// Submit sends a draft for approval.
func (s *Service) Submit(ctx context.Context, clientKey, id, by string) (*Review, error) {
	return s.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateDraft {
			return wrongState(r, StateDraft)
		}
		if len(r.Items) == 0 {
			return apperr.WithCode("review.Submit", apperr.Conflict, "wrong-state", "The review has no seats.", nil)
		}
		at := s.now()
		r.State, r.SubmittedBy, r.SubmittedAt = StateSubmitted, by, &at
		return nil
	})
}

// Decide approves or rejects a submitted review: never by its submitter,
// and, where approvers are named, only by one of them.
func (s *Service) Decide(ctx context.Context, clientKey, id, by string, approvers []string, approve bool, reason string) (*Review, error) {
	reason = strings.TrimSpace(reason)
	if !approve && (reason == "" || len(reason) > maxJustification) {
		return nil, apperr.WithCode("review.Decide", apperr.Invalid, "bad-request", fmt.Sprintf("reason: 1 to %d characters", maxJustification), nil)
	}
	return s.change(ctx, clientKey, id, func(r *Review) error {
		if r.State != StateSubmitted {
			return wrongState(r, StateSubmitted)
		}
		if by == r.SubmittedBy {
			return apperr.WithCode("review.Decide", apperr.Forbidden, "self-approval", "You submitted this review: another admin must approve or reject it.", nil)
		}
		if len(approvers) > 0 && !slices.Contains(approvers, by) {
			return apperr.WithCode("review.Decide", apperr.Forbidden, "not-an-approver", "Only the approvers named in Settings may approve or reject reviews.", nil)
		}
		at := s.now()
		r.DecidedAt = &at
		if approve {
			r.State, r.ApprovedBy = StateApproved, by
		} else {
			r.State, r.RejectedBy, r.RejectReason = StateRejected, by, reason
		}
		return nil
	})
}

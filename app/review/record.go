package review

import (
	"github.com/seatlens/seatlens/store"
)

// Recorder appends what happens to reviews to the tenant's proof chain,
// in the same transaction as the change (proof.Chain through the app).
// subject is the account an event is about; it enters the chain only as a
// salted hash.
type Recorder interface {
	RecordTx(tx store.Tx, clientKey, kind, actor, subject string, data map[string]any) error
}

// event is one record a change of a review makes.
type event struct {
	kind, actor, subject string
	data                 map[string]any
}

// snapshot is what the records of a change are told apart by.
type snapshot struct {
	state      string
	exclusions int
	items      map[[2]string]itemState
}

type itemState struct {
	outcome string
	actions []string
}

func snap(r *Review) snapshot {
	s := snapshot{state: r.State, exclusions: len(r.Exclusions), items: map[[2]string]itemState{}}
	for _, it := range r.Items {
		st := itemState{outcome: it.Outcome}
		for _, a := range it.Actions {
			st.actions = append(st.actions, a.State)
		}
		s.items[[2]string{it.AccountID, it.Product}] = st
	}
	return s
}

// diff lists the records of the change from before to r: items added,
// exclusions, state changes, each action's intent and outcome, and each
// item's outcome.
func diff(before snapshot, r *Review) []event {
	base := func(extra map[string]any) map[string]any {
		d := map[string]any{"review": r.ID}
		for k, v := range extra {
			d[k] = v
		}
		return d
	}
	var out []event
	for _, it := range r.Items {
		if _, ok := before.items[[2]string{it.AccountID, it.Product}]; !ok && before.state != "" {
			out = append(out, event{"review.item-added", r.CreatedBy, it.AccountID, base(map[string]any{"product": it.Product, "verdict": it.Verdict,
				"justified": it.Justification != ""})})
		}
	}
	for _, x := range r.Exclusions[min(before.exclusions, len(r.Exclusions)):] {
		out = append(out, event{"review.item-excluded", x.By, x.AccountID, base(map[string]any{"product": x.Product, "reason": x.Reason, "hold": x.Hold})})
	}
	if r.State != before.state {
		actor, extra := "", map[string]any{"state": r.State}
		switch r.State {
		case StateSubmitted:
			actor = r.SubmittedBy
		case StateApproved:
			actor = r.ApprovedBy
		case StateRejected:
			actor, extra["reason"] = r.RejectedBy, r.RejectReason
		case StateExecuting:
			actor = r.ExecutedBy
		}
		out = append(out, event{"review." + r.State, actor, "", base(extra)})
	}
	for _, it := range r.Items {
		was := before.items[[2]string{it.AccountID, it.Product}]
		for j, a := range it.Actions {
			prev := ""
			if j < len(was.actions) {
				prev = was.actions[j]
			}
			if a.State != prev && a.State != ActPlanned {
				out = append(out, event{"action." + a.State, "", it.AccountID, base(map[string]any{"product": it.Product, "group": a.GroupID,
					"credential": a.Credential, "error": a.Error})})
			}
		}
		if it.Outcome != was.outcome && it.Outcome != OutcomePending && it.Outcome != OutcomeUndoing {
			out = append(out, event{"item." + it.Outcome, "", it.AccountID, base(map[string]any{"product": it.Product, "reason": it.Reason})})
		}
	}
	return out
}

// record writes the change's records through the recorder, if any.
func (s *Service) record(tx store.Tx, clientKey string, before snapshot, r *Review) error {
	if s.Recorder == nil {
		return nil
	}
	for _, e := range diff(before, r) {
		if err := s.Recorder.RecordTx(tx, clientKey, e.kind, e.actor, e.subject, e.data); err != nil {
			return err
		}
	}
	return nil
}

package proof

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seatlens/seatlens/store"
)

// RecordTx implements the reviews' Recorder: the subject account enters
// the event only as its salted ref, under "account".
func (c *Chain) RecordTx(tx store.Tx, clientKey, kind, actor, subject string, data map[string]any) error {
	if subject != "" {
		ref, err := Ref(tx, clientKey, subject)
		if err != nil {
			return err
		}
		data["account"] = ref
	}
	_, err := c.AppendTx(tx, clientKey, kind, actor, data)
	return err
}

// Format names the evidence file's layout (README: "Evidence files").
const Format = "seatlens-evidence/1"

// Evidence is what an auditor takes away: the chain segment from a
// review's first event to the head, the head signed, and the review as
// Seatlens shows it (names included; the chain holds none).
type Evidence struct {
	Format      string          `json:"format"`
	GeneratedAt string          `json:"generatedAt"`
	Review      json.RawMessage `json:"review"`
	Events      []Event         `json:"events"`
	Signed      Signed          `json:"signed"`
}

// Evidence builds the evidence of a review: every event from the
// review's first to the chain's head, signed.
func (c *Chain) Evidence(ctx context.Context, clientKey, reviewID string, review any) (*Evidence, error) {
	all, err := c.Events(ctx, clientKey, 1, 0)
	if err != nil {
		return nil, err
	}
	first := -1
	for i, e := range all {
		if e.Data["review"] == reviewID {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, errors.New("proof: the chain holds no event of this review")
	}
	seg := all[first:]
	signed, err := c.Sign(ctx, clientKey, seg[len(seg)-1])
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(review)
	if err != nil {
		return nil, err
	}
	return &Evidence{Format: Format, GeneratedAt: c.now().Format("2006-01-02T15:04:05Z07:00"), Review: raw, Events: seg, Signed: signed}, nil
}

// Report is what Verify found.
type Report struct {
	Fingerprint string
	Events      int
	FirstSeq    int64
	LastSeq     int64
	Review      string // the review's id, from its events
	Title       string
	ApprovedBy  string         // a salted ref
	Counts      map[string]int // item outcomes: removed, skipped, undone, …
}

// VerifyError says which part of an evidence file is wrong.
type VerifyError struct {
	Seq int64 // the event at fault; 0 for the file or the signature
	Msg string
}

func (e *VerifyError) Error() string {
	if e.Seq > 0 {
		return fmt.Sprintf("event %d: %s", e.Seq, e.Msg)
	}
	return e.Msg
}

// Verify checks an evidence file offline: every event's hash, the links
// between them, the signed head against the last event, and the
// signature; key, when not empty, is the fingerprint the signing key must
// have.
func Verify(raw []byte, key string) (Report, error) {
	var ev Evidence
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return Report{}, &VerifyError{Msg: "not an evidence file: " + err.Error()}
	}
	if ev.Format != Format {
		return Report{}, &VerifyError{Msg: fmt.Sprintf("format %q, want %q", ev.Format, Format)}
	}
	if len(ev.Events) == 0 {
		return Report{}, &VerifyError{Msg: "the file holds no event"}
	}
	rep := Report{Events: len(ev.Events), FirstSeq: ev.Events[0].Seq, Counts: map[string]int{}}
	for i, e := range ev.Events {
		if i > 0 {
			prev := ev.Events[i-1]
			if e.Seq != prev.Seq+1 {
				return rep, &VerifyError{Seq: e.Seq, Msg: fmt.Sprintf("follows event %d: an event is missing, inserted or moved", prev.Seq)}
			}
			if e.Prev != prev.Hash {
				return rep, &VerifyError{Seq: e.Seq, Msg: fmt.Sprintf("does not link to event %d's hash", prev.Seq)}
			}
		}
		want, err := HashOf(e)
		if err != nil {
			return rep, &VerifyError{Seq: e.Seq, Msg: err.Error()}
		}
		if want != e.Hash {
			return rep, &VerifyError{Seq: e.Seq, Msg: "its content does not match its hash: it was altered"}
		}
		rep.LastSeq = e.Seq
	}
	last := ev.Events[len(ev.Events)-1]
	h := ev.Signed.Head
	if h.Seq != last.Seq || h.Hash != last.Hash {
		return rep, &VerifyError{Msg: fmt.Sprintf("the signed head (event %d) is not the last event of the file (event %d)", h.Seq, last.Seq)}
	}
	pub, err := base64.StdEncoding.DecodeString(ev.Signed.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return rep, &VerifyError{Msg: "the public key is not a base64 Ed25519 key"}
	}
	rep.Fingerprint = Fingerprint(pub)
	if key != "" && !strings.EqualFold(key, rep.Fingerprint) {
		return rep, &VerifyError{Msg: fmt.Sprintf("signed with key %s, not the expected %s", rep.Fingerprint, key)}
	}
	sig, err := base64.StdEncoding.DecodeString(ev.Signed.Signature)
	if err != nil {
		return rep, &VerifyError{Msg: "the signature is not base64"}
	}
	msg, err := Canonical(h)
	if err != nil {
		return rep, &VerifyError{Msg: err.Error()}
	}
	if !ed25519.Verify(pub, msg, sig) {
		return rep, &VerifyError{Msg: "the signature does not match the head and the key"}
	}
	// The summary comes from the verified events, not the unsigned review.
	for _, e := range ev.Events {
		id, _ := e.Data["review"].(string)
		if e.Kind == "review.created" {
			rep.Review, _ = e.Data["review"].(string)
			rep.Title, _ = e.Data["title"].(string)
		}
		if id == "" || id != rep.Review {
			continue
		}
		switch {
		case e.Kind == "review.approved":
			rep.ApprovedBy = e.Actor
		case strings.HasPrefix(e.Kind, "item."):
			rep.Counts[strings.TrimPrefix(e.Kind, "item.")]++
		}
	}
	return rep, nil
}

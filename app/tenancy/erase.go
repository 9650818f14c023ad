package tenancy

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/store"
)

// ForgetAccount removes an account from what a tenant gave Seatlens: the
// settings that name it (a manual hold, an integration user, an approver)
// and its rows of the admin CSV kept for keyless scans.
func (s *Service) ForgetAccount(ctx context.Context, clientKey, accountID string) error {
	set, err := s.Settings(ctx, clientKey)
	if err != nil {
		return err
	}
	n := len(set.ManualHolds) + len(set.IntegrationUsers) + len(set.Approvers)
	set.ManualHolds = slices.DeleteFunc(set.ManualHolds, func(h billing.ManualHold) bool { return h.AccountID == accountID })
	set.IntegrationUsers = slices.DeleteFunc(set.IntegrationUsers, func(u billing.IntegrationUser) bool { return u.AccountID == accountID })
	set.Approvers = slices.DeleteFunc(set.Approvers, func(id string) bool { return id == accountID })
	if len(set.ManualHolds)+len(set.IntegrationUsers)+len(set.Approvers) != n {
		if err := s.PutSettings(ctx, clientKey, set); err != nil {
			return err
		}
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		body, err := tx.Get(clientKey, configBucket, []byte(activityKey))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, dropped, err := withoutAccount(body, accountID)
		if err != nil || !dropped {
			return err
		}
		return tx.Put(clientKey, configBucket, []byte(activityKey), out)
	})
	if err != nil {
		return fmt.Errorf("tenancy: forget an account of %s: %w", clientKey, err)
	}
	return nil
}

// withoutAccount rewrites a CSV without the rows that hold accountID in
// any field.
func withoutAccount(body []byte, accountID string) ([]byte, bool, error) {
	if !bytes.Contains(body, []byte(accountID)) {
		return body, false, nil
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord, r.LazyQuotes = -1, true
	rows, err := r.ReadAll()
	if err != nil {
		return nil, false, fmt.Errorf("tenancy: read the admin CSV: %w", err)
	}
	kept := rows[:0]
	for _, row := range rows {
		if !slices.Contains(row, accountID) {
			kept = append(kept, row)
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(kept); err != nil {
		return nil, false, fmt.Errorf("tenancy: write the admin CSV: %w", err)
	}
	return buf.Bytes(), len(kept) != len(rows), nil
}

// ReportClient gives the client the personal data reporting API is called
// with: the tenant's Connect app, on its site (DESIGN.md §8; the URL is
// an inference from Atlassian's staff answer, marked in sitesim).
func (s *Service) ReportClient(ctx context.Context, clientKey string) (*atlassian.Client, error) {
	t, err := s.installed(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	return s.jira(t, s.transport(), true)
}

// Accounts lists the accounts the tenant's settings (holds, integration
// users, approvers) and its admin CSV name: the CSV's with when it was
// uploaded, the settings' (account IDs alone) with now.
func (s *Service) Accounts(ctx context.Context, clientKey string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	set, err := s.Settings(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	for _, h := range set.ManualHolds {
		out[h.AccountID] = now
	}
	for _, u := range set.IntegrationUsers {
		out[u.AccountID] = now
	}
	for _, id := range set.Approvers {
		out[id] = now
	}
	exp, up, err := s.storedCSV(ctx, clientKey)
	if err != nil || exp == nil {
		return out, err
	}
	for _, u := range exp.Users {
		if prev, ok := out[u.AccountID]; u.AccountID != "" && (!ok || up.UploadedAt.Before(prev)) {
			out[u.AccountID] = up.UploadedAt
		}
	}
	return out, nil
}

package tenancy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/seatlens/seatlens/app/apperr"
	"github.com/seatlens/seatlens/app/atlassian"
	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/forge"
	"github.com/seatlens/seatlens/app/review"
)

// Cleaner gives the credential that may change the tenant's memberships:
// the org key first (the Organizations API is Atlassian's documented path
// for it), else the Forge app token (product REST). A Connect JWT may not
// (DESIGN.md §4), so a tenant with neither gets no-cleanup-credential.
func (s *Service) Cleaner(ctx context.Context, clientKey string) (review.Cleaner, error) {
	t, err := s.installed(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	rt := s.transport()
	cred, ok, err := s.orgCredential(ctx, clientKey)
	if err != nil {
		return nil, err
	}
	if ok {
		c, err := atlassian.New(&http.Client{Transport: rt}, s.OrgAPIURL, atlassian.Bearer(cred.Key), s.options(true))
		if err != nil {
			return nil, fmt.Errorf("tenancy: org client: %w", err)
		}
		return orgCleaner{c: c, orgID: cred.OrgID}, nil
	}
	if s.Tokens != nil {
		if tok, err := s.Tokens.Get(ctx, clientKey, AppTokenMinLifetime); err == nil {
			c, err := atlassian.New(&http.Client{Transport: rt}, tok.APIBaseURL, s.appTokenAuth(clientKey), s.appOptions(t.ClientKey, true))
			if err != nil {
				return nil, fmt.Errorf("tenancy: app token client: %w", err)
			}
			return jiraCleaner{c: c}, nil
		} else if !errors.Is(err, forge.ErrNoToken) {
			return nil, err
		}
	}
	return nil, apperr.WithCode("tenancy.Cleaner", apperr.Conflict, "no-cleanup-credential",
		"Seatlens needs an org key (admin.atlassian.com › Settings › API keys, then PUT /api/v1/org-key) or the Forge app token (install the app from its Forge registration) to change memberships; a Connect app may not.", nil)
}

// orgCleaner changes memberships through the Organizations API.
type orgCleaner struct {
	c     *atlassian.Client
	orgID string
}

func (o orgCleaner) Credential() string { return billing.CredentialOrgKey }

func (o orgCleaner) Current(ctx context.Context, accountID string) (review.Current, error) {
	cur := review.Current{Groups: map[string]bool{}, Products: map[string]bool{}, LastActive: map[string]time.Time{}}
	err := o.c.SearchUsers(ctx, o.orgID, atlassian.DirectoryAll, atlassian.UserSearch{AccountIDs: []string{accountID},
		Expand: []string{"groups", "productAccess"}}, func(users []atlassian.OrgUser) error {
		for _, u := range users {
			if u.AccountID != accountID {
				continue
			}
			cur.Exists = u.Status != "deactivated" && u.Status != "for_deletion"
			for _, g := range u.Groups {
				cur.Groups[g.ID] = true
			}
			for _, p := range u.ProductAccess {
				key, ok := billing.FromOrgProductKey(p.Key)
				if !ok {
					continue
				}
				cur.Products[key] = true
				if !p.LastActiveTimestamp.IsZero() {
					cur.LastActive[key] = p.LastActiveTimestamp.Time
				}
			}
		}
		return nil
	})
	return cur, err
}

func (o orgCleaner) Synced(ctx context.Context, groupID string) (bool, error) {
	gs, err := o.c.SearchGroups(ctx, o.orgID, atlassian.DirectoryAll, atlassian.GroupSearch{GroupIDs: []string{groupID}})
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if g.ID == groupID {
			return g.ExternalSynced || g.ManagedBy == "external", nil
		}
	}
	return false, nil
}

func (o orgCleaner) Remove(ctx context.Context, groupID, accountID string) error {
	return refusal(o.c.RemoveMembership(ctx, o.orgID, atlassian.DirectoryAll, groupID, accountID))
}

func (o orgCleaner) Add(ctx context.Context, groupID, accountID string) error {
	return refusal(o.c.AddMembership(ctx, o.orgID, atlassian.DirectoryAll, groupID, accountID))
}

// refusal names the refusals a review reports in words: the Organizations
// API's documented codes (ADMIN-409-3 licence limit, ADMIN-403-5 synced
// group, ADMIN-404-8/-10 user or group not found) and Jira's statuses.
func refusal(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *atlassian.APIError
	if !errors.As(err, &apiErr) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%w: %w", review.ErrTransient, err) // no answer, or a timeout
	}
	switch {
	case apiErr.StatusCode >= 500 || apiErr.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %w", review.ErrTransient, err)
	case apiErr.Code == "ADMIN-409-3":
		return fmt.Errorf("%w: %w", review.ErrLicenceLimit, err)
	case apiErr.Code == "ADMIN-403-5":
		return fmt.Errorf("%w: %w", review.ErrGroupSynced, err)
	case apiErr.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %w", review.ErrGone, err)
	}
	return err
}

// jiraCleaner changes memberships through Jira's product REST with the
// Forge app token. Whether the app's account may change every group that
// way is unconfirmed (DESIGN.md §4); it cannot see synced flags or
// activity, so those checks rest on the org key.
type jiraCleaner struct{ c *atlassian.Client }

func (j jiraCleaner) Credential() string { return billing.CredentialForgeToken }

func (j jiraCleaner) Current(ctx context.Context, accountID string) (review.Current, error) {
	u, err := j.c.User(ctx, accountID)
	var apiErr *atlassian.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return review.Current{}, nil
	}
	if err != nil {
		return review.Current{}, err
	}
	cur := review.Current{Exists: u.Active, Groups: map[string]bool{}}
	if u.Groups != nil {
		for _, g := range u.Groups.Items {
			cur.Groups[g.GroupID] = true
		}
	}
	return cur, nil
}

func (j jiraCleaner) Synced(context.Context, string) (bool, error) { return false, nil }

func (j jiraCleaner) Remove(ctx context.Context, groupID, accountID string) error {
	return refusal(j.c.RemoveGroupMember(ctx, groupID, accountID))
}

func (j jiraCleaner) Add(ctx context.Context, groupID, accountID string) error {
	return refusal(j.c.AddGroupMember(ctx, groupID, accountID))
}

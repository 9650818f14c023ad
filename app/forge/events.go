package forge

import (
	"encoding/json"
	"errors"
	"fmt"
)

// UserEvent is what the app keeps of a Forge Jira user event.
type UserEvent struct {
	EventType  string // avi:jira:created:user, …
	AccountID  string
	RetryCount int
}

// ParseUserEvent reads the body Forge POSTs to a remote endpoint for a
// Jira user event.
//
// UNCONFIRMED (gaps-2026-11.md §3.4, §4 item 6): Atlassian documents only
// payload.retryContext for remote event bodies. The Forge event reference
// for Jira user events names the user "atlassianId"; third-party code also
// reads "accountId" and "user.accountId". This is the one place that
// guesses: it looks for the event type and the account id at the top level
// and under "payload", in those spellings, and refuses a body without both.
func ParseUserEvent(body []byte) (UserEvent, error) {
	var outer struct {
		userEventFields
		Payload *userEventFields `json:"payload"`
	}
	if err := json.Unmarshal(body, &outer); err != nil {
		return UserEvent{}, fmt.Errorf("forge event is not JSON: %w", err)
	}
	ev := outer.userEventFields.event()
	if outer.Payload != nil {
		inner := outer.Payload.event()
		if ev.EventType == "" {
			ev.EventType = inner.EventType
		}
		if ev.AccountID == "" {
			ev.AccountID = inner.AccountID
		}
		if ev.RetryCount == 0 {
			ev.RetryCount = inner.RetryCount
		}
	}
	switch {
	case ev.EventType == "":
		return UserEvent{}, errors.New("forge event has no eventType")
	case ev.AccountID == "":
		return UserEvent{}, errors.New("forge user event names no account (atlassianId)")
	}
	return ev, nil
}

type userEventFields struct {
	EventType   string `json:"eventType"`
	AtlassianID string `json:"atlassianId"`
	AccountID   string `json:"accountId"`
	User        *struct {
		AccountID string `json:"accountId"`
	} `json:"user"`
	RetryContext *struct {
		RetryCount int `json:"retryCount"`
	} `json:"retryContext"`
}

func (f userEventFields) event() UserEvent {
	ev := UserEvent{EventType: f.EventType, AccountID: f.AtlassianID}
	if ev.AccountID == "" {
		ev.AccountID = f.AccountID
	}
	if ev.AccountID == "" && f.User != nil {
		ev.AccountID = f.User.AccountID
	}
	if f.RetryContext != nil {
		ev.RetryCount = f.RetryContext.RetryCount
	}
	return ev
}

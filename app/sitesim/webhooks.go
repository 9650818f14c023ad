package sitesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatlens/seatlens/app/connect/qsh"
)

// This file is the site's side of Connect webhooks (connect-protocol.md
// §5): an installed app that declares modules.webhooks in its descriptor
// is sent user_created, user_updated and user_deleted as users and their
// group memberships change, whichever API (or SyncIdP) changed them.
// Deliveries are signed HS256 with the app's shared secret and a qsh over
// POST and the webhook path, as Jira signs them. They are asynchronous: a
// bounded queue per Server, drained by one goroutine started when there is
// work and ending when the queue is empty, so no REST handler ever waits
// for an app.

// User webhook events.
const (
	webhookUserCreated = "user_created"
	webhookUserUpdated = "user_updated"
	webhookUserDeleted = "user_deleted"
)

// Bounds of delivery.
const (
	webhookQueueLen   = 1024              // deliveries waiting; more are dropped (counted failed)
	webhookTokenTTL   = 180 * time.Second // as the install tokens
	webhookTimeout    = 5 * time.Second   // one attempt
	webhookMaxAnswer  = 64 << 10
	webhookFlushPoll  = 2 * time.Millisecond
	webhookRetryLimit = 3 // attempts after the first
)

// webhookBackoff is the wait before retry n (1-based); short, it's a sim.
func webhookBackoff(n int) time.Duration { return time.Duration(n) * 20 * time.Millisecond }

// descriptorWebhook is one modules.webhooks entry of a descriptor.
type descriptorWebhook struct {
	Event string `json:"event"`
	URL   string `json:"url"`
}

// webhookSub is an installed app's subscriptions.
type webhookSub struct {
	inst  Installation
	hooks []descriptorWebhook
}

// webhookDelivery is one queued POST.
type webhookDelivery struct {
	inst      Installation
	path      string // the descriptor's url, relative to the app's base URL
	event     string
	accountID string
	timestamp int64 // ms
	forge     bool  // a Forge product event (FIT) instead of a Connect webhook
}

// forgeUserEvent maps a Connect user webhook to its Forge product event.
func forgeUserEvent(event string) string {
	switch event {
	case "user_created":
		return "avi:jira:created:user"
	case "user_updated":
		return "avi:jira:updated:user"
	case "user_deleted":
		return "avi:jira:deleted:user"
	}
	return ""
}

// webhookQueue is the Server's subscriptions and delivery queue (the zero
// value is ready).
type webhookQueue struct {
	mu       sync.Mutex
	subs     map[string]webhookSub // by app key
	queue    []webhookDelivery
	running  bool // a drain goroutine is live
	ok, fail int
}

// rememberWebhooks is Install's hook: the app's subscriptions, replacing
// those of an earlier install of the same app.
func (s *Server) rememberWebhooks(inst Installation, hooks []descriptorWebhook) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	if s.hooks.subs == nil {
		s.hooks.subs = map[string]webhookSub{}
	}
	if len(hooks) == 0 {
		delete(s.hooks.subs, inst.AppKey)
		return
	}
	s.hooks.subs[inst.AppKey] = webhookSub{inst: inst, hooks: append([]descriptorWebhook(nil), hooks...)}
}

// emitUserEvent tells the listening Server that accountID changed. Caller
// holds s.mu for writing.
func (s *Site) emitUserEvent(event, accountID string) {
	if s.notify != nil {
		s.notify(event, accountID)
	}
}

// enqueueWebhook queues event for every subscribed app. It is called with
// the site's lock held, so it takes only the queue's lock and never
// blocks: a full queue drops the delivery (counted failed).
func (s *Server) enqueueWebhook(event, accountID string) {
	q := &s.hooks
	q.mu.Lock()
	defer q.mu.Unlock()
	ts := s.now().UnixMilli()
	for _, sub := range q.subs {
		for _, h := range sub.hooks {
			if h.Event != event {
				continue
			}
			if len(q.queue) >= webhookQueueLen {
				q.fail++
				continue
			}
			q.queue = append(q.queue, webhookDelivery{inst: sub.inst, path: h.URL, event: event, accountID: accountID, timestamp: ts})
		}
		if sub.inst.AppToken != "" && s.opts.ForgeUserEventsPath != "" && forgeUserEvent(event) != "" && len(q.queue) < webhookQueueLen {
			q.queue = append(q.queue, webhookDelivery{inst: sub.inst, path: s.opts.ForgeUserEventsPath,
				event: forgeUserEvent(event), accountID: accountID, timestamp: ts, forge: true})
		}
	}
	if len(q.queue) > 0 && !q.running {
		q.running = true
		go s.drainWebhooks()
	}
}

// drainWebhooks delivers queued webhooks one at a time until none is left.
func (s *Server) drainWebhooks() {
	q := &s.hooks
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		d := q.queue[0]
		q.queue = q.queue[1:]
		q.mu.Unlock()
		if !s.installed(d.inst) {
			continue // uninstalled since: Jira stops sending
		}
		err := s.deliverWebhook(d)
		q.mu.Lock()
		if err != nil {
			q.fail++
		} else {
			q.ok++
		}
		q.mu.Unlock()
	}
}

// installed reports whether inst is still the live install of its app.
func (s *Server) installed(inst Installation) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[inst.AppKey]
	return ok && a.ClientKey == inst.ClientKey
}

// WebhookDeliveries counts the deliveries the apps accepted (2xx) and
// those dropped: failed after every retry, or not queued because the
// queue was full.
func (s *Server) WebhookDeliveries() (ok, failed int) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return s.hooks.ok, s.hooks.fail
}

// FlushWebhooks waits until every queued webhook has been delivered or
// dropped, or ctx ends.
func (s *Server) FlushWebhooks(ctx context.Context) error {
	t := time.NewTicker(webhookFlushPoll)
	defer t.Stop()
	for {
		s.hooks.mu.Lock()
		idle := !s.hooks.running && len(s.hooks.queue) == 0
		s.hooks.mu.Unlock()
		idle = idle && s.auditIdle()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// webhookBody is a user event as Jira sends it (the part
// connect-protocol.md §5.2 confirms).
type webhookBody struct {
	Timestamp    int64  `json:"timestamp"`
	WebhookEvent string `json:"webhookEvent"`
	User         struct {
		AccountID string `json:"accountId"`
	} `json:"user"`
}

// deliverWebhook POSTs d, retrying a failed attempt a few times.
func (s *Server) deliverWebhook(d webhookDelivery) error {
	if d.forge {
		// The event body Forge sends a remote is documented only as far as
		// payload.retryContext (gaps-2026-11.md §3.4): eventType and
		// atlassianId as the Forge event reference names them.
		body := map[string]any{"eventType": d.event, "atlassianId": d.accountID, "payload": map[string]any{"retryContext": nil}}
		var err error
		for attempt := 0; ; attempt++ {
			err = s.invokeForge(context.Background(), d.inst, d.inst.ForgeAppID, d.path, "user-events", body)
			if err == nil || attempt >= webhookRetryLimit {
				return err
			}
			time.Sleep(webhookBackoff(attempt + 1))
		}
	}
	var b webhookBody
	b.Timestamp, b.WebhookEvent, b.User.AccountID = d.timestamp, d.event, d.accountID
	body, err := json.Marshal(b)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err = s.postWebhook(d, body, attempt)
		if err == nil || attempt >= webhookRetryLimit {
			return err
		}
		time.Sleep(webhookBackoff(attempt + 1))
	}
}

func (s *Server) postWebhook(d webhookDelivery, body []byte, attempt int) error {
	target, err := url.Parse(d.inst.AppBaseURL)
	if err != nil {
		return fmt.Errorf("sitesim: app base URL: %w", err)
	}
	basePath := strings.TrimSuffix(target.EscapedPath(), "/")
	rawPath, rawQuery := qsh.SplitRequestURI(d.path)
	now := s.now()
	claims := struct {
		jwt.RegisteredClaims
		QSH string `json:"qsh"`
	}{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   d.inst.ClientKey,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(webhookTokenTTL)),
		},
		QSH: qsh.Of(http.MethodPost, basePath+rawPath, rawQuery, basePath),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(d.inst.SharedSecret))
	if err != nil {
		return fmt.Errorf("sitesim: sign webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.inst.AppBaseURL+d.path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sitesim: webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "JWT "+signed)
	if attempt > 0 {
		req.Header.Set("X-Atlassian-Webhook-Retry", strconv.Itoa(attempt))
	}
	answer, status, err := do(req)
	if err != nil {
		return fmt.Errorf("sitesim: webhook %s: %w", d.event, err)
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("sitesim: webhook %s: the app answered %d: %s", d.event, status, clipBody(answer[:min(len(answer), webhookMaxAnswer)]))
	}
	return nil
}

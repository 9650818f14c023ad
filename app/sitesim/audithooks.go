package sitesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The organisation's audit-log webhooks
// (https://support.atlassian.com/security-and-access-policies/docs/learn-more-about-audit-log-webhooks):
// an org admin registers up to three URLs, each with one static header,
// and every audit-log event is pushed to them asynchronously, in batches.
// The admin API stands in for Atlassian Administration's form:
//
//	PUT    /sim/admin/audit-webhooks   {url, header, value} → 204; adds or replaces the webhook of url
//	DELETE /sim/admin/audit-webhooks   → 204; removes them all
//
// What a delivery's body looks like is not documented; the sim's choice
// is in unconfirmed.go (a JSON array of events in events-stream's shape).

// maxAuditWebhooks is the current documentation's limit.
const maxAuditWebhooks = 3

// auditBatch bounds the events of one delivery.
const auditBatch = 100

type auditWebhook struct {
	URL, Header, Value string
}

// auditPush is the Server's audit-log webhooks and what waits to go.
type auditPush struct {
	mu       sync.Mutex
	hooks    []auditWebhook
	base     string // the sim's own base URL, for the events' links
	queue    []auditEvent
	running  bool
	ok, fail int
}

// adminAuditWebhooks serves PUT and DELETE /sim/admin/audit-webhooks.
func (s *Server) adminAuditWebhooks(w http.ResponseWriter, r *http.Request) *adminError {
	p := &s.audit
	if r.Method == http.MethodDelete {
		p.mu.Lock()
		p.hooks = nil
		p.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	var in struct {
		URL    string `json:"url"`
		Header string `json:"header"`
		Value  string `json:"value"`
	}
	if err := decodeAdmin(r, &in); err != nil {
		return err
	}
	u, err := url.Parse(in.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return adminErr(http.StatusBadRequest, "url must be an absolute http(s) URL")
	}
	if strings.TrimSpace(in.Header) == "" || strings.ContainsAny(in.Header, ": \r\n") || strings.ContainsAny(in.Value, "\r\n") {
		return adminErr(http.StatusBadRequest, "header must be a header name and value a single line")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.base = absBase(r)
	for i, h := range p.hooks {
		if h.URL == in.URL {
			p.hooks[i] = auditWebhook{in.URL, in.Header, in.Value}
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
	}
	if len(p.hooks) >= maxAuditWebhooks {
		return adminErr(http.StatusBadRequest, fmt.Sprintf("at most %d audit-log webhooks", maxAuditWebhooks))
	}
	p.hooks = append(p.hooks, auditWebhook{in.URL, in.Header, in.Value})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pushAuditEvent is the Site's event hook: it queues e for the webhooks.
// Called with the site's lock held, so it only takes the push's lock.
func (s *Server) pushAuditEvent(e auditEvent) {
	p := &s.audit
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.hooks) == 0 {
		return
	}
	if len(p.queue) >= webhookQueueLen {
		p.fail++
		return
	}
	p.queue = append(p.queue, e)
	if !p.running {
		p.running = true
		go s.drainAudit()
	}
}

// drainAudit sends what is queued, in batches, to every webhook.
func (s *Server) drainAudit() {
	p := &s.audit
	for {
		// A short wait gathers the events of one change into one batch.
		time.Sleep(5 * time.Millisecond)
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		batch := p.queue[:min(len(p.queue), auditBatch)]
		p.queue = p.queue[len(batch):]
		hooks := append([]auditWebhook(nil), p.hooks...)
		base := p.base
		p.mu.Unlock()
		body, err := s.auditBody(base, batch)
		for _, h := range hooks {
			if err == nil {
				err = s.deliverAudit(h, body)
			}
			p.mu.Lock()
			if err != nil {
				p.fail++
			} else {
				p.ok++
			}
			p.mu.Unlock()
		}
	}
}

// auditBody renders events as events-stream's data would show them.
func (s *Server) auditBody(base string, evs []auditEvent) ([]byte, error) {
	r := httptest.NewRequest(http.MethodGet, base+"/", nil)
	s.site.mu.RLock()
	names := map[string]string{}
	for _, e := range evs {
		if u := s.site.users[e.AccountID]; u != nil {
			names[e.AccountID] = u.DisplayName
		}
	}
	admin := s.site.adminLocked()
	s.site.mu.RUnlock()
	out := make([]orgEvent, len(evs))
	for i, e := range evs {
		out[i] = s.orgEventOf(r, e, names, admin)
	}
	return json.Marshal(out)
}

func (s *Server) deliverAudit(h auditWebhook, body []byte) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = s.postAudit(h, body)
		if err == nil || attempt >= webhookRetryLimit {
			return err
		}
		time.Sleep(webhookBackoff(attempt + 1))
	}
}

func (s *Server) postAudit(h auditWebhook, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(h.Header, h.Value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("audit webhook %s: %d", h.URL, resp.StatusCode)
	}
	return nil
}

// AuditPushes counts the audit-log webhook deliveries accepted (2xx) and
// those dropped.
func (s *Server) AuditPushes() (ok, failed int) {
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	return s.audit.ok, s.audit.fail
}

func (s *Server) auditIdle() bool {
	s.audit.mu.Lock()
	defer s.audit.mu.Unlock()
	return !s.audit.running && len(s.audit.queue) == 0
}

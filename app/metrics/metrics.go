// Package metrics holds the server's Prometheus metrics: scans, the scan
// queue, webhook deliveries, targeted rescans, the audit log, and every
// call to Atlassian with its points and rate-limit waits. No label names
// a tenant or an account: the series stay few and say nothing personal.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the registry and the server's metrics.
type Metrics struct {
	reg *prometheus.Registry

	scans       *prometheus.CounterVec
	scanCalls   prometheus.Counter
	deliveries  *prometheus.CounterVec
	rescans     *prometheus.CounterVec
	rescanCalls prometheus.Counter
	calls       *prometheus.CounterVec
	points      *prometheus.CounterVec
	waits       *prometheus.CounterVec
	auditPolls  *prometheus.CounterVec
	auditEvents prometheus.Counter
}

// Sources of the queue's depth, read at scrape time.
type Sources struct {
	QueueDepth func() (queued, running int)
	Pending    func() map[string]int // pending accounts per tenant
}

// New registers the metrics; src is read at each scrape.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.scans = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_scans_total",
		Help: "Full scans ended, by what queued them and how they ended."}, []string{"cause", "state"})
	m.scanCalls = prometheus.NewCounter(prometheus.CounterOpts{Name: "seatlens_scan_calls_total",
		Help: "Calls to Atlassian made by full scans that ended."})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_deliveries_total",
		Help: "Accounts named by webhook deliveries, Forge events and audit-log events, by source and whether they were new or duplicates."}, []string{"source", "outcome"})
	m.rescans = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_rescan_accounts_total",
		Help: "Accounts whose targeted rescan ended, by outcome (done, escalated, failed)."}, []string{"outcome"})
	m.rescanCalls = prometheus.NewCounter(prometheus.CounterOpts{Name: "seatlens_rescan_calls_total",
		Help: "Calls to Atlassian made by targeted rescans."})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_atlassian_calls_total",
		Help: "Requests sent to Atlassian, by API (jira, org) and answer status (2xx, 4xx, 429, 5xx, none)."}, []string{"api", "status"})
	m.points = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_atlassian_points_total",
		Help: "Atlassian rate-limit points spent, by API."}, []string{"api"})
	m.waits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_atlassian_wait_seconds_total",
		Help: "Time calls waited on backoffs and rate-limit pauses, by API."}, []string{"api"})
	m.auditPolls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seatlens_audit_polls_total",
		Help: "Org audit-log polls, by outcome."}, []string{"outcome"})
	m.auditEvents = prometheus.NewCounter(prometheus.CounterOpts{Name: "seatlens_audit_events_total",
		Help: "Org audit-log events read by polls."})
	for _, c := range []prometheus.Collector{m.scans, m.scanCalls, m.deliveries, m.rescans, m.rescanCalls, m.calls, m.points, m.waits, m.auditPolls, m.auditEvents} {
		f(c)
	}
	if src.QueueDepth != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "seatlens_scan_queue_queued",
			Help: "Tenants with a full scan waiting to start."}, func() float64 { q, _ := src.QueueDepth(); return float64(q) }))
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "seatlens_scan_queue_running",
			Help: "Full scans running."}, func() float64 { _, r := src.QueueDepth(); return float64(r) }))
	}
	if src.Pending != nil {
		f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "seatlens_rescan_pending_accounts",
			Help: "Accounts awaiting a targeted rescan, all tenants."}, func() float64 {
			n := 0
			for _, v := range src.Pending() {
				n += v
			}
			return float64(n)
		}))
	}
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ScanEnded counts a finished scan.
func (m *Metrics) ScanEnded(cause, state string, calls int) {
	m.scans.WithLabelValues(cause, state).Inc()
	m.scanCalls.Add(float64(calls))
}

// Delivery counts an account named by a delivery (rescan.Inbox).
func (m *Metrics) Delivery(source, outcome string) {
	m.deliveries.WithLabelValues(source, outcome).Inc()
}

// Rescanned counts a batch of targeted rescans (rescan.Worker).
func (m *Metrics) Rescanned(outcome string, accounts, calls, _ int) {
	m.rescans.WithLabelValues(outcome).Add(float64(accounts))
	m.rescanCalls.Add(float64(calls))
}

// PendingAccounts is read from the worker at scrape time instead.
func (m *Metrics) PendingAccounts(string, int) {}

// AuditPoll counts one poll of one tenant's audit log (rescan.Poller).
func (m *Metrics) AuditPoll(outcome string, events int) {
	m.auditPolls.WithLabelValues(outcome).Inc()
	m.auditEvents.Add(float64(events))
}

// Call counts one request to Atlassian (atlassian.Observer).
func (m *Metrics) Call(op string, status, points int) {
	api := apiOf(op)
	m.calls.WithLabelValues(api, statusClass(status)).Inc()
	if points > 0 {
		m.points.WithLabelValues(api).Add(float64(points))
	}
}

// Wait adds a backoff or rate-limit pause (atlassian.Observer).
func (m *Metrics) Wait(op string, d time.Duration) {
	m.waits.WithLabelValues(apiOf(op)).Add(d.Seconds())
}

// apiOf tells the Organizations API's operations (named org.…) from
// Jira's.
func apiOf(op string) string {
	if strings.HasPrefix(op, "org.") {
		return "org"
	}
	return "jira"
}

func statusClass(status int) string {
	switch {
	case status == 0:
		return "none"
	case status == http.StatusTooManyRequests:
		return "429"
	default:
		return strconv.Itoa(status/100) + "xx"
	}
}

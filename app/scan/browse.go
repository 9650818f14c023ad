package scan

import (
	"container/list"
	"context"
	"sync"

	"github.com/seatlens/seatlens/app/billing"
	"github.com/seatlens/seatlens/app/seats"
	"github.com/seatlens/seatlens/store"
)

// indexCacheSize bounds the seat indexes kept in memory: a 100k-user
// scan's index is some tens of MB, and the server's memory must not grow
// with the number of tenants. The latest scan of the tenants browsing now
// stays; another is rebuilt from the store (about a second at 100k users).
const indexCacheSize = 4

// indexCache is a small LRU of seat indexes by tenant and scan.
type indexCache struct {
	mu    sync.Mutex
	order *list.List // of *cached, most recent first
	byKey map[[2]string]*list.Element
	// building coalesces concurrent builds of one index.
	building map[[2]string]*sync.WaitGroup
}

type cached struct {
	key [2]string
	idx *seats.Index
}

func (c *indexCache) get(key [2]string) *seats.Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*cached).idx
	}
	return nil
}

func (c *indexCache) put(key [2]string, idx *seats.Index) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey, c.order = map[[2]string]*list.Element{}, list.New()
	}
	if el, ok := c.byKey[key]; ok {
		el.Value.(*cached).idx = idx
		c.order.MoveToFront(el)
		return
	}
	c.byKey[key] = c.order.PushFront(&cached{key: key, idx: idx})
	for c.order.Len() > indexCacheSize {
		last := c.order.Back()
		delete(c.byKey, last.Value.(*cached).key)
		c.order.Remove(last)
	}
}

// indexOf builds the seat index of finished findings.
func indexOf(id string, f *billing.Findings) *seats.Index {
	b := seats.NewBuilder(id, f.ScannedAt, len(f.Users))
	for i := range f.Users {
		b.Add(&f.Users[i])
	}
	return b.Index()
}

// Seats returns the seat index of a finished scan (id may be Latest), from
// memory or rebuilt from the store. ErrNoScan when there is none.
func (q *Queue) Seats(ctx context.Context, clientKey, id string) (*seats.Index, error) {
	var rec Record
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		r, err := findRecord(tx, clientKey, id)
		rec = r
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec.State != StateDone {
		return nil, ErrNoScan
	}
	key := [2]string{clientKey, rec.ID}
	for {
		if idx := q.index.get(key); idx != nil {
			return idx, nil
		}
		q.index.mu.Lock()
		if q.index.building == nil {
			q.index.building = map[[2]string]*sync.WaitGroup{}
		}
		if wg, busy := q.index.building[key]; busy {
			q.index.mu.Unlock()
			wg.Wait()
			continue
		}
		wg := &sync.WaitGroup{}
		wg.Add(1)
		q.index.building[key] = wg
		q.index.mu.Unlock()
		idx, err := q.buildIndex(ctx, clientKey, rec)
		q.index.mu.Lock()
		delete(q.index.building, key)
		q.index.mu.Unlock()
		wg.Done()
		if err != nil {
			return nil, err
		}
		q.index.put(key, idx)
		return idx, nil
	}
}

// buildIndex reads a finished scan's users from the store into an index.
func (q *Queue) buildIndex(ctx context.Context, clientKey string, rec Record) (*seats.Index, error) {
	var b *seats.Builder
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		_, f, err := head(tx, clientKey, rec.ID)
		if err != nil {
			return err
		}
		b = seats.NewBuilder(rec.ID, f.ScannedAt, f.Totals.Users)
		return eachUser(tx, clientKey, rec.ID, b.Add)
	})
	if err != nil {
		return nil, err
	}
	return b.Index(), nil
}

// Summary returns a finished scan's findings without their users: the
// products, groups, site findings and totals the overview shows.
func (q *Queue) Summary(ctx context.Context, clientKey, id string) (*billing.Findings, error) {
	var f *billing.Findings
	err := q.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		_, f, err = head(tx, clientKey, id)
		return err
	})
	return f, err
}

// drop forgets an index (its scan's findings changed).
func (c *indexCache) drop(key [2]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		delete(c.byKey, key)
		c.order.Remove(el)
	}
}

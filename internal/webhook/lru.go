package webhook

import (
	"container/list"
	"sync"
	"time"
)

// lru is a size-bounded least-recently-used map whose entries may expire.
// Safe for concurrent use.
type lru[V any] struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recently used; elements hold *lruItem[V]
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key     string
	value   V
	expires time.Time // zero: never
}

// newLRU returns an lru holding at most size entries (at least 1).
func newLRU[V any](size int) *lru[V] {
	if size < 1 {
		size = 1
	}
	return &lru[V]{size: size, order: list.New(), items: make(map[string]*list.Element, size)}
}

// get returns the live value under key; an expired entry is dropped.
func (c *lru[V]) get(key string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	it := el.Value.(*lruItem[V])
	if !it.expires.IsZero() && !now.Before(it.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return it.value, true
}

// add stores value under key until expires (zero: until evicted).
func (c *lru[V]) add(key string, value V, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		it := el.Value.(*lruItem[V])
		it.value, it.expires = value, expires
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruItem[V]{key: key, value: value, expires: expires})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruItem[V]).key)
	}
}

package fs

import (
	"container/list"
	"os"
	"sync"
)

// fdCache keeps the cache files of recently read message files open.
// With zero-message opens (see fileNode.Open) the kernel sends READ
// requests without a file handle; this spares an open(2) per request.
// A file is closed only when evicted and no read is using it.
type fdCache struct {
	mu    sync.Mutex
	max   int
	lru   *list.List // of *fdEntry, most recent first
	byKey map[*fileNode]*list.Element
}

type fdEntry struct {
	key     *fileNode
	of      copyRef // the copy the file holds
	file    *os.File
	users   int
	evicted bool
}

func newFDCache(max int) *fdCache {
	return &fdCache{max: max, lru: list.New(), byKey: map[*fileNode]*list.Element{}}
}

// copyRef names the copy of a message a cache file holds.
type copyRef struct {
	folder  string
	uv, uid uint32
}

// get returns the open cache file of n's copy of, opening it with open if
// needed; a file open for another copy (the name shows another UID now)
// is let go. The caller must call release when done with it.
func (c *fdCache) get(n *fileNode, of copyRef, open func() (*os.File, error)) (*fdEntry, error) {
	c.mu.Lock()
	if el, ok := c.byKey[n]; ok {
		e := el.Value.(*fdEntry)
		if e.of == of {
			e.users++
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e, nil
		}
		c.evict(el)
	}
	c.mu.Unlock()
	file, err := open() // may download or render: no lock held
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[n]; ok { // opened meanwhile by another reader
		if e := el.Value.(*fdEntry); e.of == of {
			file.Close()
			e.users++
			return e, nil
		}
		c.evict(el)
	}
	e := &fdEntry{key: n, of: of, file: file, users: 1}
	c.byKey[n] = c.lru.PushFront(e)
	for c.lru.Len() > c.max {
		c.evict(c.lru.Back())
	}
	return e, nil
}

// evict drops an entry; its file is closed once no read uses it. c.mu
// must be held.
func (c *fdCache) evict(el *list.Element) {
	old := c.lru.Remove(el).(*fdEntry)
	delete(c.byKey, old.key)
	old.evicted = true
	if old.users == 0 {
		old.file.Close()
	}
}

func (c *fdCache) release(e *fdEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.users--
	if e.users == 0 && e.evicted {
		e.file.Close()
	}
}

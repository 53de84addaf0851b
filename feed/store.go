package feed

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Store holds the loaded schedules, one per conference acronym. Readers get
// an immutable snapshot without locking; a reload swaps a whole schedule in
// at once, so a request in flight finishes on the schedule it started with.
type Store struct {
	mu      sync.Mutex // serialises writers
	current atomic.Pointer[catalog]
}

// catalog is one immutable state of the store.
type catalog struct {
	byAcronym map[string]*Schedule
	order     []string // acronyms in the order they were first added; order[0] is the default
}

// NewStore returns a store holding schedules; the first is the default,
// served on the root routes. Acronyms must be unique.
func NewStore(schedules ...*Schedule) (*Store, error) {
	if len(schedules) == 0 {
		return nil, fmt.Errorf("no schedule to serve")
	}
	c := &catalog{byAcronym: make(map[string]*Schedule, len(schedules))}
	for _, s := range schedules {
		a := s.Conference.Acronym
		if _, dup := c.byAcronym[a]; dup {
			return nil, fmt.Errorf("two schedules for conference %q: acronyms must be unique", a)
		}
		c.byAcronym[a] = s
		c.order = append(c.order, a)
	}
	st := &Store{}
	st.current.Store(c)
	return st, nil
}

// Default returns the schedule the root routes serve.
func (st *Store) Default() *Schedule {
	c := st.current.Load()
	return c.byAcronym[c.order[0]]
}

// Get returns the schedule of the conference with the given acronym.
func (st *Store) Get(acronym string) (*Schedule, bool) {
	s, ok := st.current.Load().byAcronym[acronym]
	return s, ok
}

// All returns every schedule, the default first.
func (st *Store) All() []*Schedule {
	c := st.current.Load()
	out := make([]*Schedule, len(c.order))
	for i, a := range c.order {
		out[i] = c.byAcronym[a]
	}
	return out
}

// Acronyms lists the conferences, the default first.
func (st *Store) Acronyms() []string { return slices.Clone(st.current.Load().order) }

// Replace swaps in s for the conference with the same acronym, or adds it.
func (st *Store) Replace(s *Schedule) {
	st.mu.Lock()
	defer st.mu.Unlock()
	old := st.current.Load()
	c := &catalog{byAcronym: make(map[string]*Schedule, len(old.byAcronym)+1), order: old.order}
	for a, sched := range old.byAcronym {
		c.byAcronym[a] = sched
	}
	a := s.Conference.Acronym
	if _, ok := c.byAcronym[a]; !ok {
		c.order = append(slices.Clone(old.order), a)
	}
	c.byAcronym[a] = s
	st.current.Store(c)
}

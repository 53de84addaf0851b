package feed

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultKeepCancelled is how long a session that vanished from its source
// stays in feeds as cancelled when JournalOptions do not say.
const DefaultKeepCancelled = 30 * 24 * time.Hour

// Journal remembers, per conference and session, a hash of the session's
// material content, its SEQUENCE and when it last changed, so that feeds
// tell calendar apps what changed: apps update an event only when its
// SEQUENCE grows, and keep events that silently vanish from a feed.
//
// Apply is the one place the clock enters the feeds: a change is stamped
// with the time of the load that noticed it, and that time is recorded, so
// later renders of the same schedule are byte-identical.
type Journal interface {
	// Apply compares s, a schedule as parsed from its source, with what the
	// journal knows of its conference, records the differences in one
	// atomic write, and returns a new schedule with the revisions set and
	// the recently removed sessions added as cancelled. It does not modify
	// s. On error nothing is recorded.
	Apply(ctx context.Context, s *Schedule, now time.Time) (*Schedule, error)
	// Close releases the journal's storage.
	Close() error
}

// JournalOptions tunes a journal.
type JournalOptions struct {
	// KeepCancelled is how long a session that vanished from its source
	// stays in feeds as cancelled; 0 means DefaultKeepCancelled. After that
	// only its SEQUENCE is kept, so that it never goes down should the
	// session come back.
	KeepCancelled time.Duration
	// Logger receives what the journal noticed, and a recovery from a
	// damaged file; nil means slog.Default().
	Logger *slog.Logger
	// Registerer, when set, gets confcal_journal_changes_total.
	Registerer prometheus.Registerer
}

func (o JournalOptions) keep() time.Duration {
	if o.KeepCancelled <= 0 {
		return DefaultKeepCancelled
	}
	return o.KeepCancelled
}

func (o JournalOptions) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// revision is what a journal keeps of one session, stored as JSON. The
// session's last known content, to render it cancelled once it is gone from
// the source, is kept beside it, as its marshalEvent JSON: a load reads only
// the revisions, and the content of the sessions that vanished.
type revision struct {
	Hash string `json:"hash"` // materialHash of the last known content
	// Content is contentHash of the last known content. A record without
	// it is never compared by content; the next load the session is in
	// fills it in.
	Content  string    `json:"content,omitempty"`
	Sequence int       `json:"seq"`
	Modified time.Time `json:"modified"` // when the last change was noticed
	// Removed is when the session vanished from the source; zero while it
	// is there. Expired says it has been cancelled for longer than
	// KeepCancelled: it is left out of the feeds and its content is
	// dropped.
	Removed time.Time `json:"removed,omitzero"`
	Expired bool      `json:"expired,omitempty"`
}

func (r revision) equal(o revision) bool {
	return r.Hash == o.Hash && r.Content == o.Content && r.Sequence == o.Sequence && r.Modified.Equal(o.Modified) &&
		r.Removed.Equal(o.Removed) && r.Expired == o.Expired
}

// stamp is when a journal first saw a conference's schedule as it is
// now: the HTTP Last-Modified of all its feeds. Stored as JSON.
type stamp struct {
	Version string    `json:"version"` // the revised schedule's Version, without the stamp
	Time    time.Time `json:"time"`
}

// journalState is one conference's journal as revise reads it.
type journalState struct {
	records map[string]revision // by session GUID
	// content returns the kept content of a session, by GUID; nil when
	// there is none.
	content func(guid string) []byte
	stamp   stamp // zero before the first load
	// recovered is when the journal was started afresh after its file was
	// damaged; zero otherwise. See sequenceFloor.
	recovered time.Time
}

// journalChanges is what revise noticed, to log, and the records to write.
type journalChanges struct {
	writes   map[string]revision
	contents map[string][]byte // content to keep by GUID; nil to drop it
	stamp    *stamp            // to write; nil when it stays
	// lost names the cancelled sessions whose kept content did not decode
	// (a damaged file), and why: they leave the feeds early.
	lost                                         []string
	added, changed, cancelled, restored, expired int
}

// report counts the changes of acronym's schedule in m (when not nil) and
// logs them, unless the sessions are only new.
func (c journalChanges) report(ctx context.Context, logger *slog.Logger, m *prometheus.CounterVec, acronym string) {
	if m != nil {
		// Every kind is exported, at 0 until it happens: a series born at
		// its first change would hide that change from increase().
		for change, n := range map[string]int{"new": c.added, "changed": c.changed, "cancelled": c.cancelled,
			"restored": c.restored, "expired": c.expired, "lost": len(c.lost)} {
			m.WithLabelValues(acronym, change).Add(float64(n))
		}
	}
	if len(c.lost) > 0 {
		logger.ErrorContext(ctx, "the journal's copy of cancelled sessions is unusable; they leave the feeds instead of showing as cancelled",
			"conference", acronym, "sessions", c.lost)
	}
	if c.changed+c.cancelled+c.restored+c.expired == 0 {
		return
	}
	logger.InfoContext(ctx, "schedule changes recorded", "conference", acronym, "changed", c.changed,
		"cancelled", c.cancelled, "restored", c.restored, "expired", c.expired, "new", c.added)
}

// newJournalMetric registers the journal's counter with reg; nil when reg
// is. A journal opened again with the same registry shares the counter.
func newJournalMetric(reg prometheus.Registerer) *prometheus.CounterVec {
	if reg == nil {
		return nil
	}
	m := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "confcal_journal_changes_total",
		Help: "Session changes the change journal recorded, by conference and kind: new, changed, cancelled, restored (back after a cancellation), expired (cancelled long enough to leave feeds) and lost (cancelled, but its kept content was unusable: it left feeds at once).",
	}, []string{"conference", "change"})
	if err := reg.Register(m); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
		panic(err) // a programming error, as with MustRegister
	}
	return m
}

// revise applies the journal st to the source schedule src at now: the
// heart of every Journal. Sessions seen for the first time get SEQUENCE 0
// and the schedule's Updated, so a first load renders exactly as without a
// journal; a material change, a removal and a return each add 1 to SEQUENCE
// and stamp the session with now.
//
// It revises the sessions of the source, then those that vanished from it,
// builds the schedule of both, and stamps its Version.
func revise(src *Schedule, st journalState, now time.Time, keep time.Duration) (*Schedule, journalChanges, error) {
	now = now.UTC().Truncate(time.Second) // RFC 5545 times have seconds
	ch := journalChanges{writes: make(map[string]revision), contents: make(map[string][]byte)}
	latest := latestRecords(st.records)
	events, err := reviseLive(src, st, latest, now, &ch)
	if err != nil {
		return nil, ch, err
	}
	cancelled := reviseVanished(src, st, latest, now, keep, &ch)
	s, err := revisedSchedule(src, append(events, cancelled...))
	if err != nil {
		return nil, ch, err
	}
	ch.stamp = stampVersion(s, st.stamp, now)
	return s, ch, nil
}

// latestRecords maps each GUID of records, in lower case, to the GUID of
// the session's record: NewSchedule takes GUIDs that differ only in case
// for one session, and a source may change the case of a GUID. Journals
// before that was seen to can hold a record for each case: the one that
// goes on is the one not expired, then the one with the highest SEQUENCE;
// the others are left behind.
func latestRecords(records map[string]revision) map[string]string {
	latest := make(map[string]string, len(records))
	for guid, r := range records {
		key := strings.ToLower(guid)
		g, ok := latest[key]
		if !ok {
			latest[key] = guid
			continue
		}
		o := records[g]
		if cmp.Or(cmp.Compare(expiredRank(o), expiredRank(r)), cmp.Compare(r.Sequence, o.Sequence), strings.Compare(guid, g)) > 0 {
			latest[key] = guid
		}
	}
	return latest
}

// expiredRank orders records for latestRecords: expired ones last.
func expiredRank(r revision) int {
	if r.Expired {
		return 1
	}
	return 0
}

// reviseLive returns the sessions of src with their revisions set, and
// adds to ch the records that change and the counts of what did. latest is
// latestRecords(st.records).
func reviseLive(src *Schedule, st journalState, latest map[string]string, now time.Time, ch *journalChanges) ([]Event, error) {
	firstSeq, firstModified := 0, src.Updated
	if !st.recovered.IsZero() {
		firstSeq, firstModified = sequenceFloor(st.recovered), maxTime(src.Updated, st.recovered)
	}
	events := make([]Event, 0, len(src.Events))
	for _, e := range src.Events {
		guid, known := latest[strings.ToLower(e.GUID)]
		if known {
			// A source may change the case of a GUID: the session keeps
			// the case the journal first saw, so that its UID never
			// changes.
			e.GUID = guid
		}
		data, err := marshalEvent(e)
		if err != nil {
			return nil, err
		}
		old := st.records[guid]
		r := old
		r.Hash, r.Content = materialHash(e), contentHash(data)
		switch {
		case !known:
			r.Sequence, r.Modified = firstSeq, firstModified
			ch.added++
		case !old.Removed.IsZero(): // back after a cancellation
			r.Sequence, r.Modified, r.Removed, r.Expired = old.Sequence+1, now, time.Time{}, false
			ch.restored++
		case old.Hash != r.Hash:
			r.Sequence, r.Modified = old.Sequence+1, now
			ch.changed++
		case old.Content != "" && old.Content != r.Content:
			// What changed keeps the SEQUENCE (an abstract, a track, a
			// link), but the feeds show it: LAST-MODIFIED must grow.
			r.Modified = now
			ch.changed++
		}
		if !known || !r.equal(old) {
			ch.writes[e.GUID], ch.contents[e.GUID] = r, data
		}
		e.Sequence, e.Modified, e.Cancelled = r.Sequence, r.Modified, false
		events = append(events, e)
	}
	return events, nil
}

// reviseVanished returns, cancelled, the sessions of the journal st that
// are not in src and whose cancellation has not expired, in GUID order. It
// cancels those that just vanished, expires those cancelled for at least
// keep, and adds to ch the records that change and the counts of what did.
// A record a session left behind when its GUID changed case (see
// latestRecords) expires with the session's cancellation.
func reviseVanished(src *Schedule, st journalState, latest map[string]string, now time.Time, keep time.Duration, ch *journalChanges) []Event {
	live := make(map[string]bool, 3*len(src.Events)) // GUIDs (in lower case), IDs and slugs of the source
	for _, e := range src.Events {
		live[strings.ToLower(e.GUID)], live["id:"+e.ID], live["slug:"+e.Slug] = true, true, true
	}
	var events []Event
	for _, guid := range slices.Sorted(maps.Keys(st.records)) {
		old, key := st.records[guid], strings.ToLower(guid)
		if live[key] || old.Expired {
			continue
		}
		r := old
		if latest[key] != guid { // left behind
			r.Expired = true
			ch.writes[guid], ch.contents[guid] = r, nil
			continue
		}
		if r.Removed.IsZero() {
			r.Sequence, r.Modified, r.Removed = old.Sequence+1, now, now
			ch.cancelled++
		}
		var e Event
		if now.Sub(r.Removed) >= keep {
			r.Expired = true
			ch.expired++
		} else if err := decodeContent(st.content(guid), &e); err != nil {
			r.Expired = true
			ch.lost = append(ch.lost, guid+": "+err.Error())
		}
		if !r.equal(old) {
			ch.writes[guid] = r
		}
		if r.Expired {
			ch.contents[guid] = nil
			continue
		}
		e.GUID, e.Sequence, e.Modified, e.Cancelled = guid, r.Sequence, r.Modified, true
		// The source may have given a new session the old one's id or
		// slug; the live session keeps it, for /sessions/{id}.ics.
		if live["id:"+e.ID] {
			e.ID = ""
		}
		if live["slug:"+e.Slug] {
			e.Slug = ""
		}
		events = append(events, e)
	}
	return events
}

// decodeContent decodes a session's kept content into e: it must be there,
// decode, and be a session NewSchedule takes.
func decodeContent(data []byte, e *Event) error {
	if data == nil {
		return errors.New("no content kept")
	}
	if err := json.Unmarshal(data, e); err != nil {
		return err
	}
	if e.Duration <= 0 {
		return errors.New("no duration")
	}
	return checkSpan(e.Start, e.End()) // kept when schedules had no bounds
}

// revisedSchedule is the schedule of src's conference with events, the
// revised sessions of src followed by the cancelled ones. Its Version is
// not stamped yet.
func revisedSchedule(src *Schedule, events []Event) (*Schedule, error) {
	if unrevised(src, events) {
		// Nothing to show beyond the source (a first load, or no change
		// ever): serve the parsed schedule rather than one built again.
		c := *src
		return &c, nil
	}
	s, err := NewSchedule(src.Conference, events)
	if err != nil {
		return nil, err
	}
	s.Updated, s.Warnings = src.Updated, src.Warnings
	s.Version = revisedVersion(src.Version, s)
	return s, nil
}

// stampVersion sets s.Revised, and ends s.Version with it, from last, the
// journal's stamp, or from a new stamp at now when s.Version is not last's.
// It returns the new stamp to write, or nil when last stays.
func stampVersion(s *Schedule, last stamp, now time.Time) *stamp {
	// Any change to what the feeds show changes the Version: a session's
	// own, one moving to another track or leaving the feeds, the
	// conference's. A new Version gets a new stamp, later than the last
	// even within a second or when the clock went back, so Last-Modified
	// never stands still or goes back while the feeds change. The first
	// is now: the source's date may be a guess, and in the future.
	var next *stamp
	switch {
	case last.Version == "":
		next = &stamp{Version: s.Version, Time: now}
	case last.Version != s.Version:
		next = &stamp{Version: s.Version, Time: maxTime(now, last.Time.Add(time.Second))}
	}
	s.Revised = last.Time
	if next != nil {
		s.Revised = next.Time
	}
	// Renders are cached by Version, with their Last-Modified: a schedule
	// changed back to an earlier Version must not find the renders of then.
	s.Version += "@" + strconv.FormatInt(s.Revised.Unix(), 10)
	return next
}

// unrevised reports whether events are exactly src's events, none with a
// revision of its own.
func unrevised(src *Schedule, events []Event) bool {
	if len(events) != len(src.Events) {
		return false
	}
	for i, e := range events {
		if hasRevision(e, src.Updated) || e.GUID != src.Events[i].GUID {
			return false
		}
	}
	return true
}

// hasRevision reports whether e, in a schedule updated at updated, has a
// revision of its own: it is cancelled, its SEQUENCE is not 0, or it was
// modified at another time than the schedule.
func hasRevision(e Event, updated time.Time) bool {
	return e.Cancelled || e.Sequence != 0 || !e.Modified.IsZero() && !e.Modified.Equal(updated)
}

// sequenceFloor is the SEQUENCE of every session in a journal started
// afresh at t after the old one was lost: the seconds since 2020. It is
// higher than any SEQUENCE the lost journal gave, because counting from 0
// (or from an earlier floor) a session would have had to change more than
// once a second, each change noticed by a load of its own. It fits RFC
// 5545's INTEGER (32 bits) until 2088.
func sequenceFloor(t time.Time) int {
	return max(1, int(t.Sub(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))/time.Second))
}

// materialHash identifies what makes a session worth a new SEQUENCE (RFC
// 5545 §3.8.7.4): when and where it is, what it is called and who gives it.
// Other fields (abstract, links, track) are rendered but do not bump it.
// The "v1" prefix changes if the fields ever do, which bumps every session
// once.
func materialHash(e Event) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("v1")
	field(e.Start.UTC().Format(time.RFC3339))
	field(e.Duration.String())
	field(e.Room)
	field(fmt.Sprint(e.Online))
	field(e.Title)
	for _, p := range e.Speakers {
		field(p.Name)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// contentHash identifies everything of a session its VEVENT shows, from
// its marshalEvent JSON: when it changes, so does LAST-MODIFIED.
func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// marshalEvent is the compact JSON of e's content, without its revision,
// the slugs NewSchedule gives or the track's colour: those depend on the
// other sessions (a cancelled session, restored from it, shows its
// track's colour as the live ones give it), and no VEVENT shows them.
func marshalEvent(e Event) ([]byte, error) {
	e.Sequence, e.Modified, e.Cancelled = 0, time.Time{}, false
	e.Track.Slug, e.Track.Color = "", ""
	e.Speakers = slices.Clone(e.Speakers)
	for i := range e.Speakers {
		e.Speakers[i].Slug = ""
	}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", e.GUID, err)
	}
	return data, nil
}

// revisedVersion is the source version when no event has a revision of its
// own (a first load), and otherwise the source version followed by a hash
// of the revisions: the render cache is keyed by Version, and a session's
// cancellation expiring changes the feeds but not the source.
func revisedVersion(source string, s *Schedule) string {
	var h hash.Hash
	for _, e := range s.Events {
		if !hasRevision(e, s.Updated) {
			continue
		}
		if h == nil {
			h = sha256.New()
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%t\x00", e.GUID, e.Sequence, e.Modified.Unix(), e.Cancelled)
		if e.Cancelled {
			data, _ := marshalEvent(e) // it was unmarshalled from JSON
			h.Write(data)
		}
	}
	if h == nil {
		return source
	}
	return source + "+" + hex.EncodeToString(h.Sum(nil)[:8])
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// LastModified is the HTTP Last-Modified of every feed of the schedule:
// Revised, when a Journal revised it, and Updated otherwise. It must grow
// whenever a feed's content does, and a feed's own sessions cannot say
// when one of them left it (moved to another track, or dropped after its
// cancellation), so feeds share their schedule's.
func (s *Schedule) LastModified() time.Time {
	if !s.Revised.IsZero() {
		return s.Revised
	}
	return s.Updated
}

// MemoryJournal is a Journal held in memory: it starts at the first load
// and is lost on restart, when every SEQUENCE starts again from 0, lower
// than clients saw. Use a BoltJournal to keep it.
type MemoryJournal struct {
	opts         JournalOptions
	mu           sync.Mutex
	byConference map[string]map[string]revision
	contents     map[string]map[string][]byte // by conference, then GUID
	stamps       map[string]stamp
	changes      *prometheus.CounterVec // nil without a registry
}

// NewMemoryJournal returns an empty journal held in memory.
func NewMemoryJournal(opts JournalOptions) *MemoryJournal {
	return &MemoryJournal{opts: opts, byConference: make(map[string]map[string]revision),
		contents: make(map[string]map[string][]byte), stamps: make(map[string]stamp), changes: newJournalMetric(opts.Registerer)}
}

// Apply implements Journal.
func (j *MemoryJournal) Apply(ctx context.Context, s *Schedule, now time.Time) (*Schedule, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	a := s.Conference.Acronym
	records, contents := j.byConference[a], j.contents[a]
	st := journalState{records: records, content: func(guid string) []byte { return contents[guid] }, stamp: j.stamps[a]}
	revised, ch, err := revise(s, st, now, j.opts.keep())
	if err != nil {
		return nil, fmt.Errorf("journal of %s: %w", a, err)
	}
	if records == nil {
		records, contents = make(map[string]revision, len(ch.writes)), make(map[string][]byte, len(ch.contents))
		j.byConference[a], j.contents[a] = records, contents
	}
	maps.Copy(records, ch.writes)
	for guid, data := range ch.contents {
		if data == nil {
			delete(contents, guid)
		} else {
			contents[guid] = data
		}
	}
	if ch.stamp != nil {
		j.stamps[a] = *ch.stamp
	}
	ch.report(ctx, j.opts.logger(), j.changes, a)
	return revised, nil
}

// Close implements Journal; it forgets everything.
func (j *MemoryJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	clear(j.byConference)
	clear(j.contents)
	clear(j.stamps)
	return nil
}

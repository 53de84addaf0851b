package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// BoltJournal is a Journal kept in one bbolt file: a copy-on-write B+tree
// whose transactions are fsynced before they count, so a crash loses
// nothing committed. Each Apply is one transaction. bbolt locks the file:
// one process at a time, so replicas cannot share it (see the README).
type BoltJournal struct {
	db        *bolt.DB
	opts      JournalOptions
	recovered time.Time              // when this journal replaced a damaged one; zero if it never did
	changes   *prometheus.CounterVec // nil without a registry
}

// The layout of the file: meta holds the format and the recovery time;
// conferences holds a bucket per acronym, of revision JSON by session GUID;
// contents holds a bucket per acronym, of each session's last known content
// (marshalEvent JSON) by GUID, until its cancellation expires; stamps holds
// the stamp JSON of each acronym; sources holds a bucket per
// schedule source, by its location, of its last good bytes (data, gzip),
// when they were kept (saved) and the content version of data (version).
var (
	bucketMeta        = []byte("meta")
	bucketConferences = []byte("conferences")
	bucketContents    = []byte("contents")
	bucketStamps      = []byte("stamps")
	bucketSources     = []byte("sources")
	keyFormat         = []byte("format")
	keyRecovered      = []byte("recovered")
	keyData           = []byte("data")
	keySaved          = []byte("saved")
	keyVersion        = []byte("version")
)

// journalFormat is the layout above. Format 1 kept each session's content
// in its revision; OpenBoltJournal moves it to contents.
const (
	journalFormat  = "2"
	journalFormat1 = "1"
)

// errJournalDamaged marks a journal file that cannot be read; OpenBoltJournal
// moves it aside and starts afresh.
var errJournalDamaged = errors.New("journal file damaged")

// errNoChanges rolls back a transaction that has nothing to write, so a
// reload that changes nothing costs no fsync.
var errNoChanges = errors.New("no changes")

// OpenBoltJournal opens the journal at path, creating it if needed.
//
// A file that is not a readable journal (not bbolt, a bad checksum, a page
// bbolt cannot read, a revision or stamp that does not decode) is moved
// aside to path.damaged-<time>, the recovery is logged as an error, and a
// fresh journal starts whose sessions get a SEQUENCE from the clock (see
// sequenceFloor): higher than any the lost journal gave, since clients
// ignore an update whose SEQUENCE is not. A file locked by another process
// is an error, not damage.
func OpenBoltJournal(path string, opts JournalOptions) (*BoltJournal, error) {
	db, err := openBolt(path)
	if errors.Is(err, errJournalDamaged) {
		db, err = recoverBolt(path, err, opts)
	}
	if err != nil {
		return nil, err
	}
	j := &BoltJournal{db: db, opts: opts, changes: newJournalMetric(opts.Registerer)}
	converted := false
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bucketConferences, bucketContents, bucketStamps} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		switch f := meta.Get(keyFormat); {
		case string(f) == journalFormat1:
			if err := moveContents(tx); err != nil {
				return err
			}
			converted = true
			fallthrough
		case f == nil:
			if err := meta.Put(keyFormat, []byte(journalFormat)); err != nil {
				return err
			}
		case string(f) != journalFormat:
			return fmt.Errorf("format %q is not %q: written by another version of confcal", f, journalFormat)
		}
		if v := meta.Get(keyRecovered); v != nil {
			return j.recovered.UnmarshalText(v)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if converted {
		opts.logger().Info("journal converted to this version's format, which earlier versions of confcal cannot open",
			"journal", path, "format", journalFormat)
	}
	return j, nil
}

// openBolt opens path and reads every record once, so that damage shows
// when the journal opens, as errJournalDamaged, rather than in the middle
// of a reload.
func openBolt(path string) (*bolt.DB, error) {
	db, err := readBolt(path)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("journal %s is locked by another process: a bbolt file serves one process at a time", path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("journal %s: %w: %w", path, errJournalDamaged, err)
	case err != nil:
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return db, nil
}

// readBolt opens path and decodes every record, turning what bbolt does
// on pages it cannot make sense of (a panic, a memory fault) into
// errJournalDamaged.
//
// The records are read through a handle of their own, closed before the
// journal's is opened: closing unmaps every page the reading touched,
// most of them contents that a load never reads, which would otherwise
// stay resident for as long as the process runs.
func readBolt(path string) (*bolt.DB, error) {
	var db *bolt.DB
	err := safely(func() (err error) {
		if db, err = openMapped(path, bolt.Open); err != nil {
			return err
		}
		return db.View(readRecords)
	})
	if db != nil {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return nil, err
	}
	err = safely(func() (err error) {
		db, err = openMapped(path, bolt.Open)
		return err
	})
	if err != nil {
		return nil, err
	}
	db.AllocSize = allocSize
	return db, nil
}

// readRecords decodes every stamp and revision of tx, so that damage shows
// when the journal opens.
func readRecords(tx *bolt.Tx) error {
	if stamps := tx.Bucket(bucketStamps); stamps != nil {
		err := stamps.ForEach(func(acronym, v []byte) error {
			var st stamp
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("%w: conference %s, stamp: %w", errJournalDamaged, acronym, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if confs := tx.Bucket(bucketConferences); confs != nil {
		err := confs.ForEachBucket(func(acronym []byte) error {
			if _, err := readRevisions(confs.Bucket(acronym)); err != nil {
				return fmt.Errorf("%w: conference %s, %w", errJournalDamaged, acronym, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// Contents are decoded only when their session vanishes, and one that
	// does not decode then costs that session its cancelled entry, not the
	// journal; walking them finds damaged pages, on which bbolt panics.
	if contents := tx.Bucket(bucketContents); contents != nil {
		return contents.ForEachBucket(func(acronym []byte) error {
			return contents.Bucket(acronym).ForEach(func(_, _ []byte) error { return nil })
		})
	}
	return nil
}

// moveContents rewrites a format 1 journal in tx to format 2: it moves
// each session's content out of its revision into contents.
func moveContents(tx *bolt.Tx) error {
	confs := tx.Bucket(bucketConferences)
	var acronyms [][]byte
	err := confs.ForEachBucket(func(acronym []byte) error {
		acronyms = append(acronyms, bytes.Clone(acronym))
		return nil
	})
	if err != nil {
		return err
	}
	for _, acronym := range acronyms {
		ch := journalChanges{writes: make(map[string]revision), contents: make(map[string][]byte)}
		err := confs.Bucket(acronym).ForEach(func(guid, v []byte) error {
			var r struct {
				revision
				Event json.RawMessage `json:"event"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("session %s: %w", guid, err)
			}
			ch.writes[string(guid)] = r.revision
			if r.Event != nil {
				ch.contents[string(guid)] = r.Event
			}
			return nil
		})
		// bbolt does not shrink pages whose values shrink: the revisions
		// go into a bucket written anew, as full as a first load's.
		if err == nil {
			err = confs.DeleteBucket(acronym)
		}
		if err == nil {
			err = writeChanges(tx, string(acronym), ch)
		}
		if err != nil {
			return fmt.Errorf("moving the sessions' contents of %s: %w", acronym, err)
		}
	}
	return nil
}

// readRevisions decodes a conference's bucket b into its revisions by
// session GUID. An error names the session whose record does not decode;
// callers mark it errJournalDamaged.
func readRevisions(b *bolt.Bucket) (map[string]revision, error) {
	records := make(map[string]revision)
	err := b.ForEach(func(guid, v []byte) error {
		var r revision
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("session %s: %w", guid, err)
		}
		records[string(guid)] = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return records, nil
}

// mmapSize is the address space bbolt maps when it opens a journal: ample,
// so that the first load of a large schedule, which writes every session,
// does not remap the file at each doubling of its size, each time copying
// out of the mapping every record the transaction holds. Only on 64-bit
// Linux and macOS: elsewhere bbolt grows the file to the mapping
// (Windows), syncs the whole mapping (OpenBSD), or address space is short
// (32 bits), and bbolt chooses.
func mmapSize() int {
	if (runtime.GOOS == "linux" || runtime.GOOS == "darwin") && strconv.IntSize == 64 {
		return 1 << 30
	}
	return 0
}

// openMapped opens the bbolt file at path with open (bolt.Open), mapping
// mmapSize; where address space is limited (ulimit -v) and that much is
// not to be had, it lets bbolt map what the file needs.
//
// bbolt panics on some damage as it opens (a freelist page that is none),
// before it returns a DB to close: the file it opened is closed here.
// bbolt's mapping of the file, and with it the file's lock, stays until
// the process ends: the damaged file's space comes back once it is
// deleted and confcal restarted. The recovery opens a fresh file, so the
// lock stands in the way of nothing.
func openMapped(path string, open func(string, os.FileMode, *bolt.Options) (*bolt.DB, error)) (*bolt.DB, error) {
	var file *os.File
	opts := &bolt.Options{Timeout: time.Second, InitialMmapSize: mmapSize(),
		OpenFile: func(name string, flag int, perm os.FileMode) (f *os.File, err error) {
			f, err = os.OpenFile(name, flag, perm)
			file = f
			return f, err
		},
	}
	defer func() {
		if p := recover(); p != nil {
			if file != nil {
				file.Close()
			}
			panic(p)
		}
	}()
	db, err := open(path, 0o600, opts)
	if errors.Is(err, syscall.ENOMEM) && opts.InitialMmapSize > 0 {
		opts.InitialMmapSize = 0
		db, err = open(path, 0o600, opts)
	}
	return db, err
}

// allocSize is how much bbolt grows the file by, beyond what a commit
// needs. Its default, 16 MiB, applies whenever the mapping is larger, as
// mmapSize makes it: every journal, even an empty one, would take 16 MiB.
const allocSize = 1 << 20

// fileExists reports whether there is a file at path.
func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// recoverBolt moves the damaged file at path aside and starts a fresh
// journal there that records when it started, for sequenceFloor.
func recoverBolt(path string, damage error, opts JournalOptions) (*bolt.DB, error) {
	now := time.Now().UTC()
	aside := path + ".damaged-" + now.Format("20060102T150405Z")
	for n := 2; fileExists(aside); n++ { // damaged again within the second
		aside = fmt.Sprintf("%s.damaged-%s-%d", path, now.Format("20060102T150405Z"), n)
	}
	if err := os.Rename(path, aside); err != nil {
		return nil, fmt.Errorf("%w; moving it aside failed: %w", damage, err)
	}
	db, err := openBolt(path)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		recoveredAt, err := now.MarshalText()
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return meta.Put(keyRecovered, recoveredAt)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	opts.logger().Error("JOURNAL DAMAGED: moved it aside and started a fresh one; every session's SEQUENCE restarts from a clock-derived floor so that calendar apps still accept updates, and sessions removed before now will not show as cancelled",
		"damaged", aside, "journal", path, "err", damage, "sequence_floor", sequenceFloor(now))
	return db, nil
}

// Apply implements Journal, in one bbolt transaction: it reads the
// conference's journal, revises s with it, and writes what changed.
func (j *BoltJournal) Apply(ctx context.Context, s *Schedule, now time.Time) (revised *Schedule, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a := s.Conference.Acronym
	var ch journalChanges
	err = safely(func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			st, err := j.readState(tx, a)
			if err != nil {
				return err
			}
			revised, ch, err = revise(s, st, now, j.opts.keep())
			if err != nil {
				return err
			}
			if len(ch.writes) == 0 && ch.stamp == nil {
				return errNoChanges
			}
			return writeChanges(tx, a, ch)
		})
	})
	if err != nil && !errors.Is(err, errNoChanges) {
		return nil, fmt.Errorf("journal of %s: %w", a, err)
	}
	ch.report(ctx, j.opts.logger(), j.changes, a)
	return revised, nil
}

// readState reads the journal of the conference acronym from tx: its
// revisions and its stamp, and a reader of its sessions' contents, valid
// as long as tx. A revision or stamp that does not decode is
// errJournalDamaged.
func (j *BoltJournal) readState(tx *bolt.Tx, acronym string) (journalState, error) {
	contents := tx.Bucket(bucketContents).Bucket([]byte(acronym))
	st := journalState{records: make(map[string]revision), recovered: j.recovered, content: func(guid string) []byte {
		if contents == nil {
			return nil
		}
		return contents.Get([]byte(guid)) // read within tx, as revise does
	}}
	if b := tx.Bucket(bucketConferences).Bucket([]byte(acronym)); b != nil {
		records, err := readRevisions(b)
		if err != nil {
			return journalState{}, fmt.Errorf("%w: %w", errJournalDamaged, err)
		}
		st.records = records
	}
	if v := tx.Bucket(bucketStamps).Get([]byte(acronym)); v != nil {
		if err := json.Unmarshal(v, &st.stamp); err != nil {
			return journalState{}, fmt.Errorf("%w: stamp: %w", errJournalDamaged, err)
		}
	}
	return st, nil
}

// writeChanges writes to tx what revise noticed of the conference
// acronym: its new stamp, if any, its changed revisions and the contents
// that go with them, in GUID order.
func writeChanges(tx *bolt.Tx, acronym string, ch journalChanges) error {
	if ch.stamp != nil {
		v, err := json.Marshal(ch.stamp)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketStamps).Put([]byte(acronym), v); err != nil {
			return err
		}
	}
	b, err := tx.Bucket(bucketConferences).CreateBucketIfNotExists([]byte(acronym))
	if err != nil {
		return err
	}
	// Records are written in GUID order, most of them at a first load:
	// pages filled to bbolt's default half would double the file.
	b.FillPercent = 0.9
	for _, guid := range slices.Sorted(maps.Keys(ch.writes)) {
		v, err := json.Marshal(ch.writes[guid])
		if err != nil {
			return err
		}
		if err := b.Put([]byte(guid), v); err != nil {
			return err
		}
	}
	c, err := tx.Bucket(bucketContents).CreateBucketIfNotExists([]byte(acronym))
	if err != nil {
		return err
	}
	c.FillPercent = b.FillPercent
	for _, guid := range slices.Sorted(maps.Keys(ch.contents)) {
		if data := ch.contents[guid]; data != nil {
			err = c.Put([]byte(guid), data)
		} else {
			err = c.Delete([]byte(guid))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close implements Journal.
func (j *BoltJournal) Close() error { return j.db.Close() }

// SaveSource implements SourceStore. A copy the file already holds intact
// is not written again; a damaged one is replaced.
func (j *BoltJournal) SaveSource(location string, gz []byte, now time.Time) error {
	version := contentVersion(gz)
	saved, err := now.UTC().MarshalText()
	if err != nil {
		return err
	}
	err = safely(func() error {
		return j.db.Update(func(tx *bolt.Tx) error {
			all, err := tx.CreateBucketIfNotExists(bucketSources)
			if err != nil {
				return err
			}
			if b := all.Bucket([]byte(location)); b != nil {
				if string(b.Get(keyVersion)) == version && contentVersion(b.Get(keyData)) == version {
					return errNoChanges // kept already, intact: no write, no fsync
				}
				if err := all.DeleteBucket([]byte(location)); err != nil {
					return err
				}
			}
			b, err := all.CreateBucket([]byte(location))
			if err != nil {
				return err
			}
			for _, kv := range [][2][]byte{{keyData, gz}, {keySaved, saved}, {keyVersion, []byte(version)}} {
				if err := b.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil && !errors.Is(err, errNoChanges) {
		return fmt.Errorf("journal: keeping a copy of %s: %w", location, err)
	}
	return nil
}

// LastSource implements SourceStore.
func (j *BoltJournal) LastSource(location string) (gz []byte, saved time.Time, err error) {
	var version []byte
	err = safely(func() error {
		return j.db.View(func(tx *bolt.Tx) error {
			b := sourceBucket(tx, location)
			if b == nil {
				return ErrNoSavedSource
			}
			// Values live only as long as the transaction.
			gz, version = bytes.Clone(b.Get(keyData)), bytes.Clone(b.Get(keyVersion))
			return saved.UnmarshalText(b.Get(keySaved))
		})
	})
	if errors.Is(err, ErrNoSavedSource) {
		return nil, time.Time{}, err
	}
	if err == nil && contentVersion(gz) != string(version) {
		err = errors.New("its bytes do not match their version")
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("journal: the copy of %s is damaged: %w", location, err)
	}
	return gz, saved, nil
}

// safely runs f, which reads or writes a bbolt file, turning what bbolt
// does on pages it cannot make sense of (a panic, a memory fault) into
// errJournalDamaged; bbolt has rolled the transaction back.
func safely(f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil { // bbolt has rolled back
			err = fmt.Errorf("%w: %v", errJournalDamaged, p)
		}
	}()
	return f()
}

// sourceBucket is the bucket of location's last good bytes, or nil.
func sourceBucket(tx *bolt.Tx, location string) *bolt.Bucket {
	if all := tx.Bucket(bucketSources); all != nil {
		return all.Bucket([]byte(location))
	}
	return nil
}

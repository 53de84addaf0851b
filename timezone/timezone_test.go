package timezone

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

func TestLoad(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Europe/Berlin", "Europe/Berlin"},
		{"europe/berlin", "Europe/Berlin"},
		{"  America/New_York ", "America/New_York"},
		{"US/Pacific", "America/Los_Angeles"},
		{"us/pacific", "America/Los_Angeles"},
		{"Asia/Calcutta", "Asia/Kolkata"},
		{"GB", "Europe/London"},
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"Pacific Standard Time", "America/Los_Angeles"},
		{"India Standard Time", "Asia/Kolkata"},
		{"Etc/GMT-14", "Etc/GMT-14"},
		{"UTC", "UTC"}, {"Etc/UTC", "UTC"}, {"Z", "UTC"}, {"z", "UTC"}, {"GMT", "UTC"},
		{"Etc/GMT", "UTC"}, {"UCT", "UTC"}, {"Zulu", "UTC"},
	} {
		loc, err := Load(tc.in)
		if err != nil {
			t.Errorf("Load(%q): %v", tc.in, err)
			continue
		}
		if loc.String() != tc.want {
			t.Errorf("Load(%q) = %s, want %s", tc.in, loc, tc.want)
		}
		if tc.want == "UTC" && loc != time.UTC {
			t.Errorf("Load(%q) is not time.UTC", tc.in)
		}
	}
}

func TestLoadUnknown(t *testing.T) {
	for _, tc := range []struct {
		in      string
		suggest string // must be among the suggestions
		says    string // must be in the message
	}{
		{"Berlin", "Europe/Berlin", `unknown time zone "Berlin"`},
		{"Berln", "Europe/Berlin", "did you mean"},
		{"Europe/Berln", "Europe/Berlin", "did you mean"},
		{"america/new_yrok", "America/New_York", "did you mean"},
		{"+05:30", "Asia/Kolkata", "offsets are not zones"},
		{"UTC+2", "", "use a city zone such as"},
		{"GMT-3", "", "offsets are not zones"},
		{"-0800", "America/Los_Angeles", "offsets are not zones"},
		{"UTC-08", "America/Los_Angeles", "offsets are not zones"}, // a Windows name, but an offset
		{"", "", "empty time zone name"},
		{"Mars/Olympus_Mons", "", `unknown time zone "Mars/Olympus_Mons"`},
		{strings.Repeat("x", 1000), "", "unknown time zone"},
	} {
		loc, err := Load(tc.in)
		if err == nil {
			t.Errorf("Load(%q) = %s, want error", tc.in, loc)
			continue
		}
		if !errors.Is(err, ErrUnknownZone) {
			t.Errorf("Load(%q): %v does not match ErrUnknownZone", tc.in, err)
		}
		var uz *UnknownZoneError
		if !errors.As(err, &uz) {
			t.Fatalf("Load(%q): %T, want *UnknownZoneError", tc.in, err)
		}
		if tc.suggest != "" && !contains(uz.Suggestions, tc.suggest) {
			t.Errorf("Load(%q) suggests %q, want %s among them", tc.in, uz.Suggestions, tc.suggest)
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("Load(%q) error %q does not say %q", tc.in, err, tc.says)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestNamesLoad(t *testing.T) {
	names := Names()
	if len(names) < 400 {
		t.Fatalf("only %d names", len(names))
	}
	for i, n := range names {
		if i > 0 && names[i-1] >= n {
			t.Fatalf("Names not sorted at %q", n)
		}
		loc, err := Load(n)
		if err != nil {
			t.Errorf("Load(%q): %v", n, err)
		} else if loc != time.UTC && loc.String() != n {
			t.Errorf("Load(%q) = %s", n, loc)
		}
	}
	for _, l := range links {
		if loc, err := Load(l[0]); err != nil || (loc != time.UTC && loc.String() != l[1]) {
			t.Errorf("Load(%q) = %v, %v; want %s", l[0], loc, err, l[1])
		}
	}
	for _, w := range windowsZones {
		if !offsetLike.MatchString(w[0]) {
			if _, err := Load(w[0]); err != nil {
				t.Errorf("Load(%q): %v", w[0], err)
			}
		}
	}
	if TZDataVersion == "" || linksVersion == "" || cldrVersion == "" {
		t.Error("versions of the generated tables are missing")
	}
}

func TestLinks(t *testing.T) {
	got := Links()
	if len(got) != len(links) {
		t.Errorf("Links has %d names, want %d", len(got), len(links))
	}
	for alias, want := range map[string]string{"Asia/Calcutta": "Asia/Kolkata", "Europe/Kiev": "Europe/Kyiv", "US/Pacific": "America/Los_Angeles"} {
		if got[alias] != want {
			t.Errorf("Links()[%q] = %q, want %q", alias, got[alias], want)
		}
	}
	canonical := Names()
	for alias, name := range got {
		if slices.Contains(canonical, alias) || !slices.Contains(canonical, name) {
			t.Errorf("Links()[%q] = %q: want a link to a name of Names", alias, name)
		}
	}
	delete(got, "Asia/Calcutta")
	if Links()["Asia/Calcutta"] == "" {
		t.Error("changing the result of Links changed the table")
	}
}

func TestLoadConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, n := range []string{"Europe/Berlin", "US/Pacific", "Asia/Kathmandu"} {
				if _, err := Load(n); err != nil {
					t.Error(err)
				}
				loc, _ := Load(n)
				VTimezone(loc, time.Now(), time.Now())
			}
		})
	}
	wg.Wait()
}

func serialize(vt *ics.VTimezone) string {
	return vt.Serialize(&ics.SerializationConfiguration{MaxLength: 75, PropertyMaxLength: 75, NewLine: "\r\n"})
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestVTimezoneGolden pins the text of VTIMEZONEs for the hard zones.
func TestVTimezoneGolden(t *testing.T) {
	at := func(y int) time.Time { return time.Date(y, time.July, 22, 13, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		zone string
		year int
		want string
	}{
		{"Asia/Kolkata", 2022, "BEGIN:VTIMEZONE\r\nTZID:Asia/Kolkata\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nTZNAME:IST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"},
		{"Europe/Berlin", 2022, "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:20201025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZNAME:CET\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:20210328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"},
		{"Australia/Lord_Howe", 2022, "BEGIN:VTIMEZONE\r\nTZID:Australia/Lord_Howe\r\nBEGIN:DAYLIGHT\r\nDTSTART:20201004T020000\r\nTZOFFSETFROM:+1030\r\nTZOFFSETTO:+1100\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=1SU\r\nTZNAME:+11\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nDTSTART:20210404T020000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1030\r\nRRULE:FREQ=YEARLY;BYMONTH=4;BYDAY=1SU\r\nTZNAME:+1030\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"},
		{"Europe/Moscow", 2014, "BEGIN:VTIMEZONE\r\nTZID:Europe/Moscow\r\nBEGIN:STANDARD\r\nDTSTART:20110327T020000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0400\r\nTZNAME:MSK\r\nEND:STANDARD\r\nBEGIN:STANDARD\r\nDTSTART:20141026T020000\r\nTZOFFSETFROM:+0400\r\nTZOFFSETTO:+0300\r\nTZNAME:MSK\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"},
	} {
		got := serialize(VTimezone(mustLoad(t, tc.zone), at(tc.year), at(tc.year)))
		if got != tc.want {
			t.Errorf("%s %d:\n got %q\nwant %q", tc.zone, tc.year, got, tc.want)
		}
		if _, err := ics.ParseCalendar(strings.NewReader("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n" + got + "END:VCALENDAR\r\n")); err != nil {
			t.Errorf("%s: golang-ical cannot parse: %v", tc.zone, err)
		}
	}
}

// TestVTimezoneHardZones reads local times back through the VTIMEZONE with
// the independent reader of proof_test.go, at DST edges of the hard zones.
func TestVTimezoneHardZones(t *testing.T) {
	for _, tc := range []struct {
		zone      string
		local     string // wall time as written in a feed
		wantUTC   string
		wantRRULE bool // the span follows one yearly rule
	}{
		{"Europe/Berlin", "20220327T015959", "2022-03-27T00:59:59Z", true},       // last second of CET
		{"Europe/Berlin", "20220327T030000", "2022-03-27T01:00:00Z", true},       // first of CEST
		{"Europe/Berlin", "20221030T023000", "2022-10-30T00:30:00Z", true},       // overlap: first occurrence
		{"Australia/Lord_Howe", "20221002T023000", "2022-10-01T15:30:00Z", true}, // +11 after the 30-minute jump
		{"Australia/Lord_Howe", "20220403T014500", "2022-04-02T14:45:00Z", true}, // overlap: first occurrence
		{"Asia/Kolkata", "20220722T183000", "2022-07-22T13:00:00Z", false},       //
		{"Asia/Kathmandu", "20220722T184500", "2022-07-22T13:00:00Z", false},     // +0545
		{"Australia/Eucla", "20220722T214500", "2022-07-22T13:00:00Z", false},    // +0845
		{"Australia/Sydney", "20220722T230000", "2022-07-22T13:00:00Z", true},    // southern winter
		{"Pacific/Chatham", "20230101T024500", "2022-12-31T13:00:00Z", true},     // +1345
		{"Europe/Dublin", "20220722T140000", "2022-07-22T13:00:00Z", true},       // IST, negative DST
		{"Europe/Dublin", "20220115T130000", "2022-01-15T13:00:00Z", true},       // GMT
		{"America/Sao_Paulo", "20190115T100000", "2019-01-15T12:00:00Z", false},  // last DST summer
		{"America/Sao_Paulo", "20191115T100000", "2019-11-15T13:00:00Z", false},  // DST abolished
		{"Europe/Moscow", "20110722T170000", "2011-07-22T13:00:00Z", false},      // permanent +04
		{"Europe/Moscow", "20141222T160000", "2014-12-22T13:00:00Z", false},      // back to +03
		{"Africa/Casablanca", "20220415T130000", "2022-04-15T13:00:00Z", false},  // Ramadan: +00
		{"Africa/Casablanca", "20220722T140000", "2022-07-22T13:00:00Z", false},  // +01
		{"Antarctica/Troll", "20220722T150000", "2022-07-22T13:00:00Z", true},    // +02, 2-hour DST
		{"America/St_Johns", "20220722T103000", "2022-07-22T13:00:00Z", true},    // -0230
	} {
		loc := mustLoad(t, tc.zone)
		local, _ := time.Parse(localFormat, tc.local)
		want, _ := time.Parse(time.RFC3339, tc.wantUTC)
		text := serialize(VTimezone(loc, want, want))
		r, err := parseVTimezone(text, 2040)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.zone, err, text)
		}
		got, err := r.toUTC(local)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s %s: got %s, %v; want %s\n%s", tc.zone, tc.local, got.Format(time.RFC3339), err, tc.wantUTC, text)
		}
		if hasRRULE := strings.Contains(text, "RRULE"); hasRRULE != tc.wantRRULE {
			t.Errorf("%s %s: RRULE %v, want %v\n%s", tc.zone, tc.local, hasRRULE, tc.wantRRULE, text)
		}
		// The table itself agrees with the zone database.
		if wall := want.In(loc).Format(localFormat); wall != tc.local {
			t.Errorf("%s: %s is %s in the database, table says %s", tc.zone, tc.wantUTC, wall, tc.local)
		}
	}
}

func TestVTimezoneUTC(t *testing.T) {
	if vt := VTimezone(time.UTC, time.Now(), time.Now()); vt != nil {
		t.Errorf("VTimezone(UTC) = %v, want nil", vt)
	}
}

func TestVTimezoneCached(t *testing.T) {
	loc := mustLoad(t, "Europe/Berlin")
	a := time.Date(2022, time.July, 22, 13, 0, 0, 0, time.UTC)
	b := time.Date(2022, time.December, 1, 0, 0, 0, 0, time.UTC)
	if VTimezone(loc, a, a) != VTimezone(loc, b, a) {
		t.Error("same zone and years: want the cached component")
	}
	fixed := time.FixedZone("Europe/Berlin", 3*3600) // a name we don't own
	if got := serialize(VTimezone(fixed, a, a)); !strings.Contains(got, "TZOFFSETTO:+0300") {
		t.Errorf("a foreign location must not hit the cache:\n%s", got)
	}
}

func TestFormatOffset(t *testing.T) {
	for secs, want := range map[int]string{0: "+0000", 3600: "+0100", -9000: "-0230", 20700: "+0545", -2670: "-004430", 49500: "+1345"} {
		if got := formatOffset(secs); got != want {
			t.Errorf("formatOffset(%d) = %s, want %s", secs, got, want)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{"Europe/Berlin", "us/pacific", "W. Europe Standard Time", "+05:30", "UTC+2", "", "Berln", "Z", "Etc/GMT-14", "GMT+0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		loc, err := Load(name)
		if err != nil {
			if !errors.Is(err, ErrUnknownZone) {
				t.Fatalf("Load(%q): %v does not match ErrUnknownZone", name, err)
			}
			_ = err.Error()
			return
		}
		again, err := Load(loc.String())
		if err != nil || again.String() != loc.String() {
			t.Fatalf("Load(%q) = %s, but Load(%s) = %v, %v", name, loc, loc, again, err)
		}
	})
}

func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"Europe/Berlin", "us/pacific", "W. Europe Standard Time"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVTimezone(b *testing.B) {
	loc, _ := Load("Europe/Berlin")
	at := time.Date(2022, time.July, 22, 13, 0, 0, 0, time.UTC)
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			buildVTimezone(loc, 2021, 2023)
		}
	})
	b.Run("cold/America/Sao_Paulo", func(b *testing.B) {
		sp, _ := Load("America/Sao_Paulo")
		for b.Loop() {
			buildVTimezone(sp, 2018, 2020)
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			VTimezone(loc, at, at)
		}
	})
}

func BenchmarkLoadUnknown(b *testing.B) {
	for _, name := range []string{"Berln", "america/new_yrok", "Mars/Olympus_Mons", "W. Europe Standrd Time"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Load(name); err == nil {
					b.Fatal("want an error")
				}
			}
		})
	}
}

// TestSuggestOnce checks that a name that is both a link and a Windows name
// (UTC) is suggested once.
func TestSuggestOnce(t *testing.T) {
	_, err := Load("UTZ")
	var uz *UnknownZoneError
	if !errors.As(err, &uz) {
		t.Fatalf("Load(UTZ): %v", err)
	}
	if !contains(uz.Suggestions, "UTC") {
		t.Errorf("Load(UTZ) suggests %q, want UTC among them", uz.Suggestions)
	}
	for i, s := range uz.Suggestions {
		if contains(uz.Suggestions[i+1:], s) {
			t.Errorf("Load(UTZ) suggests %q: %s twice", uz.Suggestions, s)
		}
	}
}

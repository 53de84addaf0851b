package feed

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
)

// checkRFC5545 checks the rules of RFC 5545 that a generated calendar can
// break: CRLF line ends (§3.1), folding at 75 octets without splitting a
// UTF-8 character, balanced components, required properties, no floating
// times, text escaping (§3.3.11) and a VTIMEZONE for every TZID (§3.2.19).
// It reports every problem it finds.
func checkRFC5545(t testing.TB, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Errorf("calendar does not end with CRLF")
	}
	physical := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	var lines []string // unfolded
	for i, l := range physical {
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("line %d: bare CR or LF inside a line: %q", i+1, l)
		}
		if len(l) > 75 {
			t.Errorf("line %d: %d octets, more than 75: %q", i+1, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d: not valid UTF-8 on its own (a fold split a character): %q", i+1, l)
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(lines) == 0 {
				t.Fatalf("line %d: continuation with nothing to continue", i+1)
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}

	var stack []string
	components := 0 // of the VCALENDAR
	tzids := map[string]bool{}
	used := map[string]int{}
	props := map[string]map[string]int{} // per component kind on the stack top
	tzidParam := regexp.MustCompile(`;TZID=("[^"]*"|[^;:]*)`)
	for i, l := range lines {
		name, value, ok := splitContentLine(l)
		if !ok {
			t.Errorf("unfolded line %d: not a content line: %q", i+1, l)
			continue
		}
		prop := strings.ToUpper(strings.SplitN(name, ";", 2)[0])
		switch prop {
		case "BEGIN":
			if len(stack) == 1 {
				components++
			}
			stack = append(stack, value)
			props[value] = map[string]int{}
			continue
		case "END":
			if len(stack) == 0 || stack[len(stack)-1] != value {
				t.Errorf("unfolded line %d: END:%s does not close %v", i+1, value, stack)
				continue
			}
			checkRequired(t, value, props[value])
			stack = stack[:len(stack)-1]
			continue
		}
		if len(stack) == 0 {
			t.Errorf("unfolded line %d: property outside VCALENDAR: %q", i+1, l)
			continue
		}
		props[stack[len(stack)-1]][prop]++
		if prop == "TZID" && stack[len(stack)-1] == "VTIMEZONE" {
			tzids[value] = true
		}
		if m := tzidParam.FindStringSubmatch(name); m != nil {
			used[strings.Trim(m[1], `"`)]++
		}
		switch prop {
		case "DTSTART", "DTEND":
			if stack[len(stack)-1] == "VEVENT" && !strings.Contains(name, "TZID=") && !strings.HasSuffix(value, "Z") {
				t.Errorf("unfolded line %d: floating time %q", i+1, l)
			}
		case "SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES", "NAME", "X-WR-CALNAME", "X-WR-CALDESC":
			checkText(t, i+1, value)
		}
	}
	if len(stack) != 0 {
		t.Errorf("unclosed components: %v", stack)
	}
	if components == 0 {
		t.Errorf("a calendar with no component (RFC 5545 §3.6 wants one or more)")
	}
	for id := range used {
		if !tzids[id] {
			t.Errorf("TZID %q used without a VTIMEZONE", id)
		}
	}
	if _, err := ics.ParseCalendar(bytes.NewReader(data)); err != nil {
		t.Errorf("golang-ical cannot parse the calendar: %v", err)
	}
}

// splitContentLine splits "NAME;PARAMS:VALUE" at the first colon outside a
// quoted parameter value.
func splitContentLine(l string) (name, value string, ok bool) {
	quoted := false
	for i, r := range l {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ':' && !quoted:
			return l[:i], l[i+1:], i > 0
		}
	}
	return "", "", false
}

// checkText checks a TEXT value's escaping: a backslash starts only \\ \; \,
// \n or \N, and ; and , never stand unescaped. (CATEGORIES is a list, but we
// write one category per property, so the rule is the same.)
func checkText(t testing.TB, line int, v string) {
	t.Helper()
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i+1 >= len(v) || !strings.ContainsRune(`\;,nN`, rune(v[i+1])) {
				t.Errorf("unfolded line %d: bad escape in %q", line, v)
				return
			}
			i++
		case ';', ',':
			t.Errorf("unfolded line %d: unescaped %q in %q", line, v[i], v)
			return
		}
	}
}

// checkRequired checks the properties a component must have exactly once.
func checkRequired(t testing.TB, component string, props map[string]int) {
	t.Helper()
	required := map[string][]string{
		"VCALENDAR": {"VERSION", "PRODID"},
		"VEVENT":    {"UID", "DTSTAMP", "DTSTART"},
		"VTIMEZONE": {"TZID"},
		"STANDARD":  {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"},
		"DAYLIGHT":  {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"},
		"VALARM":    {"ACTION", "TRIGGER"},
	}
	for _, p := range required[component] {
		if props[p] != 1 {
			t.Errorf("%s has %d %s properties, want 1", component, props[p], p)
		}
	}
}

// TestCheckRFC5545Fails makes sure the checker catches what it is for.
func TestCheckRFC5545Fails(t *testing.T) {
	good := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTAMP:20220101T000000Z\r\nDTSTART:20220101T000000Z\r\nSUMMARY:ok\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	tests := map[string]string{
		"bare LF":       strings.Replace(good, "SUMMARY:ok\r\n", "SUMMARY:ok\n", 1),
		"long line":     strings.Replace(good, "SUMMARY:ok", "SUMMARY:"+strings.Repeat("x", 80), 1),
		"floating":      strings.Replace(good, "DTSTART:20220101T000000Z", "DTSTART:20220101T000000", 1),
		"unknown TZID":  strings.Replace(good, "DTSTART:20220101T000000Z", "DTSTART;TZID=Europe/Berlin:20220101T000000", 1),
		"bad escape":    strings.Replace(good, "SUMMARY:ok", `SUMMARY:a\x`, 1),
		"raw comma":     strings.Replace(good, "SUMMARY:ok", `SUMMARY:a,b`, 1),
		"missing UID":   strings.Replace(good, "UID:1\r\n", "", 1),
		"unbalanced":    strings.Replace(good, "END:VEVENT\r\n", "", 1),
		"split UTF-8":   strings.Replace(good, "SUMMARY:ok", "SUMMARY:"+strings.Repeat("x", 66)+"\xc3\r\n \xbc", 1),
		"no final CRLF": strings.TrimSuffix(good, "\r\n"),
	}
	for name, cal := range tests {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{TB: t}
			func() {
				defer func() {
					if v := recover(); v != nil && v != (recorderStop{}) {
						panic(v)
					}
				}()
				checkRFC5545(rec, []byte(cal))
			}()
			if !rec.failed {
				t.Errorf("checker accepted a calendar with %s", name)
			}
		})
	}
	checkRFC5545(t, []byte(good))
}

// recorder notes failures instead of reporting them.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(recorderStop{}) }
func (r *recorder) Helper()               {}

type recorderStop struct{}

// TestIsText: the writer escapes exactly the values golang-ical calls TEXT.
func TestIsText(t *testing.T) {
	names := []ics.Property{
		ics.PropertyCalscale, ics.PropertyMethod, ics.PropertyProductId, ics.PropertyVersion, ics.PropertyCategories,
		ics.PropertyClass, ics.PropertyComment, ics.PropertyDescription, ics.PropertyLocation, ics.PropertyResources,
		ics.PropertyStatus, ics.PropertySummary, ics.PropertyTransp, ics.PropertyTzid, ics.PropertyTzname,
		ics.PropertyContact, ics.PropertyRelatedTo, ics.PropertyUid, ics.PropertyAction, ics.PropertyRequestStatus,
		ics.PropertyAttach, ics.PropertyTzurl, ics.PropertyUrl, ics.PropertyGeo, ics.PropertyPercentComplete,
		ics.PropertyPriority, ics.PropertyRepeat, ics.PropertySequence, ics.PropertyCompleted, ics.PropertyDtend,
		ics.PropertyDue, ics.PropertyDtstart, ics.PropertyRecurrenceId, ics.PropertyExdate, ics.PropertyRdate,
		ics.PropertyCreated, ics.PropertyDtstamp, ics.PropertyLastModified, ics.PropertyDuration, ics.PropertyTrigger,
		ics.PropertyFreebusy, ics.PropertyTzoffsetfrom, ics.PropertyTzoffsetto, ics.PropertyAttendee,
		ics.PropertyOrganizer, ics.PropertyRrule, "NAME", "REFRESH-INTERVAL", "SOURCE", "COLOR", "X-WR-CALNAME",
		"X-PUBLISHED-TTL", "X-ANYTHING",
	}
	params := []map[string][]string{
		nil,
		{"TZID": {"Europe/Berlin"}},
		{"VALUE": {"TEXT"}},
		{"VALUE": {"URI"}, "X-A": {"b"}},
		{"VALUE": {"DATE"}},
		{"VALUE": {"TEXT", "URI"}}, // not one value: the name decides
	}
	for _, name := range names {
		for _, ps := range params {
			p := &ics.BaseProperty{IANAToken: string(name), ICalParameters: ps}
			if got, want := isText(p), p.GetValueType() == ics.ValueDataTypeText; got != want {
				t.Errorf("isText(%s %v) = %v, want %v", name, ps, got, want)
			}
		}
	}
}

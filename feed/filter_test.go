package feed

import (
	"bytes"
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// closestReference is closest without its bounds on work: every candidate's
// whole edit-distance table, then a sort. closest must agree with it on every
// input up to maxSuggestInput.
func closestReference(want string, candidates []string, n int) []string {
	type scored struct {
		name string
		dist int
	}
	var found []scored
	for _, c := range candidates {
		d := editDistanceReference(want, c)
		if want != "" && (strings.Contains(c, want) || strings.Contains(want, c)) {
			d = min(d, 1)
		}
		if d <= max(2, len(c)/2) {
			found = append(found, scored{c, d})
		}
	}
	slices.SortFunc(found, func(a, b scored) int { return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.name, b.name)) })
	out := make([]string, 0, min(n, len(found)))
	for _, f := range found[:min(n, len(found))] {
		out = append(out, f.name)
	}
	return out
}

// editDistanceReference is the Levenshtein distance between a and b, in
// runes, from the whole table.
func editDistanceReference(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// TestClosest checks the suggestions for typos of real names, the same as
// with whole tables.
func TestClosest(t *testing.T) {
	mini := miniSchedule(t)
	synth := syntheticSchedule(t, 10000)
	sessions, tracks, speakers := sessionKeys(mini), mini.trackSlugs(), mini.speakerSlugs()
	tests := []struct {
		want       string
		candidates []string
		n          int
		suggest    []string
	}{
		{"rsut", tracks, 5, []string{"rust"}},
		{"go-frends", tracks, 5, []string{"go-friends"}},
		{"friends", tracks, 5, []string{"go-friends"}},
		{"nope", tracks, 5, nil},
		{"zihao", speakers, 5, []string{"zihao-deng"}},
		{"jurgen-schmidhubr", speakers, 5, []string{"jurgen-schmidhuber"}},
		{"jurgen-schmidhuber-2024", speakers, 5, []string{"jurgen-schmidhuber"}},
		{"zhangyang-wang", speakers, 5, []string{"zhangyang-atlas-wang"}},
		{"nobody", speakers, 5, nil},
		{"mini-2-borow", sessions, 3, []string{"mini-2-borrow", "mini-3-remote", "mini-4-lunch"}},
		{"mini-4-lunhc", sessions, 3, []string{"mini-4-lunch", "mini-1-opening"}},
		{"mini", sessions, 3, []string{"mini-1-opening", "mini-2-borrow", "mini-3-remote"}},
		{"nope", sessions, 3, nil},
		{"mini2025", []string{"mini2024"}, 3, []string{"mini2024"}},
		{"drak", themes, 1, []string{"dark"}},
		{"trak", feedParams.names, 1, []string{"track"}},
		{"tzz", feedParams.names, 1, []string{"tz"}},
		{"", tracks, 5, nil},
		{"snyth-1234", sessionKeys(synth), 3, []string{"synth-1234", "synth-1034", "synth-1134"}},
		{"synth-12345", sessionKeys(synth), 3, []string{"synth-1", "synth-12", "synth-123"}},
		{"speaker-numbr-1234", synth.speakerSlugs(), 3, []string{"speaker-number-1234", "speaker-number-1034", "speaker-number-1134"}},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got := closest(tc.want, tc.candidates, tc.n)
			if !slices.Equal(got, tc.suggest) {
				t.Errorf("closest(%q) = %q, want %q", tc.want, got, tc.suggest)
			}
			if ref := closestReference(tc.want, tc.candidates, tc.n); !slices.Equal(got, ref) {
				t.Errorf("closest(%q) = %q, without bounds on work %q", tc.want, got, ref)
			}
		})
	}
}

// TestClosestMatchesReference holds closest to the whole tables on typos of
// real names, of up to four edits, and on arbitrary inputs up to
// maxSuggestInput bytes.
func TestClosestMatchesReference(t *testing.T) {
	mini, synth := miniSchedule(t), syntheticSchedule(t, 300)
	lists := [][]string{
		sessionKeys(mini), mini.trackSlugs(), mini.speakerSlugs(),
		sessionKeys(synth), synth.speakerSlugs(), synth.trackSlugs(),
		{"mini2024", "synth", "jürgen", "łódź-2025", "a", "ab", ""},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abcdeghimnorstuy-0123456789üł")
	randomRune := func() rune { return alphabet[rng.IntN(len(alphabet))] }
	typo := func(s string) string {
		r := []rune(s)
		for range rng.IntN(5) {
			i := rng.IntN(len(r) + 1)
			switch op := rng.IntN(4); {
			case op == 0:
				r = slices.Insert(r, i, randomRune())
			case i == len(r):
			case op == 1:
				r = slices.Delete(r, i, i+1)
			case op == 2:
				r[i] = randomRune()
			case i+1 < len(r):
				r[i], r[i+1] = r[i+1], r[i]
			}
		}
		return string(r)
	}
	check := func(want string, candidates []string) {
		t.Helper()
		for _, n := range []int{1, 3, 5} {
			got, ref := closest(want, candidates, n), closestReference(want, candidates, n)
			if !slices.Equal(got, ref) {
				t.Fatalf("closest(%q, %d) = %q, without bounds on work %q", want, n, got, ref)
			}
		}
	}
	for _, candidates := range lists {
		for range 300 {
			check(typo(candidates[rng.IntN(len(candidates))]), candidates)
		}
		for range 30 {
			var b strings.Builder
			for size := rng.IntN(maxSuggestInput + 1); ; {
				r := randomRune()
				if b.Len()+utf8.RuneLen(r) > size {
					break
				}
				b.WriteRune(r)
			}
			check(b.String(), candidates)
		}
	}
}

// TestDistanceWithin checks the banded distance against the whole table:
// the distance when it is at most the bound, bound+1 otherwise.
func TestDistanceWithin(t *testing.T) {
	words := []string{"", "a", "ab", "ba", "abc", "rust", "rsut", "kitten", "sitting", "go-friends", "go-frends",
		"jurgen-schmidhuber", "jürgen-schmidhuber", "zihao-deng", "synth-1234", "synth-12345", "mini-2-borrow",
		strings.Repeat("ab", 40), strings.Repeat("ba", 41)}
	for _, a := range words {
		for _, b := range words {
			want := editDistanceReference(a, b)
			for bound := range 12 {
				m := matcher{want: []rune(a)}
				if got := m.distanceWithin(b, bound); got != min(want, bound+1) {
					t.Errorf("distanceWithin(%q, %q, %d) = %d, want %d", a, b, bound, got, min(want, bound+1))
				}
			}
		}
	}
}

// longInputCase is a list of candidates, and a pattern repeated into a
// long input that resembles them.
type longInputCase struct {
	name, pattern string
	candidates    []string
}

// longInputCases are the session and speaker names of s, for long inputs.
func longInputCases(s *Schedule) []longInputCase {
	return []longInputCase{
		{"sessions", "synth-", sessionKeys(s)},
		{"speakers", "speaker-number-", s.speakerSlugs()},
	}
}

// TestClosestLongInput checks that the work of suggesting does not grow with
// the input: at most the band of each candidate's table, which depends only
// on the candidate, and none for an input longer than maxSuggestInput.
func TestClosestLongInput(t *testing.T) {
	for _, tc := range longInputCases(syntheticSchedule(t, 10000)) {
		limit := 0 // the band of each candidate's table
		for _, c := range tc.candidates {
			bound := max(2, len(c)/2)
			limit += (utf8.RuneCountInString(c) + bound) * (2*bound + 1)
		}
		for _, size := range []int{16, 64, maxSuggestInput, maxSuggestInput + 1, 1000, 15000} {
			t.Run(fmt.Sprint(tc.name, "/", size), func(t *testing.T) {
				want := strings.Repeat(tc.pattern, size/len(tc.pattern)+1)[:size]
				var m matcher
				got := m.closest(want, tc.candidates, 3)
				if m.cells > limit {
					t.Errorf("%d-byte input filled %d cells, want at most %d", size, m.cells, limit)
				}
				if size > maxSuggestInput && (len(got) > 0 || m.cells > 0) {
					t.Errorf("%d-byte input: suggestions %q after %d cells, want none and no work", size, got, m.cells)
				}
			})
		}
	}
}

// TestUnknownLongName asks for unknown names of up to 15,000 characters,
// which a request's 16 KiB of headers can carry: each gets its 404 or 400,
// without suggestions, even when it contains a real name.
func TestUnknownLongName(t *testing.T) {
	srv, _ := newTestServer(t)
	long := "mini-2-borrow-zihao-deng-rust-" + strings.Repeat("x", 15000)
	query := long[:2000] // MaxQueryLength bounds the query
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/sessions/" + long + ".ics", 404, `unknown session "mini-2-borrow-zihao`},
		{"/speakers/" + long + ".ics", 404, `unknown speaker "mini-2-borrow-zihao`},
		{"/tracks/" + long + ".ics", 404, `unknown track "mini-2-borrow-zihao`},
		{"/" + long + "/feed.ics", 404, `unknown conference "mini-2-borrow-zihao`},
		{"/feed.ics?track=" + query, 404, `unknown track "mini-2-borrow-zihao`},
		{"/feed.ics?speaker=" + query, 404, `unknown speaker "mini-2-borrow-zihao`},
		{"/feed.ics?tz=Europe/Berlin" + query, 400, "not a time zone"},
		{"/feed.ics?track" + query + "=rust", 400, "unknown parameter"},
		{"/embed?theme=dark" + query, 400, "theme=dark"},
	} {
		t.Run(tc.path[:min(len(tc.path), 40)], func(t *testing.T) {
			resp, body := get(t, srv, "GET", tc.path, nil)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tc.code, body)
			}
			if !bytes.Contains(body, []byte(tc.want)) {
				t.Errorf("body lacks %q: %.200s", tc.want, body)
			}
			if i := bytes.Index(body, []byte("did you mean")); i >= 0 {
				t.Errorf("body suggests: %s", body[i:min(len(body), i+200)])
			}
		})
	}
}

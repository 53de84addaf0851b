package feed

import (
	"html"
	"strings"
)

// plainText returns s as plain text when it is HTML, as pentabarf (FOSDEM)
// and some frab exports give abstracts: calendar apps show DESCRIPTION as
// text, and "<p>" there is noise. Tags are dropped; paragraphs, line breaks
// and list items become line breaks ("• " before an item); a link keeps
// its address after its text; entities are decoded; script and style
// vanish; runs of white space collapse as a browser would collapse them.
//
// Text with no tag in it (plain text or Markdown, as pretalx gives) is
// returned unchanged, even where it has '<' or '&'.
func plainText(s string) string {
	if !hasTag(s) {
		return s
	}
	var t textWriter
	t.b.Grow(len(s))
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			t.text(s[i:])
			break
		}
		t.text(s[i : i+lt])
		i += lt
		end, tg, ok := readTag(s, i)
		if !ok {
			t.text("<")
			i++
			continue
		}
		i = end
		switch {
		case tg.name == "script" || tg.name == "style":
			if !tg.closing {
				i = skipElement(s, i, tg.name)
			}
		case tg.name == "br":
			t.breakLine(1)
		case tg.name == "li":
			t.breakLine(1)
			if !tg.closing {
				t.bullet()
			}
		case tg.name == "a" && !tg.closing:
			t.href = tg.href
			t.linkStart = t.b.Len()
		case tg.name == "a":
			t.endLink()
		case (tg.name == "td" || tg.name == "th") && !tg.closing:
			t.space = true
		case blockTags[tg.name] > 0:
			t.breakLine(blockTags[tg.name])
		}
	}
	return t.String()
}

// blockTags are the elements that start a line of their own (1) or a
// paragraph (2).
var blockTags = map[string]int{
	"p": 2, "div": 1, "ul": 2, "ol": 2, "dl": 2, "table": 2, "tr": 1, "dt": 1, "dd": 1,
	"h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "blockquote": 2, "pre": 2, "hr": 2,
	"section": 2, "article": 2, "header": 2, "footer": 2, "figure": 2, "figcaption": 1,
}

// hasTag reports whether s has an HTML tag of a known element, or a
// comment: "List<String>" or "a <b" alone do not make text HTML.
func hasTag(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0; {
		if _, tg, ok := readTag(s, i); ok && (tg.name == "!--" || htmlElements[tg.name]) {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// htmlElements are the HTML elements whose tags make text HTML.
var htmlElements = func() map[string]bool {
	m := make(map[string]bool)
	for _, name := range strings.Fields(`a abbr address article aside b bdi bdo big blockquote br caption center
		cite code dd del details dfn div dl dt em figcaption figure font footer h1 h2 h3 h4 h5 h6 header
		hr i img ins kbd li main mark nav ol p pre q s samp script section small span strike strong style
		sub summary sup table tbody td tfoot th thead tr tt u ul var`) {
		m[name] = true
	}
	return m
}()

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// tag is what plainText needs of an HTML tag.
type tag struct {
	name    string // lower case; "!--" for a comment
	closing bool
	href    string // of an <a>, decoded
}

// readTag reads the tag (or comment) at s[i] == '<' and returns the index
// just past it; ok is false when s[i:] is not a complete tag.
func readTag(s string, i int) (end int, tg tag, ok bool) {
	if strings.HasPrefix(s[i:], "<!--") {
		j := strings.Index(s[i+4:], "-->")
		if j < 0 {
			return 0, tag{}, false
		}
		return i + 4 + j + 3, tag{name: "!--"}, true
	}
	j := i + 1
	if j < len(s) && s[j] == '/' {
		tg.closing = true
		j++
	}
	start := j
	for j < len(s) && (isLetter(s[j]) || '0' <= s[j] && s[j] <= '9') {
		j++
	}
	if j == start || !isLetter(s[start]) {
		return 0, tag{}, false
	}
	tg.name = strings.ToLower(s[start:j])
	// Attributes, up to the '>' outside quotes.
	attrs := j
	var quote byte
	for ; j < len(s); j++ {
		c := s[j]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			if tg.name == "a" && !tg.closing {
				tg.href = htmlAttr(s[attrs:j], "href")
			}
			return j + 1, tg, true
		}
	}
	return 0, tag{}, false
}

// htmlAttr returns the decoded value of the attribute name in the attribute
// list s, or "".
func htmlAttr(s, name string) string {
	for s != "" {
		s = strings.TrimLeft(s, " \t\r\n\f/")
		k := 0
		for k < len(s) && !strings.ContainsRune(" \t\r\n\f=/>", rune(s[k])) {
			k++
		}
		key := s[:k]
		s = strings.TrimLeft(s[k:], " \t\r\n\f")
		var val string
		if strings.HasPrefix(s, "=") {
			s = strings.TrimLeft(s[1:], " \t\r\n\f")
			if s != "" && (s[0] == '"' || s[0] == '\'') {
				q := strings.IndexByte(s[1:], s[0])
				if q < 0 {
					q = len(s) - 1
				}
				val, s = s[1:1+q], s[min(len(s), q+2):]
			} else {
				v := strings.IndexAny(s, " \t\r\n\f")
				if v < 0 {
					v = len(s)
				}
				val, s = s[:v], s[v:]
			}
		}
		if strings.EqualFold(key, name) {
			return strings.TrimSpace(html.UnescapeString(val))
		}
		if k == 0 && !strings.HasPrefix(s, "=") {
			s = s[min(1, len(s)):] // a stray character: skip it
		}
	}
	return ""
}

// skipElement returns the index just past the closing tag of name at or
// after s[i], or len(s) when there is none.
func skipElement(s string, i int, name string) int {
	for {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		i += j
		if end, tg, ok := readTag(s, i); ok && tg.closing && tg.name == name {
			return end
		}
		i += 2
	}
}

// textWriter collects the text of an HTML fragment, collapsing white
// space and placing line breaks.
type textWriter struct {
	b      strings.Builder
	breaks int  // line breaks owed before the next text
	space  bool // a space owed before the next text
	// The open link: its address and where its text starts.
	href      string
	linkStart int
}

// text writes a run of HTML text: entities decoded, white space collapsed.
func (t *textWriter) text(s string) {
	if s == "" {
		return
	}
	s = html.UnescapeString(s)
	if isHTMLSpace(rune(s[0])) {
		t.space = true
	}
	for i, f := range strings.FieldsFunc(s, isHTMLSpace) {
		if i > 0 {
			t.space = true
		}
		t.word(f)
	}
	if isHTMLSpace(rune(s[len(s)-1])) {
		t.space = true
	}
}

// word writes w after the line breaks or the space owed.
func (t *textWriter) word(w string) {
	if t.b.Len() > 0 {
		switch {
		case t.breaks > 0:
			t.b.WriteString("\n\n"[:t.breaks])
		case t.space:
			t.b.WriteByte(' ')
		}
	}
	t.breaks, t.space = 0, false
	t.b.WriteString(w)
}

// bullet starts a list item.
func (t *textWriter) bullet() {
	t.word("•")
	t.space = true
}

// breakLine asks for n line breaks (1 or 2) before the next text.
func (t *textWriter) breakLine(n int) {
	t.breaks = max(t.breaks, n)
	t.space = false
}

// endLink closes the open link, adding its address when the text does not
// say it.
func (t *textWriter) endLink() {
	href := t.href
	t.href = ""
	if href == "" || !(strings.HasPrefix(href, "http://") || strings.HasPrefix(href, "https://") || strings.HasPrefix(href, "mailto:")) {
		return
	}
	text := t.b.String()[min(t.linkStart, t.b.Len()):]
	if strings.Contains(text, strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(href, "mailto:"), "https://"), "http://")) {
		return
	}
	t.space = true
	t.word("(" + href + ")")
}

func (t *textWriter) String() string { return strings.TrimSpace(t.b.String()) }

// isHTMLSpace reports the white space HTML collapses.
func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

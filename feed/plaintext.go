package feed

import (
	"html"
	"strconv"
	"strings"
)

// plainText returns s as plain text when it is HTML, as pentabarf (FOSDEM)
// and some frab exports give abstracts: calendar apps show DESCRIPTION as
// text, and "<p>" there is noise. Tags are dropped; paragraphs, line breaks
// and list items become line breaks ("• " or "1. " before an item); a link
// keeps its address after its text; entities are decoded; script and style
// vanish. White space collapses as a browser collapses it, except inside
// <pre>, and except line breaks when no tag makes paragraphs (Markdown with
// a <br> in it keeps its lines).
//
// Text is HTML when it has a comment, a tag that makes lines (<p>, <br>,
// <li>, …) or the end tag of a known element, outside Markdown code (in
// backticks). Anything else (plain text, Markdown, "List<String>",
// "Bob <bob@example.org>", "a <b> c", "the `<div>` soup") is returned
// unchanged.
func plainText(s string) string {
	blocks, ok := htmlKind(s)
	if !ok {
		return s
	}
	t := textWriter{keepLines: !blocks}
	t.b.Grow(len(s))
	// Text without paragraphs of HTML is Markdown with a few tags in it:
	// its code is written as it is.
	code, stops := markdownCode{s: s}, "<"
	if t.keepLines {
		stops = "<`"
	}
	for i := 0; i < len(s); {
		lt := strings.IndexAny(s[i:], stops)
		if lt < 0 {
			t.text(s[i:])
			break
		}
		t.text(s[i : i+lt])
		i += lt
		if s[i] == '`' {
			end, ok := code.end(i)
			if ok {
				t.code(s[i:end])
			} else {
				t.text(s[i:end])
			}
			i = end
			continue
		}
		end, tg := readTag(s, i)
		switch {
		case end == len(s) && tg.name == "":
			// An unclosed tag or comment: the rest is text.
			t.text(s[i:])
			i = end
			continue
		case end == 0:
			t.text("<")
			i++
			continue
		}
		i = end
		t.tag(tg)
		if (tg.name == "script" || tg.name == "style") && !tg.closing {
			i = skipElement(s, i, tg.name)
		}
	}
	return t.String()
}

// blockTags are the elements that start a line of their own (1) or a
// paragraph (2).
var blockTags = map[string]int{
	"p": 2, "div": 1, "ul": 2, "ol": 2, "dl": 2, "table": 2, "tr": 1, "dt": 1, "dd": 1, "li": 1,
	"h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "blockquote": 2, "pre": 2, "hr": 2,
	"section": 2, "article": 2, "header": 2, "footer": 2, "figure": 2, "figcaption": 1,
}

// htmlElements are the HTML elements whose end tags make text HTML.
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

// htmlKind reports whether s is HTML (see plainText), and whether it has
// tags that make paragraphs, so that its line breaks are only white space.
// It takes time in proportion to the length of s.
func htmlKind(s string) (blocks, ok bool) {
	code := markdownCode{s: s}
	for i := strings.IndexAny(s, "<`"); i >= 0; {
		if s[i] == '`' {
			next, _ := code.end(i) // tags in Markdown code are text
			j := strings.IndexAny(s[next:], "<`")
			if j < 0 {
				break
			}
			i = next + j
			continue
		}
		end, tg := readTag(s, i)
		if end == len(s) && tg.name == "" {
			break // unclosed: no tag after it
		}
		switch {
		case end == 0:
		case tg.name == "!--", tg.name == "br":
			ok = true
		case blockTags[tg.name] > 0:
			ok, blocks = true, true
		case tg.closing && htmlElements[tg.name]:
			ok = true
		}
		next := i + 1
		if end > 0 {
			next = end // what a tag holds is not read again
		}
		j := strings.IndexAny(s[next:], "<`")
		if j < 0 {
			break
		}
		i = next + j
	}
	return blocks, ok
}

// markdownCode finds Markdown code in s: a run of backticks up to the next
// run of the same length. A span of one or two backticks ends at a blank
// line; a fence of three or more does not. Runs longer than maxRun are
// text.
type markdownCode struct {
	s string
	// noClose[k] is an index before which no run of k backticks closes
	// one, learnt from a search that failed: no span is searched for twice.
	noClose [maxRun + 1]int
	// The blank line that ends the paragraph from paraFrom on (len(s)
	// when none): found once for all the spans before it.
	paraFrom, paraEnd int
}

const maxRun = 8

// end returns, for the run of backticks at s[i], the index just past the
// code it opens and true, or just past the run and false when it opens
// none.
func (c *markdownCode) end(i int) (int, bool) {
	s := c.s
	k := backticks(s, i, len(s))
	next := i + k
	if k > maxRun || next < c.noClose[k] {
		return next, false
	}
	limit := len(s)
	if k < 3 {
		if next < c.paraFrom || next >= c.paraEnd {
			c.paraFrom, c.paraEnd = next, len(s)
			if p := strings.Index(s[next:], "\n\n"); p >= 0 {
				c.paraEnd = next + p
			}
		}
		limit = c.paraEnd
	}
	for j := next; j < limit; {
		q := strings.IndexByte(s[j:limit], '`')
		if q < 0 {
			break
		}
		q += j
		r := backticks(s, q, limit)
		if r == k {
			return q + k, true
		}
		j = q + r
	}
	c.noClose[k] = limit
	return next, false
}

// backticks is the length of the run of backticks at s[i], up to limit.
func backticks(s string, i, limit int) int {
	k := 0
	for i+k < limit && s[i+k] == '`' {
		k++
	}
	return k
}

// tag is what plainText needs of an HTML tag.
type tag struct {
	name    string // lower case; "!--" for a comment, "!" for <!…> and <?…>
	closing bool
	href    string // of an <a>, decoded
}

// readTag reads the tag or comment at s[i] == '<' as an HTML tokenizer
// does: the name runs to white space, '/' or '>', and the tag to the first
// '>' outside a quoted attribute value. It returns the index just past it;
// 0 when s[i:] does not start a tag ('<' then no letter), and len(s) with
// no name when the tag or comment is not closed.
func readTag(s string, i int) (end int, tg tag) {
	if strings.HasPrefix(s[i:], "<!--") {
		j := strings.Index(s[i+4:], "-->")
		if j < 0 {
			return len(s), tag{}
		}
		return i + 4 + j + 3, tag{name: "!--"}
	}
	if strings.HasPrefix(s[i:], "<!") || strings.HasPrefix(s[i:], "<?") {
		// <!DOCTYPE …>, <![CDATA[…]]>, <?xml …?>: browsers hide them.
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return len(s), tag{}
		}
		return i + j + 1, tag{name: "!"}
	}
	j := i + 1
	if j < len(s) && s[j] == '/' {
		tg.closing = true
		j++
	}
	if j >= len(s) || !isLetter(s[j]) {
		return 0, tag{}
	}
	start := j
	for j < len(s) && !isHTMLSpace(rune(s[j])) && s[j] != '/' && s[j] != '>' {
		j++
	}
	name := strings.ToLower(s[start:j])
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
			tg.name = name
			if name == "a" && !tg.closing {
				tg.href = htmlAttr(s[attrs:j], "href")
			}
			return j + 1, tg
		}
	}
	return len(s), tag{}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// htmlAttr returns the decoded value of the attribute name in the
// attribute list s, or "".
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

// skipElement returns the index just past the end tag of name (script or
// style) at or after s[i], or len(s) when there is none: their content is
// not text, and no other tag ends them.
func skipElement(s string, i int, name string) int {
	for {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return len(s)
		}
		i += j + 2
		if k := i + len(name); k <= len(s) && strings.EqualFold(s[i:k], name) &&
			(k == len(s) || isHTMLSpace(rune(s[k])) || s[k] == '/' || s[k] == '>') {
			if gt := strings.IndexByte(s[k:], '>'); gt >= 0 {
				return k + gt + 1
			}
			return len(s)
		}
	}
}

// textWriter collects the text of an HTML fragment, collapsing white
// space and placing line breaks.
type textWriter struct {
	b         strings.Builder
	keepLines bool   // line breaks in the text are kept: no tag makes paragraphs
	pre       int    // depth of <pre>: white space is kept
	breaks    int    // line breaks owed before the next text
	indent    string // white space to start the next line with (keepLines)
	afterBr   bool   // a <br> came last: the line break of the text is that one
	space     bool   // a space owed before the next text
	// The open link: its address and where its text starts.
	href      string
	linkStart int
	// The open lists, innermost last: 0 for <ul>, else the next number.
	lists []int
}

// tag applies what tg does to the text around it.
func (t *textWriter) tag(tg tag) {
	switch name := tg.name; {
	case name == "br":
		t.breaks = min(t.breaks+1, 2)
		t.space, t.afterBr = false, true
	case name == "ul" || name == "ol":
		if !tg.closing {
			next := 0
			if name == "ol" {
				next = 1
			}
			t.lists = append(t.lists, next)
		} else if len(t.lists) > 0 {
			t.lists = t.lists[:len(t.lists)-1]
		}
		// A list is a paragraph of its own; one in another is not.
		if nested := len(t.lists) > 1 || tg.closing && len(t.lists) > 0; nested {
			t.breakLine(1)
		} else {
			t.breakLine(2)
		}
	case name == "li":
		t.breakLine(1)
		if !tg.closing {
			t.bullet()
		}
	case name == "pre":
		if tg.closing {
			t.pre = max(t.pre-1, 0)
		} else {
			t.pre++
		}
		t.breakLine(2)
	case name == "a" && !tg.closing:
		t.href = tg.href
		t.linkStart = t.b.Len()
	case name == "a":
		t.endLink()
	case (name == "td" || name == "th") && !tg.closing:
		t.space = true
	case blockTags[name] > 0:
		t.breakLine(blockTags[name])
	}
}

// text writes a run of HTML text: entities decoded, white space collapsed.
func (t *textWriter) text(s string) {
	if s == "" {
		return
	}
	s = strings.ReplaceAll(html.UnescapeString(s), "\u00a0", " ")
	if t.pre > 0 {
		t.word(strings.ReplaceAll(s, "\r\n", "\n"))
		return
	}
	if t.keepLines {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		for i, line := range strings.Split(s, "\n") {
			if i > 0 {
				// A new line keeps its indent: Markdown lists and code.
				if !t.afterBr {
					t.breaks = min(t.breaks+1, 2)
				}
				t.space, t.afterBr = false, false
				rest := strings.TrimLeft(line, " \t")
				t.indent, line = line[:len(line)-len(rest)], rest
			}
			t.words(line)
		}
		return
	}
	t.words(s)
}

// code writes Markdown code as it is, after the space it follows.
func (t *textWriter) code(s string) {
	t.word(strings.ReplaceAll(s, "\r\n", "\n"))
}

// words writes s with its runs of white space collapsed.
func (t *textWriter) words(s string) {
	if s == "" {
		return
	}
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
			t.b.WriteString(t.indent)
		case t.space:
			t.b.WriteByte(' ')
		}
	}
	t.breaks, t.space, t.indent, t.afterBr = 0, false, "", false
	t.b.WriteString(w)
}

// bullet starts a list item: "•" in a <ul>, its number in an <ol>.
func (t *textWriter) bullet() {
	mark := "•"
	if n := len(t.lists); n > 0 && t.lists[n-1] > 0 {
		mark = strconv.Itoa(t.lists[n-1]) + "."
		t.lists[n-1]++
	}
	t.word(mark)
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
	if !strings.HasPrefix(href, "http://") && !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "mailto:") {
		return
	}
	text := t.b.String()[min(t.linkStart, t.b.Len()):]
	bare := strings.TrimSuffix(href, "/")
	for _, scheme := range []string{"mailto:", "https://", "http://"} {
		bare = strings.TrimPrefix(bare, scheme)
	}
	if strings.Contains(text, bare) {
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

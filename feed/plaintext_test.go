package feed

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"pentabarf paragraph", "<p>FOSDEM welcome and opening talk.</p>", "FOSDEM welcome and opening talk."},
		{"paragraphs", "<p>First.</p>\n<p>Second,\n  on two lines.</p>", "First.\n\nSecond, on two lines."},
		{"line break", "One<br>two<br/>three<BR />four", "One\ntwo\nthree\nfour"},
		{"inline tags", "Use <b>bold</b> and <em>some</em><i>thing</i> else.", "Use bold and something else."},
		{"space inside a tag pair", "a<b> b </b>c", "a b c"},
		{"list", "<p>Topics:</p><ul><li>Go</li>\n<li>Rust &amp; C</li></ul><p>End.</p>",
			"Topics:\n\n• Go\n• Rust & C\n\nEnd."},
		{"link with other text", `See <a href="https://example.org/x?a=1&amp;b=2">the slides</a>.`,
			"See the slides (https://example.org/x?a=1&b=2)."},
		{"link that is its address", `<a href='https://example.org'>example.org</a>`, "example.org"},
		{"relative link", `<a href="/x">here</a>`, "here"},
		{"mail link", `Ask <a class="m" href=mailto:ada@example.org>Ada</a>`, "Ask Ada (mailto:ada@example.org)"},
		{"entities", "<p>Caf&eacute; &lt;3 &#8212; &quot;q&quot;</p>", `Café <3 — "q"`},
		{"escaped tags are text", "<p>&lt;p&gt; is a tag</p>", "<p> is a tag"},
		{"script and style", "<style>p{}</style><p>Text<script>alert('<p>')</script></p>", "Text"},
		{"comment", "<!-- note -->Text<!-- <p> -->", "Text"},
		{"heading", "<h2>Title</h2>Body", "Title\n\nBody"},
		{"table", "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"},
		{"quoted >", `<a title="x>y" href="https://e.org/">go</a>`, "go (https://e.org/)"},
		{"unclosed tag is text", "<p>a <b and more", "a <b and more"},
		{"leading and trailing space", "  <p> x </p>  ", "x"},
		{"uppercase", "<P>Loud</P>", "Loud"},
		{"'<' in a tag, as browsers read it", "<p><u <li>></p>", ">"},
		{"text that looks like a tag", "<p><<A>A></p>", "<A>"},
		{"ends trimmed", "\v<p>0&nbsp;</p>", "0"},
		{"empty paragraph", "<p>&nbsp;</p><p>x</p>", "x"},
		{"two line breaks", "a<br><br>b", "a\n\nb"},
		{"nested list", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "• a\n• b\n• c"},
		{"numbered list", "<p>Steps:</p><ol><li>one</li><li>two</li></ol>", "Steps:\n\n1. one\n2. two"},
		{"pre keeps white space", "<p>Run:</p><pre>func main() {\n\tfmt.Println(1)\n}</pre><p>Done.</p>",
			"Run:\n\nfunc main() {\n\tfmt.Println(1)\n}\n\nDone."},
		{"link to its own address", `<p><a href="https://example.org/">example.org</a></p>`, "example.org"},
		{"Markdown with a line break tag keeps its lines", "line<br>break\n\n- item one\n- item two",
			"line\nbreak\n\n- item one\n- item two"},
		{"inline tags only", "<b>Bold</b> and\nnext line", "Bold and\nnext line"},
		{"Markdown code with a line break tag", "Use `<div>` not tables.<br>Thanks", "Use `<div>` not tables.\nThanks"},
		{"Markdown fence with a line break tag", "```\n<p>x</p>\n\n</p>\n```\nthen <br> y", "```\n<p>x</p>\n\n</p>\n```\nthen\ny"},
		{"backticks as apostrophes", "Don`t miss it!<br>Bring a laptop.\n\nIt`s free.<br>Come.", "Don`t miss it!\nBring a laptop.\n\nIt`s free.\nCome."},
		{"code span of two", "a ``x ` y`` b<br>c", "a ``x ` y`` b\nc"},
		{"Markdown with a line break tag keeps its indents", "Steps:<br>\n- one\n  - one a\n\n    code()\n",
			"Steps:\n- one\n  - one a\n\n    code()"},
		{"doctype, CDATA, processing instruction", "<?xml version=\"1.0\"?><!DOCTYPE html><p>a<![CDATA[x]]>b</p>", "ab"},
		{"script end tag in any case", "<p>a</p><SCRIPT>x</a></Script >b", "a\n\nb"},

		// Not HTML: returned exactly as given.
		{"plain", "Plain text.\n\nTwo paragraphs.", "Plain text.\n\nTwo paragraphs."},
		{"markdown", "**bold** and a [link](https://e.org) & more", "**bold** and a [link](https://e.org) & more"},
		{"comparison", "if a < b and c > d", "if a < b and c > d"},
		{"heart", "I <3 Go &amp; friends", "I <3 Go &amp; friends"},
		{"lone bracket", "x <", "x <"},
		{"generic", "List<String> in Java", "List<String> in Java"},
		{"generics", "Either<A, B> and Option<A>, Pair<S, T>", "Either<A, B> and Option<A>, Pair<S, T>"},
		{"mail address", "Bob <b.smith@example.org>", "Bob <b.smith@example.org>"},
		{"address", "see <https://example.org>", "see <https://example.org>"},
		{"tag named in prose", "Learn why <script> tags are dangerous.\n\nSecond.", "Learn why <script> tags are dangerous.\n\nSecond."},
		{"start tag alone", "a <b> c", "a <b> c"},
		{"Markdown code span", "Why `<div>` soup hurts.\n\nWe cover:\n\n- landmarks\n- headings",
			"Why `<div>` soup hurts.\n\nWe cover:\n\n- landmarks\n- headings"},
		{"Markdown fence", "Example:\n\n```html\n<p>Hello</p>\n```\n", "Example:\n\n```html\n<p>Hello</p>\n```\n"},
		{"unclosed backtick", "a ` b `` c", "a ` b `` c"},
		{"a span ends at a blank line", "a `b\n\nc <p>d</p> e`", "a `b c\n\nd\n\ne`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := plainText(tc.in); got != tc.want {
				t.Errorf("plainText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDecodeAbstractHTML: a pentabarf abstract in HTML reaches the schedule
// as text.
func TestDecodeAbstractHTML(t *testing.T) {
	s, err := Load(context.Background(), "testdata/decode/legacy-pentabarf.xml", LoadOptions{TimeZone: "Europe/Brussels"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range s.Events {
		for _, text := range []string{e.Abstract, e.Description} {
			if _, html := htmlKind(text); html {
				t.Errorf("%s: HTML left in %q", e.GUID, text)
			}
		}
	}
	var found bool
	for _, e := range s.Events {
		found = found || e.Abstract == "FOSDEM welcome and opening talk."
	}
	if !found {
		t.Error("no session has the opening talk's abstract as text")
	}
}

// FuzzPlainText: plainText never panics, keeps valid UTF-8 valid, leaves
// text without tags alone, trims the ends, and leaves no '<' when every
// '<' of its input started a tag.
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{
		"<p>FOSDEM welcome and opening talk.</p>", "a<b> b </b>c", `<a href="https://e.org/">go</a>`,
		"<ul><li>x</li></ul>", "<!-- c -->", "<script>x</script>", "a < b", "<a href='x", "<p>&lt;p&gt;</p>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := plainText(s)
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("plainText(%q) = %q: invalid UTF-8", s, got)
		}
		if _, html := htmlKind(s); !html {
			if got != s {
				t.Fatalf("plainText(%q) = %q: text without tags changed", s, got)
			}
			return
		}
		if got != strings.TrimSpace(got) && strings.TrimSpace(got) != "" {
			t.Fatalf("plainText(%q) = %q: white space at the ends", s, got)
		}
		// When every '<' starts a tag and no entity can spell one, no
		// '<' is left. Markdown code keeps its '<' as written ("`<A0`"),
		// so text with backticks is left to the table tests.
		allTags := !strings.ContainsAny(s, "&`")
		for i := strings.IndexByte(s, '<'); i >= 0 && allTags; {
			end, tg := readTag(s, i)
			allTags = end > 0 && tg.name != ""
			j := strings.IndexByte(s[i+1:], '<')
			if j < 0 {
				break
			}
			i += 1 + j
		}
		if allTags && strings.Contains(got, "<") {
			t.Fatalf("plainText(%q) = %q: a tag is left", s, got)
		}
	})
}

// BenchmarkPlainText converts a realistic abstract and inputs made to be
// slow: each should take time in proportion to its length.
func BenchmarkPlainText(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"abstract", strings.Repeat("<p>Dynamic networks adapt <em>their</em> structure; see <a href=\"https://example.org/paper\">the paper</a>.</p>\n<ul><li>one</li><li>two</li></ul>", 20)},
		{"unclosed_tags", "<p>x</p>" + strings.Repeat("<b", 50_000)},
		{"script_end_tags", "<p>x</p><script>" + strings.Repeat("</a", 50_000)},
		{"comments", "<p>x</p>" + strings.Repeat("<!--", 50_000)},
		{"nested_names", "<p>x</p>" + strings.Repeat("<a", 50_000) + ">"},
		{"backticks", "<p>x</p>" + strings.Repeat("` `` ``` ```` ", 10_000)},
		{"backticks_markdown", "x<br>" + strings.Repeat("` `` ``` ```` ", 10_000)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				plainText(bc.in)
			}
		})
	}
}

package feed

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Slug folds a name to the form used in URLs and for matching: lower case,
// accents removed, every run of other characters a single "-".
// "Jürgen Schmidhuber" → "jurgen-schmidhuber", "Zhangyang “Atlas” Wang" →
// "zhangyang-atlas-wang".
func Slug(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	dash := false
	for _, r := range norm.NFKD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark left by decomposition: drop the accent.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(foldLetter(r)))
		default:
			dash = true
		}
	}
	return b.String()
}

// foldLetter maps letters that have no decomposition to their usual ASCII
// spelling, so that "Łukasz" and "Lukasz" share a slug.
func foldLetter(r rune) rune {
	switch r {
	case 'ł':
		return 'l'
	case 'Ł':
		return 'L'
	case 'ø':
		return 'o'
	case 'Ø':
		return 'O'
	case 'đ':
		return 'd'
	case 'Đ':
		return 'D'
	case 'ı':
		return 'i'
	}
	return r
}

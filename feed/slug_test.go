package feed

import "testing"

func TestSlug(t *testing.T) {
	tests := []struct{ name, want string }{
		{"Jürgen Schmidhuber", "jurgen-schmidhuber"},
		{"ZIHAO DENG", "zihao-deng"},
		{"Zhangyang “Atlas” Wang", "zhangyang-atlas-wang"},
		{"Ana Líma", "ana-lima"},
		{"Łukasz Żółć", "lukasz-zolc"},
		{"Søren Ødegård", "soren-odegard"},
		{"François-Xavier O'Neil", "francois-xavier-o-neil"},
		{"  Ethics, Society & Politics  ", "ethics-society-politics"},
		{"C++ / Rust", "c-rust"},
		{"ﬁnance ｆｕｌｌｗｉｄｔｈ", "finance-fullwidth"}, // NFKD folds ligatures and width
		{"Track 2", "track-2"},
		{"東京 talk", "東京-talk"},
		{"—", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := Slug(tc.name); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

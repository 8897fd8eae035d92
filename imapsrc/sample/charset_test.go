package sample

import "testing"

// The expected bytes were produced with Python's codecs
// (str.encode("iso2022_jp" / "koi8_r" / "iso8859_15" / "latin1")).
func TestEncoders(t *testing.T) {
	tests := []struct {
		name string
		enc  func(string) string
		in   string
		want string
	}{
		{"iso2022jp kana", iso2022jp, "ミーティングのごあんない", "\x1b$B%_!<%F%#%s%0$N$4$\"$s$J$$\x1b(B"},
		{"iso2022jp kanji", iso2022jp, "次回会議の場所変更について", "\x1b$B<!2s2q5D$N>l=jJQ99$K$D$$$F\x1b(B"},
		{"iso2022jp mixed", iso2022jp, "（6月13日 14:00から）", "\x1b$B!J\x1b(B6\x1b$B7n\x1b(B13\x1b$BF|\x1b(B 14:00\x1b$B$+$i!K\x1b(B"},
		{"iso2022jp name", iso2022jp, "本田 健", "\x1b$BK\\ED\x1b(B \x1b$B7r\x1b(B"},
		{"iso2022jp newline", iso2022jp, "様\n", "\x1b$BMM\x1b(B\n"},
		{"koi8r", koi8r, "Отчёт о поездке в Казань", "\xef\xd4\xde\xa3\xd4 \xcf \xd0\xcf\xc5\xda\xc4\xcb\xc5 \xd7 \xeb\xc1\xda\xc1\xce\xd8"},
		{"koi8r ё", koi8r, "Привет, ёж", "\xf0\xd2\xc9\xd7\xc5\xd4, \xa3\xd6"},
		{"latin9", latin9, "Nebenkostenabrechnung 2023: Nachzahlung über 84,50 €", "Nebenkostenabrechnung 2023: Nachzahlung \xfcber 84,50 \xa4"},
		{"latin1", latin1, "Rückfrage × Föhr", "R\xfcckfrage \xd7 F\xf6hr"},
	}
	for _, tt := range tests {
		if got := tt.enc(tt.in); got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestEncodersRejectUnmappable(t *testing.T) {
	for name, f := range map[string]func(){
		"latin1 €":    func() { latin1("€") },
		"latin9 ¤":    func() { latin9("¤") },
		"koi8r ä":     func() { koi8r("ä") },
		"iso2022jp 漢": func() { iso2022jp("漢") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

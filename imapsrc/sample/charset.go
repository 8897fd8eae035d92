package sample

import "fmt"

// Minimal encoders from UTF-8 to the legacy charsets the sample messages use.
// They cover exactly the characters the messages contain and panic on
// anything else, so a typo in a message fails every test at once instead of
// producing a silently wrong byte. Output is checked against Python's codecs
// in charset_test.go.

// latin1 encodes s as ISO-8859-1.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			panic(fmt.Sprintf("sample: %q is not in ISO-8859-1", r))
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// latin9 encodes s as ISO-8859-15, which differs from ISO-8859-1 in eight
// positions, among them the euro sign at 0xA4.
func latin9(s string) string {
	special := map[rune]byte{'€': 0xA4, 'Š': 0xA6, 'š': 0xA8, 'Ž': 0xB4, 'ž': 0xB8, 'Œ': 0xBC, 'œ': 0xBD, 'Ÿ': 0xBE}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if c, ok := special[r]; ok {
			b = append(b, c)
			continue
		}
		switch r {
		case 0xA4, 0xA6, 0xA8, 0xB4, 0xB8, 0xBC, 0xBD, 0xBE:
			panic(fmt.Sprintf("sample: %q is not in ISO-8859-15", r))
		}
		if r > 0xFF {
			panic(fmt.Sprintf("sample: %q is not in ISO-8859-15", r))
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// koi8r encodes s as KOI8-R. Only ASCII and the Russian alphabet are
// supported.
func koi8r(s string) string {
	// KOI8-R orders Cyrillic letters by their Latin transliteration.
	const lower = "юабцдефгхийклмнопярстужвьызшэщчъ" // 0xC0…0xDF
	const upper = "ЮАБЦДЕФГХИЙКЛМНОПЯРСТУЖВЬЫЗШЭЩЧЪ" // 0xE0…0xFF
	table := map[rune]byte{'ё': 0xA3, 'Ё': 0xB3}
	i := 0
	for _, r := range lower {
		table[r] = 0xC0 + byte(i)
		i++
	}
	i = 0
	for _, r := range upper {
		table[r] = 0xE0 + byte(i)
		i++
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch c, ok := table[r]; {
		case r < 0x80:
			b = append(b, byte(r))
		case ok:
			b = append(b, c)
		default:
			panic(fmt.Sprintf("sample: %q is not in the KOI8-R table", r))
		}
	}
	return string(b)
}

// jisX0208 holds the JIS X 0208 codes of the kanji and punctuation used by
// the Japanese sample messages; kana are computed.
var jisX0208 = map[rune]uint16{
	'次': 0x3C21, '回': 0x3273, '会': 0x3271, '議': 0x3544, '場': 0x3E6C,
	'所': 0x3D6A, '変': 0x4A51, '更': 0x3939, '山': 0x3B33, '田': 0x4544,
	'様': 0x4D4D, '本': 0x4B5C, '月': 0x376E, '日': 0x467C, '前': 0x4130,
	'階': 0x332C, '第': 0x4268, '室': 0x3C3C, '後': 0x3865, '大': 0x4267,
	'資': 0x3B71, '料': 0x4E41, '先': 0x4068, '週': 0x3D35, '送': 0x4177,
	'確': 0x334E, '認': 0x4727, '参': 0x3B32, '加': 0x3243, '者': 0x3C54,
	'増': 0x417D, '広': 0x392D, '部': 0x4974, '屋': 0x3230, '願': 0x346A,
	'健': 0x3772,
	'　': 0x2121, '、': 0x2122, '。': 0x2123, '：': 0x2127, 'ー': 0x213C,
	'（': 0x214A, '）': 0x214B, '「': 0x2156, '」': 0x2157, '・': 0x2126,
}

// iso2022jp encodes s as ISO-2022-JP (RFC 1468): ASCII, and JIS X 0208
// between ESC $ B and ESC ( B. It returns to ASCII before every line end
// and at the end, as RFC 1468 requires.
func iso2022jp(s string) string {
	const toJIS, toASCII = "\x1b$B", "\x1b(B"
	var b []byte
	jis := false
	for _, r := range s {
		var code uint16
		switch {
		case r < 0x80:
			if jis {
				b = append(b, toASCII...)
				jis = false
			}
			b = append(b, byte(r))
			continue
		case r >= 'ぁ' && r <= 'ん':
			code = 0x2421 + uint16(r-'ぁ')
		case r >= 'ァ' && r <= 'ヶ':
			code = 0x2521 + uint16(r-'ァ')
		default:
			c, ok := jisX0208[r]
			if !ok {
				panic(fmt.Sprintf("sample: %q is not in the JIS X 0208 table", r))
			}
			code = c
		}
		if !jis {
			b = append(b, toJIS...)
			jis = true
		}
		b = append(b, byte(code>>8), byte(code))
	}
	if jis {
		b = append(b, toASCII...)
	}
	return string(b)
}

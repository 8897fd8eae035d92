package imapsrc

import (
	"path"
	"testing"
	"time"
)

func TestFilterFolder(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		folder           string
		delim            rune
		want             bool
	}{
		{"zero filter wants all", nil, nil, "Archive/2024", '/', true},
		{"include exact", []string{"INBOX"}, nil, "INBOX", '/', true},
		{"include covers children", []string{"Archive"}, nil, "Archive/2024/Q1", '/', true},
		{"include other", []string{"Archive"}, nil, "Sent", '/', false},
		{"include is not a prefix match", []string{"Arch"}, nil, "Archive", '/', false},
		{"star stays in one level", []string{"*"}, nil, "Archive/2024", '/', true}, // via parent "Archive"
		{"star child", []string{"Archive/*"}, nil, "Archive/2024", '/', true},
		{"star child excludes parent", []string{"Archive/*"}, nil, "Archive", '/', false},
		{"dot delimiter normalised", []string{"Archive/2024"}, nil, "Archive.2024", '.', true},
		{"dot delimiter child", []string{"Archive/2024"}, nil, "Archive.2024.Q1", '.', true},
		{"dot delimiter no match", []string{"Archive/2024"}, nil, "Archive.2023", '.', false},
		{"no delimiter", []string{"Work*"}, nil, "Work.Reports", 0, true},
		{"exclude", nil, []string{"Spam", "Trash"}, "Trash", '/', false},
		{"exclude children", nil, []string{"[Gmail]/All Mail"}, "[Gmail]/All Mail", '/', false},
		{"exclude leaves sibling", nil, []string{"[Gmail]/All Mail"}, "[Gmail]/Sent Mail", '/', true},
		{"brackets escaped", nil, []string{`\[Gmail\]/Spam`}, "[Gmail]/Spam", '/', false},
		{"brackets escaped glob", nil, []string{`\[Gmail\]/*`}, "[Gmail]/Spam", '/', false},
		{"literal name with brackets", nil, []string{"[Gmail]/Spam"}, "[Gmail]/Spam", '/', false},
		{"brackets are a class", nil, []string{"[Gmail]/Spam"}, "G/Spam", '/', false},
		{"literal name is not a glob", nil, []string{"[Gmail]/Spam"}, "[Gmail]/Spa", '/', true},
		{"exclude wins over include", []string{"Archive"}, []string{"Archive/Old"}, "Archive/Old/1999", '/', false},
		{"include and not excluded", []string{"Archive"}, []string{"Archive/Old"}, "Archive/New", '/', true},
		{"inbox case-insensitive name", []string{"INBOX"}, nil, "inbox", '/', true},
		{"inbox case-insensitive pattern", []string{"inbox/*"}, nil, "INBOX/Receipts", '/', true},
		{"other names case-sensitive", []string{"archive"}, nil, "Archive", '/', false},
		{"utf-8 names", []string{"Entwürfe"}, nil, "Entwürfe", '/', true},
		{"question mark", []string{"20??"}, nil, "2024", '/', true},
		{"bad pattern matches nothing", []string{"[a-"}, nil, "a", '/', false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Filter{Include: tt.include, Exclude: tt.exclude}
			if got := f.Folder(tt.folder, tt.delim); got != tt.want {
				t.Errorf("Filter{Include: %q, Exclude: %q}.Folder(%q, %q) = %v, want %v",
					tt.include, tt.exclude, tt.folder, tt.delim, got, tt.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	d := func(s string) time.Time {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name    string
		f       Filter
		wantErr bool
	}{
		{"zero", Filter{}, false},
		{"good", Filter{Include: []string{"A/*"}, Exclude: []string{"B"}, Since: d("2020-01-01"), Before: d("2021-01-01")}, false},
		{"bad include", Filter{Include: []string{"[a-"}}, true},
		{"bad exclude", Filter{Exclude: []string{`x\`}}, true},
		{"empty pattern", Filter{Include: []string{""}}, true},
		{"since equals before", Filter{Since: d("2020-01-01"), Before: d("2020-01-01")}, true},
		{"since after before", Filter{Since: d("2021-01-01"), Before: d("2020-01-01")}, true},
		{"only since", Filter{Since: d("2021-01-01")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.f.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestFilterSearchCriteria(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	// 00:30 in Berlin on 1 March is 23:30 UTC on 29 February: the day
	// meant is 1 March, and it must not shift.
	since := time.Date(2024, 3, 1, 0, 30, 0, 0, berlin)
	before := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name              string
		f                 Filter
		wantSince, wantBf time.Time
	}{
		{"none", Filter{}, time.Time{}, time.Time{}},
		{"since", Filter{Since: since}, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Time{}},
		{"before", Filter{Before: before}, time.Time{}, before},
		{"both", Filter{Since: since, Before: before}, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), before},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.f.SearchCriteria()
			if c == nil {
				t.Fatal("SearchCriteria() = nil")
			}
			if !c.Since.Equal(tt.wantSince) || !c.Before.Equal(tt.wantBf) {
				t.Errorf("SearchCriteria() = SINCE %v BEFORE %v, want SINCE %v BEFORE %v", c.Since, c.Before, tt.wantSince, tt.wantBf)
			}
			if got, want := tt.f.HasDates(), !tt.wantSince.IsZero() || !tt.wantBf.IsZero(); got != want {
				t.Errorf("HasDates() = %v, want %v", got, want)
			}
			if c.Since.Location() != time.UTC && !c.Since.IsZero() {
				t.Errorf("Since not in UTC: %v", c.Since)
			}
		})
	}
}

func TestQuoteGlob(t *testing.T) {
	for _, name := range []string{"[Gmail]/All Mail", `a*b?c\d`, "plain", "Entwürfe"} {
		q := QuoteGlob(name)
		if ok, err := path.Match(q, name); !ok || err != nil {
			t.Errorf("path.Match(QuoteGlob(%q) = %q, %q) = %v, %v", name, q, name, ok, err)
		}
		if ok, _ := path.Match(q, name+"x"); ok {
			t.Errorf("QuoteGlob(%q) matches more than the name", name)
		}
	}
}

package imapsrc

import (
	"regexp"
	"testing"
)

func TestProviderTable(t *testing.T) {
	want := map[string]struct {
		addr string // for region "us-east-1" where one is needed
		auth string
	}{
		"gmail":    {"imap.gmail.com:993", "password-or-oauth2"},
		"outlook":  {"outlook.office365.com:993", "oauth2"},
		"yahoo":    {"imap.mail.yahoo.com:993", "password-or-oauth2"},
		"aol":      {"imap.aol.com:993", "password-or-oauth2"},
		"icloud":   {"imap.mail.me.com:993", "password"},
		"fastmail": {"imap.fastmail.com:993", "password"},
		"zoho":     {"imap.zoho.com:993", "password"},
		"gmx":      {"imap.gmx.net:993", "password"},
		"yandex":   {"imap.yandex.com:993", "password-or-oauth2"},
		"workmail": {"imap.mail.us-east-1.awsapps.com:993", "password"},
	}
	name := regexp.MustCompile(`^[a-z0-9]+$`)
	seen := map[string]bool{}
	for _, p := range Providers() {
		if seen[p.Name] {
			t.Errorf("provider %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if !name.MatchString(p.Name) {
			t.Errorf("provider name %q: want lower-case letters and digits", p.Name)
		}
		if p.Title == "" || p.Notes == "" || p.Host == "" {
			t.Errorf("provider %q: empty title, notes or host", p.Name)
		}
		if p.TLS != TLSImplicit || p.Port != 993 {
			t.Errorf("provider %q: %v on port %d, want implicit TLS on 993", p.Name, p.TLS, p.Port)
		}
		if !p.Password && !p.OAuth2 {
			t.Errorf("provider %q accepts neither a password nor OAuth2", p.Name)
		}
		for _, f := range p.HideFolders {
			if err := (Filter{Exclude: []string{f}}).Validate(); err != nil {
				t.Errorf("provider %q: hidden folder %q is not a valid pattern: %v", p.Name, f, err)
			}
		}
		w, ok := want[p.Name]
		if !ok {
			continue
		}
		addr, err := p.Addr("us-east-1")
		if err != nil || addr != w.addr {
			t.Errorf("provider %q: Addr = %q, %v; want %q", p.Name, addr, err, w.addr)
		}
		if p.Login() != w.auth {
			t.Errorf("provider %q: login %q, want %q", p.Name, p.Login(), w.auth)
		}
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("provider %q missing", n)
		}
	}
}

func TestProviderQuirks(t *testing.T) {
	g, _ := LookupProvider("gmail")
	// Gmail's All Mail must be hidden: it repeats every labelled message.
	f := Filter{Exclude: g.HideFolders}
	for folder, want := range map[string]bool{
		"[Gmail]/All Mail":       false,
		"[Google Mail]/All Mail": false,
		"[Gmail]/Sent Mail":      true,
		"INBOX":                  true,
	} {
		if got := f.Folder(folder, '/'); got != want {
			t.Errorf("gmail: Folder(%q) = %v, want %v", folder, got, want)
		}
	}
	if len(g.HideSpecialUse) != 1 || g.HideSpecialUse[0] != `\All` {
		t.Errorf("gmail: HideSpecialUse = %q, want [\\All]", g.HideSpecialUse)
	}

	w, _ := LookupProvider("workmail")
	if !w.NeedsRegion() {
		t.Error("workmail: NeedsRegion() = false")
	}
	if _, err := w.Addr(""); err == nil {
		t.Error("workmail: Addr(\"\") succeeded without a region")
	}
	if _, err := w.Addr("evil.com/x"); err == nil {
		t.Error("workmail: Addr accepted a malformed region")
	}
	if addr, err := w.Addr("eu-west-1"); err != nil || addr != "imap.mail.eu-west-1.awsapps.com:993" {
		t.Errorf("workmail: Addr(eu-west-1) = %q, %v", addr, err)
	}

	// Providers returns copies: changing one must not change the table.
	ps := Providers()
	ps[0].HideFolders[0] = "changed"
	if g2, _ := LookupProvider(ps[0].Name); len(g2.HideFolders) > 0 && g2.HideFolders[0] == "changed" {
		t.Error("Providers() shares slices with the table")
	}
}

func TestLookupProvider(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"gmail", "gmail", true},
		{"Gmail", "gmail", true},
		{" google ", "gmail", true},
		{"office365", "outlook", true},
		{"microsoft365", "outlook", true},
		{"hotmail", "outlook", true},
		{"me", "icloud", true},
		{"aws", "workmail", true},
		{"nosuch", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, ok := LookupProvider(tt.in)
		if ok != tt.ok || p.Name != tt.want {
			t.Errorf("LookupProvider(%q) = %q, %v; want %q, %v", tt.in, p.Name, ok, tt.want, tt.ok)
		}
	}
	if n := len(ProviderNames()); n != len(Providers()) {
		t.Errorf("ProviderNames() has %d names for %d providers", n, len(Providers()))
	}
}

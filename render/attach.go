package render

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// cleanName makes a decoded file name safe to show and to use as the name
// of an embedded file: no directories, no control characters.
func cleanName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// extensions maps media types to a file name extension for unnamed parts.
// A fixed table, not mime.ExtensionsByType, whose answer depends on the
// machine's /etc/mime.types.
var extensions = map[string]string{
	"application/pdf":                 "pdf",
	"application/pkcs7-signature":     "p7s",
	"application/x-pkcs7-signature":   "p7s",
	"application/pkcs7-mime":          "p7m",
	"application/x-pkcs7-mime":        "p7m",
	"application/pgp-signature":       "asc",
	"application/pgp-encrypted":       "txt",
	"application/zip":                 "zip",
	"image/gif":                       "gif",
	"image/jpeg":                      "jpg",
	"image/png":                       "png",
	"image/webp":                      "webp",
	"message/rfc822":                  "eml",
	"text/calendar":                   "ics",
	"text/csv":                        "csv",
	"text/html":                       "html",
	"text/plain":                      "txt",
	"application/octet-stream":        "bin",
	"application/ms-tnef":             "dat",
	"application/vnd.ms-tnef":         "dat",
	"application/x-pkcs7-certificate": "p7c",
}

func defaultName(mt string, n int) string {
	switch mt {
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		return "smime.p7s"
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		return "smime.p7m"
	case "application/pgp-signature":
		return "signature.asc"
	case "text/calendar":
		return "invite.ics"
	}
	ext, ok := extensions[mt]
	if !ok {
		ext = "bin"
	}
	return fmt.Sprintf("part-%d.%s", n, ext)
}

// formatSize gives a byte count in a short human form.
func formatSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d bytes", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
}

// calendarSummary describes the first event of an iCalendar object in a few
// lines. Time zones are shown by name: render reads no tz database.
func calendarSummary(ics string) string {
	ics = strings.ReplaceAll(ics, "\r\n", "\n")
	ics = strings.NewReplacer("\n ", "", "\n\t", "").Replace(ics) // unfold
	method, fields, inEvent := "", map[string]string{}, false
	for _, line := range strings.Split(ics, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key, params, _ := strings.Cut(name, ";")
		key = strings.ToUpper(key)
		switch {
		case key == "METHOD":
			method = strings.ToUpper(value)
		case key == "BEGIN" && strings.EqualFold(value, "VEVENT"):
			inEvent = true
		case key == "END" && strings.EqualFold(value, "VEVENT"):
			inEvent = false
		case inEvent && fields[key] == "":
			if key == "DTSTART" || key == "DTEND" {
				value = icsTime(value, params)
			}
			fields[key] = icsUnescape(value)
		}
	}
	title := "Calendar invitation"
	switch method {
	case "CANCEL":
		title = "Calendar event cancelled"
	case "REPLY":
		title = "Calendar reply"
	case "PUBLISH":
		title = "Calendar event"
	}
	lines := []string{title + ": " + fields["SUMMARY"]}
	if s := fields["DTSTART"]; s != "" {
		if e := fields["DTEND"]; e != "" {
			// Same day: "Tue, 5 Mar 2024 10:00 – 11:00 (Europe/Berlin)".
			sd, st, _ := strings.Cut(s, " @ ")
			ed, et, _ := strings.Cut(e, " @ ")
			if sd == ed && st != "" {
				s, e = sd+" "+st, et
				if i := strings.Index(s, " ("); i >= 0 && strings.HasSuffix(e, s[i:]) {
					s = s[:i] // the zone once, after the end time
				}
			}
			s += " – " + e
		}
		lines = append(lines, "When: "+strings.ReplaceAll(s, " @ ", " "))
	}
	if s := fields["LOCATION"]; s != "" {
		lines = append(lines, "Where: "+s)
	}
	if s := fields["ORGANIZER"]; s != "" {
		lines = append(lines, "Organizer: "+strings.TrimPrefix(strings.TrimPrefix(s, "mailto:"), "MAILTO:"))
	}
	return strings.Join(lines, "\n")
}

func icsTime(v, params string) string {
	tz := ""
	for _, p := range strings.Split(params, ";") {
		if k, val, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "TZID") {
			tz = " (" + strings.Trim(val, `"`) + ")"
		}
	}
	if t, err := time.Parse("20060102T150405Z", v); err == nil {
		return t.Format("Mon, 2 Jan 2006 @ 15:04") + " (UTC)"
	}
	if t, err := time.Parse("20060102T150405", v); err == nil {
		return t.Format("Mon, 2 Jan 2006 @ 15:04") + tz
	}
	if t, err := time.Parse("20060102", v); err == nil {
		return t.Format("Mon, 2 Jan 2006")
	}
	return v
}

func icsUnescape(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\N`, "\n", `\,`, ",", `\;`, ";", `\\`, `\`).Replace(s)
}

// imageType sniffs the image formats that the HTML and PDF views can show
// in place: "png", "jpeg", "gif", "webp", or "".
func imageType(b []byte) string {
	switch {
	case len(b) > 8 && string(b[:8]) == "\x89PNG\r\n\x1a\n":
		return "png"
	case len(b) > 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff:
		return "jpeg"
	case len(b) > 6 && (string(b[:6]) == "GIF87a" || string(b[:6]) == "GIF89a"):
		return "gif"
	case len(b) > 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "webp"
	}
	return ""
}

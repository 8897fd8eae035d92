package sample

// inboxMessages are the INBOX: everyday mail, attachments, and the subjects
// and headers that are hard to turn into file names.
func inboxMessages() []Message {
	return []Message{
		// Plain UTF-8 text with a Q-encoded subject; answered.
		msg(folderInbox, "2023-11-06 08:14:52 +0100", answered, `Return-Path: <anna.becker@kanzlei-becker.example>
Received: from mx.kanzlei-becker.example (mx.kanzlei-becker.example [192.0.2.17])
	by mail.mailfs.example with ESMTPS id 4Sk2b1Qz9Fz1xq
	for <jonas.weber@mailfs.example>; Mon, 06 Nov 2023 08:14:52 +0100 (CET)
From: Anna Becker <anna.becker@kanzlei-becker.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: `+qWords("UTF-8", "Termin nächste Woche")+`
Date: Mon, 06 Nov 2023 08:14:31 +0100
Message-ID: <b7e1c0de-2f4a-4c1e-9d0b-2a6f1c9e8a01@kanzlei-becker.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Hallo Jonas,

passt dir Dienstag, der 14. November, um 10:30 Uhr für die Besprechung
zum Mietvertrag? Ich würde die Unterlagen vorab per Post schicken.

Falls es nicht klappt: Donnerstag ginge ab 15 Uhr auch.

Viele Grüße
Anna Becker

-- 
Kanzlei Becker · Lindenstraße 12 · 12345 Musterstadt
`),

		// Invoice with a small PDF attachment.
		msg(folderInbox, "2024-01-17 06:02:09 +0100", nil, `From: Stadtwerke Musterstadt <rechnung@stadtwerke.example>
To: jonas.weber@mailfs.example
Subject: Ihre Rechnung 2024-0117
Date: Wed, 17 Jan 2024 06:01:58 +0100
Message-ID: <20240117060158.8812.invoice@stadtwerke.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_sw_3f9a1c"

This is a multi-part message in MIME format.

--=_sw_3f9a1c
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`Sehr geehrter Herr Weber,

anbei erhalten Sie Ihre Rechnung für den Abrechnungszeitraum Dezember 2023.
Der Betrag von 73,18 € wird am 31.01.2024 von Ihrem Konto abgebucht.

Mit freundlichen Grüßen
Ihre Stadtwerke Musterstadt
`))+`
--=_sw_3f9a1c
Content-Type: application/pdf; name="Rechnung_2024-0117.pdf"
Content-Disposition: attachment; filename="Rechnung_2024-0117.pdf"
Content-Transfer-Encoding: base64

`+b64(pdf("Stadtwerke Musterstadt", "Rechnung 2024-0117", "Kunde: Jonas Weber",
			"Strom Dezember 2023: 61,50 EUR", "MwSt 19%: 11,68 EUR", "Summe: 73,18 EUR"))+`--=_sw_3f9a1c--
`),

		// multipart/alternative, text and HTML.
		msg(folderInbox, "2024-02-09 17:45:03 -0500", seen, `From: Priya Raman <priya@northwind.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Cc: Dev Team <dev@northwind.example>
Subject: Quarterly planning notes
Date: Fri, 9 Feb 2024 17:44:40 -0500
Message-ID: <CAF3k9Qp1x2yTn5Ld@mail.northwind.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6"

--000000000000a1b2c3d4e5f6
Content-Type: text/plain; charset="UTF-8"

Hi Jonas,

Notes from today's planning call:

1. Ship the read-only mount first; write support is out of scope for Q2.
2. Caching: bodies on disk, headers in memory. Revisit after benchmarks.
3. Next sync: Feb 23, same time.

Let me know if I missed anything.

Priya

--000000000000a1b2c3d4e5f6
Content-Type: text/html; charset="UTF-8"

<div dir="ltr"><p>Hi Jonas,</p><p>Notes from today's planning call:</p>
<ol><li>Ship the read-only mount first; write support is out of scope for Q2.</li>
<li>Caching: bodies on disk, headers in memory. Revisit after benchmarks.</li>
<li>Next sync: <b>Feb 23</b>, same time.</li></ol>
<p>Let me know if I missed anything.</p><p>Priya</p></div>

--000000000000a1b2c3d4e5f6--
`),

		// UTF-8 B-encoded subject with an emoji; image attachment.
		msg(folderInbox, "2024-03-02 21:13:37 +0100", nil, `From: =?UTF-8?Q?Lena_M=C3=BCller?= <lena.mueller@familie.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: `+bWords("UTF-8", "Fotos vom Wochenende 📷")+`
Date: Sat, 2 Mar 2024 21:13:20 +0100
Message-ID: <5d1e9a70-0c33-4b8e-a6a4-93b2d0f1c7e2@familie.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="------------lm0302"

This is a multi-part message in MIME format.
--------------lm0302
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Hi Jonas,

hier schon mal das erste Bild, der Rest kommt über die Cloud.
Der Sonnenaufgang am Samstag war unglaublich!

Lena
--------------lm0302
Content-Type: image/png; name="sonnenaufgang.png"
Content-Disposition: attachment; filename="sonnenaufgang.png"
Content-Transfer-Encoding: base64

`+b64(logoPNG)+`
--------------lm0302--
`),

		// Two messages with the same subject and the same INTERNALDATE
		// minute: file names must not collide.
		msg(folderInbox, "2024-05-02 14:03:11 +0200", nil, `From: CI <ci@builds.example>
To: jonas.weber@mailfs.example
Subject: [ci] Build failed: mailfs main (#4821)
Date: Thu, 02 May 2024 12:03:10 +0000
Message-ID: <build-4821-job-1@builds.example>
X-CI-Job: linux-amd64
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Build #4821 failed on job linux-amd64.

--- FAIL: TestReadLargeFile (3.02s)
    fs_test.go:212: read 5242880 bytes, want 5242881

Commit: 9c1f2e7 "fs: serve bodies from the cache"
Log: https://builds.example/mailfs/4821/linux-amd64
`),
		msg(folderInbox, "2024-05-02 14:03:48 +0200", nil, `From: CI <ci@builds.example>
To: jonas.weber@mailfs.example
Subject: [ci] Build failed: mailfs main (#4821)
Date: Thu, 02 May 2024 12:03:47 +0000
Message-ID: <build-4821-job-2@builds.example>
X-CI-Job: darwin-arm64
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Build #4821 failed on job darwin-arm64.

--- FAIL: TestMount (0.00s)
    mount_test.go:41: macFUSE not installed

Commit: 9c1f2e7 "fs: serve bodies from the cache"
Log: https://builds.example/mailfs/4821/darwin-arm64
`),

		// No Date header (scanners do this); small PDF attachment.
		msg(folderInbox, "2024-06-11 09:27:40 +0200", nil, `From: Scanner 3. OG <scanner@buero.example>
To: jonas.weber@mailfs.example
Subject: Scan 0042
Message-ID: <scan0042.1718090860@mfp-3og.buero.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="MFP_BOUNDARY_0042"

--MFP_BOUNDARY_0042
Content-Type: text/plain; charset=us-ascii

Scanned document attached.
Device: MFP-3OG, pages: 1, resolution: 300 dpi

--MFP_BOUNDARY_0042
Content-Type: application/pdf; name="scan0042.pdf"
Content-Disposition: attachment; filename="scan0042.pdf"
Content-Transfer-Encoding: base64

`+b64(pdf("Scan 0042", "MFP-3OG", "Page 1 of 1"))+`--MFP_BOUNDARY_0042--
`),

		// No Subject header.
		msg(folderInbox, "2024-06-20 18:31:02 +0000", nil, `From: Tom Okafor <tom@okafor.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Date: Thu, 20 Jun 2024 19:30:55 +0100
Message-ID: <20240620183055.GA1123@okafor.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

hey, are you coming tonight? we're at the usual place from 8.
bring the board game if you still have it.

tom
`),

		// A subject that is hostile to file names: leading "-", "/" and ":",
		// shell and terminal control characters, and > 300 bytes decoded.
		msg(folderInbox, "2024-07-04 23:59:59 -0400", flagged, `From: "Buchhaltung (automatisch)" <noreply@erp.example>
To: jonas.weber@mailfs.example
Subject: `+qWords("UTF-8", "-rf /: Belege 2023/2024 für die Steuererklärung: "+
			"Quittungen/Rechnungen/Kontoauszüge, Teil 1/3 \x07\x1b[31mDRINGEND\x1b[0m\t"+
			"(bitte bis 31.07. prüfen) | Projekt: ../../etc/passwd ; rm -rf * ; "+
			"\"Zitat\" <Klammern> 'einfach' `backtick` $HOME %s %n \\ Ende? "+
			"Nein: noch mehr Text, damit der Betreff garantiert länger als dreihundert "+
			"Bytes ist und jede Begrenzung der Dateinamenlänge auslöst.\x7f")+`
Date: Thu, 04 Jul 2024 23:59:58 -0400
Message-ID: <erp-export-2024-07-04-235958@erp.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Dieser Export wurde automatisch erstellt. Bitte nicht antworten.
`),

		// A subject that is only whitespace.
		msg(folderInbox, "2024-07-15 12:00:30 +0200", nil, "From: Marta Nowak <marta@nowak.example>\n"+
			"To: jonas.weber@mailfs.example\n"+
			"Subject:   \t \n"+
			"Date: Mon, 15 Jul 2024 12:00:21 +0200\n"+
			"Message-ID: <7a0c5b1e.5f2d@nowak.example>\n"+
			"MIME-Version: 1.0\n"+
			"Content-Type: text/plain; charset=UTF-8\n"+
			"\n"+
			"Sent from my phone. The link you asked for:\n"+
			"https://docs.example.org/fuse/caching\n"),

		// ISO-8859-1: Q-encoded subject, 8bit body.
		msg(folderInbox, "2024-08-21 10:05:44 +0200", nil, `From: =?ISO-8859-1?Q?J=FCrgen_Sch=F6n?= <bestellung@moebel-schoen.example>
To: "Weber, Jonas" <jonas.weber@mailfs.example>
Subject: `+qWords("ISO-8859-1", latin1("Rückfrage zu Ihrer Bestellung Nr. 55120"))+`
Date: Wed, 21 Aug 2024 10:05:12 +0200
Message-ID: <000001daf3a1$8e2c4b10$aa84e130$@moebel-schoen.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: 8bit
X-Mailer: Microsoft Outlook 16.0

`+latin1(`Sehr geehrter Herr Weber,

zu Ihrer Bestellung Nr. 55120 (Esstisch "Föhr", Eiche geölt, 180 × 90 cm)
haben wir eine Rückfrage: Wünschen Sie die Lieferung mit Aufbau (zzgl. 49,00 EUR)?

Bitte geben Sie uns bis Freitag Bescheid, dann können wir den Liefertermin
in KW 36 einplanen.

Mit freundlichen Grüßen
Jürgen Schön
Möbel Schön GmbH & Co. KG
`)),

		// Calendar invite: text/plain alternative to text/calendar.
		msg(folderInbox, "2024-09-03 08:40:17 -0700", nil, `From: Priya Raman <priya@northwind.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: Invitation: mailfs design review @ Tue Sep 10, 2024 10am - 11am (PDT)
Date: Tue, 03 Sep 2024 08:40:12 -0700
Message-ID: <invite-7c2e41@calendar.northwind.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="cal_9f8e7d6c"

--cal_9f8e7d6c
Content-Type: text/plain; charset=UTF-8

You have been invited to the following event.

mailfs design review
When: Tuesday Sep 10, 2024 10am - 11am (PDT)
Where: Room Ada / video call
Who: Priya Raman (organizer), Jonas Weber

Agenda: inode numbering, cache invalidation, naming of .eml files.

--cal_9f8e7d6c
Content-Type: text/calendar; charset=UTF-8; method=REQUEST
Content-Transfer-Encoding: 7bit

BEGIN:VCALENDAR
PRODID:-//Northwind//Calendar 2.3//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:REQUEST
BEGIN:VEVENT
DTSTART:20240910T170000Z
DTEND:20240910T180000Z
DTSTAMP:20240903T154012Z
ORGANIZER;CN=Priya Raman:mailto:priya@northwind.example
UID:7c2e41a0-6b7d-4e55-9a3e-0f1d2c3b4a59@northwind.example
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=
 TRUE;CN=Jonas Weber:mailto:jonas.weber@mailfs.example
CREATED:20240903T154012Z
DESCRIPTION:Agenda: inode numbering\, cache invalidation\, naming of .eml f
 iles.
LOCATION:Room Ada / video call
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:mailfs design review
TRANSP:OPAQUE
END:VEVENT
END:VCALENDAR

--cal_9f8e7d6c--
`),

		// A forward carrying the original as message/rfc822.
		msg(folderInbox, "2024-10-08 19:22:05 +0200", seen, `From: Jonas Weber <jonas.weber@mailfs.example>
To: Anna Becker <anna.becker@kanzlei-becker.example>
Subject: Fwd: Angebot Dachsanierung
Date: Tue, 8 Oct 2024 19:22:01 +0200
Message-ID: <9e2b7f40-fwd@mailfs.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd-b0a1"

--fwd-b0a1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Hallo Anna,

anbei das Angebot, über das wir gesprochen haben. Kannst du dir
Punkt 4 (Gewährleistung) ansehen?

Danke!
Jonas

--fwd-b0a1
Content-Type: message/rfc822
Content-Disposition: inline

From: Dachdeckerei Kaya <info@dach-kaya.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: Angebot Dachsanierung
Date: Mon, 7 Oct 2024 16:10:44 +0200
Message-ID: <angebot-2024-311@dach-kaya.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner-kaya-77"

--inner-kaya-77
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`Sehr geehrter Herr Weber,

wie besprochen unser Angebot Nr. 2024-311:

1. Gerüst stellen und abbauen: 1.850,00 €
2. Alte Eindeckung entfernen und entsorgen: 2.400,00 €
3. Neue Dachziegel inkl. Lattung: 9.760,00 €
4. Gewährleistung: 5 Jahre auf Material und Arbeit

Mit freundlichen Grüßen
Dachdeckerei Kaya
`))+`
--inner-kaya-77
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`<p>Sehr geehrter Herr Weber,</p>
<p>wie besprochen unser Angebot Nr. 2024-311:</p>
<table><tr><td>1. Gerüst stellen und abbauen</td><td>1.850,00 €</td></tr>
<tr><td>2. Alte Eindeckung entfernen und entsorgen</td><td>2.400,00 €</td></tr>
<tr><td>3. Neue Dachziegel inkl. Lattung</td><td>9.760,00 €</td></tr>
<tr><td>4. Gewährleistung</td><td>5 Jahre auf Material und Arbeit</td></tr></table>
<p>Mit freundlichen Grüßen<br>Dachdeckerei Kaya</p>
`))+`
--inner-kaya-77--

--fwd-b0a1--
`),

		// Deliberately malformed: the multipart body lacks its closing
		// boundary. See MalformedMessageID.
		msg(folderInbox, "2024-11-12 03:17:00 +0100", nil, `From: Musterbank Service <service@mailer.example.net>
To: jonas.weber@mailfs.example
Subject: Ihr Kontoauszug November
Date: Tue, 12 Nov 2024 03:16:59 +0100
Message-ID: `+MalformedMessageID+`
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="kto-nov-2024"

--kto-nov-2024
Content-Type: text/plain; charset=us-ascii

Ihr Kontoauszug fuer November steht im Online-Banking bereit.

--kto-nov-2024
Content-Type: text/plain; charset=us-ascii
Content-Disposition: attachment; filename="hinweise.txt"

Die Verbindung des Versandsystems wurde hier unterbrochen und der Rest
`),

		// HTML-heavy greeting, quoted-printable in both alternatives.
		msg(folderInbox, "2024-12-23 16:48:12 +0100", seen, `From: Oma Hilde <hilde.weber@familie.example>
To: Jonas Weber <jonas.weber@mailfs.example>, Lena =?UTF-8?Q?M=C3=BCller?= <lena.mueller@familie.example>
Subject: `+qWords("UTF-8", "Frohe Weihnachten! 🎄")+`
Date: Mon, 23 Dec 2024 16:48:02 +0100
Message-ID: <20241223164802.1f2e@familie.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="xmas-24"

--xmas-24
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`Ihr Lieben,

ich wünsche euch frohe Weihnachten und einen guten Rutsch ins neue Jahr!
Am 26. gibt es wie immer Gänsebraten um 13 Uhr.

Eure Oma
`))+`
--xmas-24
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`<html><body style="font-family: Georgia, serif; color: #8b0000">
<p>Ihr Lieben,</p>
<p>ich wünsche euch <b>frohe Weihnachten</b> und einen guten Rutsch ins neue Jahr!</p>
<p>Am 26. gibt es wie immer Gänsebraten um 13 Uhr.</p>
<p>Eure Oma</p>
</body></html>
`))+`
--xmas-24--
`),
	}
}

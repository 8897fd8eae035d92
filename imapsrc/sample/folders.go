package sample

import "strings"

// draftMessages are in "Entwürfe", a non-ASCII folder name.
func draftMessages() []Message {
	return []Message{
		msg(folderDrafts, "2024-09-27 22:05:13 +0200", draft, `From: Jonas Weber <jonas.weber@mailfs.example>
To: info@fitness-aktiv.example
Subject: `+qWords("UTF-8", "Kündigung Mitgliedschaft Nr. 10488")+`
Date: Fri, 27 Sep 2024 22:05:13 +0200
Message-ID: <d1a2f7e0-draft@mailfs.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
User-Agent: Mozilla Thunderbird

Sehr geehrte Damen und Herren,

hiermit kündige ich meine Mitgliedschaft Nr. 10488 fristgerecht zum
31.12.2024. Bitte bestätigen Sie mir die Kündigung schriftlich.

Mit freundlichen Grüßen
Jonas Weber
`),
		msg(folderDrafts, "2024-11-02 10:31:40 +0100", draft, `From: Jonas Weber <jonas.weber@mailfs.example>
To: Dachdeckerei Kaya <info@dach-kaya.example>
Subject: Re: Angebot Dachsanierung
Date: Sat, 2 Nov 2024 10:31:40 +0100
Message-ID: <d9c4e1b2-draft@mailfs.example>
In-Reply-To: <angebot-2024-311@dach-kaya.example>
References: <angebot-2024-311@dach-kaya.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Sehr geehrter Herr Kaya,

vielen Dank für das Angebot. Zu Punkt 3 hätte ich noch eine Frage:

`),
	}
}

// newsletterMessages are HTML mail: an inline cid: image in
// multipart/related, and an HTML-only quoted-printable message.
func newsletterMessages() []Message {
	return []Message{
		msg(folderNewsletters, "2024-03-05 07:00:04 +0000", nil, `From: Open Source Weekly <news@osweekly.example>
To: jonas.weber@mailfs.example
Subject: Open Source Weekly #212: FUSE, IMAP and the art of caching
Date: Tue, 05 Mar 2024 07:00:00 +0000
Message-ID: <osw-212.20240305070000@osweekly.example>
List-Id: Open Source Weekly <weekly.osweekly.example>
List-Unsubscribe: <https://osweekly.example/unsubscribe?u=8812f>, <mailto:unsubscribe@osweekly.example?subject=8812f>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
Precedence: bulk
MIME-Version: 1.0
Content-Type: multipart/related; type="multipart/alternative"; boundary="osw-rel-212"

--osw-rel-212
Content-Type: multipart/alternative; boundary="osw-alt-212"

--osw-alt-212
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 7bit

OPEN SOURCE WEEKLY #212

* FUSE in user space: why the kernel page cache is your friend
  https://osweekly.example/212/fuse-cache
* IMAP is older than you think, and still everywhere
  https://osweekly.example/212/imap
* Release notes: three libraries that learned to stream

Unsubscribe: https://osweekly.example/unsubscribe?u=8812f

--osw-alt-212
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Open Source Weekly #212</title></head>
<body style="margin:0;padding:0;background:#f4f4f4">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="600" style="background:#ffffff;font-family:Helvetica,Arial,sans-serif">
<tr><td style="padding:24px"><img src="cid:logo-212@osweekly.example" width="24" height="24" alt="OSW"> <b>Open Source Weekly #212</b></td></tr>
<tr><td style="padding:0 24px"><h2>FUSE in user space: why the kernel page cache is your friend</h2>
<p>Serving file content with FOPEN_KEEP_CACHE turns a slow network file system into a fast one &mdash; if you know when to invalidate. <a href="https://osweekly.example/212/fuse-cache">Read more &rarr;</a></p></td></tr>
<tr><td style="padding:0 24px"><h2>IMAP is older than you think, and still everywhere</h2>
<p>From RFC 1064 to IMAP4rev2: a short history. <a href="https://osweekly.example/212/imap">Read more &rarr;</a></p></td></tr>
<tr><td style="padding:24px;font-size:12px;color:#888">You receive this because you subscribed at osweekly.example. <a href="https://osweekly.example/unsubscribe?u=8812f">Unsubscribe</a></td></tr>
</table></td></tr></table>
</body></html>
`))+`
--osw-alt-212--

--osw-rel-212
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-ID: <logo-212@osweekly.example>
Content-Disposition: inline; filename="logo.png"

`+b64(logoPNG)+`--osw-rel-212--
`),
		msg(folderNewsletters, "2024-08-01 06:30:12 +0200", nil, `From: Bahn-Bonus <newsletter@bonus.bahn.example>
To: jonas.weber@mailfs.example
Subject: `+qWords("UTF-8", "Ihre Punkte im August – jetzt einlösen")+`
Date: Thu, 01 Aug 2024 06:30:00 +0200
Message-ID: <nl.2024-08.4f1a9b@bonus.bahn.example>
List-Unsubscribe: <https://bonus.bahn.example/abmelden?id=4f1a9b>
MIME-Version: 1.0
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(`<html><body style="font-family: sans-serif">
<h1>Hallo Jonas Weber,</h1>
<p>Sie haben aktuell <strong>1.240 Bonuspunkte</strong>. Davon verfallen 300 Punkte am 31.08.2024.</p>
<p>Jetzt einlösen: Freifahrt 2. Klasse ab 1.000 Punkten, Upgrade in die 1. Klasse ab 500 Punkten.</p>
<p style="font-size: 11px; color: #777">Sie möchten keine Newsletter mehr erhalten? <a href="https://bonus.bahn.example/abmelden?id=4f1a9b">Abmelden</a></p>
</body></html>
`))),
	}
}

// projectMessages are in "Projekte 🚀", a folder name outside the BMP.
func projectMessages() []Message {
	return []Message{
		msg(folderProjects, "2024-02-20 13:37:00 +0100", nil, `From: Jonas Weber <jonas.weber@mailfs.example>
To: Priya Raman <priya@northwind.example>
Subject: `+bWords("UTF-8", "Launch-Checkliste 🚀")+`
Date: Tue, 20 Feb 2024 13:36:52 +0100
Message-ID: <launch-checklist-1@mailfs.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Hi Priya,

Entwurf der Checkliste für den Launch:

✅ Mount read-only, alle Ordner sichtbar
✅ Große Anhänge (> 50 MB) streamen
⬜ Umlaute und Emoji in Ordnernamen 📁
⬜ Verhalten bei UIDVALIDITY-Wechsel
⬜ Doku: „Wie mounte ich mein Postfach?“

Ergänzungen?

Jonas
`),
		msg(folderProjects, "2024-05-14 09:03:26 +0100", seen, `From: Priya Raman <priya@northwind.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: `+bWords("UTF-8", "Re: Launch-Checkliste 🚀")+`
Date: Tue, 14 May 2024 04:03:20 -0400
Message-ID: <CAF3k9Qp-re-launch@mail.northwind.example>
In-Reply-To: <launch-checklist-1@mailfs.example>
References: <launch-checklist-1@mailfs.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Looks good! One more: what happens when two mails have the same subject
and arrive in the same minute? Both need distinct file names.

> ⬜ Umlaute und Emoji in Ordnernamen 📁

Tested with 日本語 and "R&D", both fine on my side.

Priya
`),
	}
}

// rndMessages are in "R&D", whose modified UTF-7 form is "R&-D".
func rndMessages() []Message {
	csv := strings.Join([]string{
		"run,mode,file_mb,cold_ms,warm_ms",
		"1,no-cache,5,412,398",
		"2,keep-cache,5,405,3",
		"3,no-cache,50,3911,3870",
		"4,keep-cache,50,3894,21",
		"",
	}, "\n")
	return []Message{
		msg(folderRnD, "2023-12-01 10:00:00 +0000", nil, `From: Stefan Roth <s.roth@it-roth.example>
To: rnd@northwind.example
Cc: Jonas Weber <jonas.weber@mailfs.example>
Subject: R&D budget 2024 & headcount
Date: Fri, 1 Dec 2023 09:59:41 +0000
Message-ID: <rnd-budget-2024@it-roth.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

All,

the R&D budget for 2024 is approved at last year's level plus 5%.
Headcount: two new positions (storage, networking), hiring starts in January.

Questions -> me or finance@northwind.example.

Stefan
`),
		// Attachment whose file name is RFC 2231-encoded.
		msg(folderRnD, "2024-04-02 15:51:09 +0200", nil, `From: Jonas Weber <jonas.weber@mailfs.example>
To: rnd@northwind.example
Subject: Benchmark: FUSE read path (no-cache vs. keep-cache)
Date: Tue, 2 Apr 2024 15:51:02 +0200
Message-ID: <bench-fuse-read-0402@mailfs.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="------------bench0402"

--------------bench0402
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

Hi,

Ergebnisse vom März im Anhang. Kurz: mit FOPEN_KEEP_CACHE ist der zweite
Lesezugriff ~100× schneller, der erste unverändert.

Jonas
--------------bench0402
Content-Type: text/csv; charset=UTF-8;
 name="=?UTF-8?Q?Messergebnisse_M=C3=A4rz=2Ecsv?="
Content-Disposition: attachment;
 filename*=UTF-8''Messergebnisse%20M%C3%A4rz.csv
Content-Transfer-Encoding: base64

`+b64([]byte(strings.ReplaceAll(csv, "\n", "\r\n")))+`
--------------bench0402--
`),
	}
}

// japaneseMessages are in "日本語": an ISO-2022-JP message as older
// Japanese mailers send it, and a UTF-8 one.
func japaneseMessages() []Message {
	return []Message{
		msg(folderJapanese, "2024-06-06 17:45:21 +0900", nil, `From: =?ISO-2022-JP?B?`+b64word(iso2022jp("本田 健"))+`?= <honda@kaisha.example>
To: =?ISO-2022-JP?B?`+b64word(iso2022jp("山田"))+`?= <yamada@kaisha.example>
Cc: jonas.weber@mailfs.example
Subject: =?ISO-2022-JP?B?`+b64word(iso2022jp("次回会議の場所変更について"))+`?=
Date: Thu, 06 Jun 2024 17:45:10 +0900
Message-ID: <20240606174510.A12F.HONDA@kaisha.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

`+iso2022jp(`山田様

おつかれさまです。本田です。

次回の会議（6月13日 14:00から）の場所が変更になりました。
変更前：3階 第2会議室
変更後：5階 大会議室

資料は先週お送りしたものをご確認ください。
参加者が増えたため、広い部屋にしました。

よろしくお願いいたします。

本田 健
`)),
		msg(folderJapanese, "2024-10-21 09:00:00 +0900", seen, `From: =?UTF-8?B?`+b64word("システム管理者")+`?= <admin@kaisha.example>
To: all@kaisha.example
Subject: `+bWords("UTF-8", "【重要】サーバー移行のお知らせ（10月26日）")+`
Date: Mon, 21 Oct 2024 09:00:00 +0900
Message-ID: <notice-migration-1026@kaisha.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: base64

`+b64([]byte(strings.ReplaceAll(`各位

10月26日（土）9:00〜18:00 にメールサーバーの移行作業を行います。
作業中はメールの送受信ができません。

移行後は、IMAP サーバー名が mail.kaisha.example に変わります。
設定の変更方法は社内ポータルをご覧ください。

システム管理者
`, "\n", "\r\n")))),
	}
}

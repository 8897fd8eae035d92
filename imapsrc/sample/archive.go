package sample

// archiveMessages fill "Archiv/2023" and "Archiv/2024"; their parent
// "Archiv" stays empty. Here live the legacy 8-bit charsets.
func archiveMessages() []Message {
	return []Message{
		// A reply in a thread, plain ASCII.
		msg(folderArchive2023, "2023-02-14 11:02:19 +0100", seen, `From: Stefan Roth <s.roth@it-roth.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: Re: Umzug Serverraum
Date: Tue, 14 Feb 2023 11:02:11 +0100
Message-ID: <Y+tN3Qx7r1@it-roth.example>
In-Reply-To: <8f1e2d3c-umzug@mailfs.example>
References: <8f1e2d3c-umzug@mailfs.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Hallo Jonas,

> Koennen wir den Umzug auf das Wochenende 25./26. Februar legen?

Ja, das passt. Ich bringe zwei Rollwagen und das Patchpanel mit.
Die USV sollten wir am Freitag vorher schon abschalten.

Gruss
Stefan
`),

		// Shop notification, text and HTML.
		msg(folderArchive2023, "2023-07-30 14:25:51 +0530", seen, `From: Gadget Shop <orders@gadgetshop.example>
To: jonas.weber@mailfs.example
Subject: Your order #A-29913 has shipped
Date: Sun, 30 Jul 2023 08:55:49 +0000
Message-ID: <order-A-29913-shipped@gadgetshop.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="gs-29913"

--gs-29913
Content-Type: text/plain; charset=utf-8

Good news! Your order #A-29913 is on its way.

  1 x USB-C hub, 7 ports
  1 x Cable, 2 m

Tracking number: 00340434161234567890

--gs-29913
Content-Type: text/html; charset=utf-8

<html><body><h1>Good news!</h1><p>Your order <b>#A-29913</b> is on its way.</p>
<ul><li>1 &times; USB-C hub, 7 ports</li><li>1 &times; Cable, 2 m</li></ul>
<p>Tracking number: <code>00340434161234567890</code></p></body></html>

--gs-29913--
`),

		// Russian: KOI8-R subject (B) and 8-bit KOI8-R body.
		msg(folderArchive2024, "2024-01-29 22:41:30 +0300", seen, `From: =?KOI8-R?B?`+b64word(koi8r("Дмитрий Соколов"))+`?= <d.sokolov@pochta.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: `+bWords("KOI8-R", koi8r("Отчёт о поездке в Казань"))+`
Date: Mon, 29 Jan 2024 22:41:07 +0300
Message-ID: <1706557267.371829@pochta.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=koi8-r
Content-Transfer-Encoding: 8bit

`+koi8r(`Здравствуйте, Йонас!

Отправляю краткий отчёт о поездке в Казань.

Встреча с партнёрами прошла хорошо. Они готовы начать пилотный проект
в марте. Следующий шаг: подписать договор и согласовать сроки.

Билеты и гостиница: 38 400 рублей, чеки передам в бухгалтерию.

С уважением,
Дмитрий
`)),

		// German in ISO-8859-15 (with the euro sign), quoted-printable.
		msg(folderArchive2024, "2024-04-18 09:12:44 +0200", seen, `From: Hausverwaltung Sonnenhof <verwaltung@sonnenhof.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: `+qWords("ISO-8859-15", latin9("Nebenkostenabrechnung 2023: Nachzahlung über 84,50 €"))+`
Date: Thu, 18 Apr 2024 09:12:30 +0200
Message-ID: <nk2023-whg7-0418@sonnenhof.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-15
Content-Transfer-Encoding: quoted-printable

`+qp([]byte(latin9(`Sehr geehrter Herr Weber,

anbei die Nebenkostenabrechnung für das Jahr 2023 (Wohnung 7, 2. OG).

Heizkosten:        1.112,40 €
Wasser/Abwasser:     318,75 €
Müllabfuhr:          142,20 €
Hausreinigung:       201,15 €
Summe:             1.774,50 €
Vorauszahlungen:   1.690,00 €
Nachzahlung:          84,50 €

Bitte überweisen Sie den Betrag bis zum 31. Mai 2024. Die monatliche
Vorauszahlung bleibt unverändert.

Mit freundlichen Grüßen
Hausverwaltung Sonnenhof
`)))+`
`),

		// Plain English reply, US time zone.
		msg(folderArchive2024, "2024-06-30 16:20:00 -0500", nil, `From: Travel Desk <travel@northwind.example>
To: Jonas Weber <jonas.weber@mailfs.example>
Subject: Re: Conference travel reimbursement
Date: Sun, 30 Jun 2024 16:19:52 -0500
Message-ID: <tr-88123-reply@northwind.example>
In-Reply-To: <c0nf-travel-jw@mailfs.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hi Jonas,

your reimbursement request TR-88123 (GopherCon EU, 3 nights) was approved.
The amount will be paid with the July payroll.

Travel Desk
`),
	}
}

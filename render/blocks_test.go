package render

import (
	"strings"
	"testing"
)

// viewLog records what showMessage asks a view to show.
type viewLog struct{ calls []string }

func (v *viewLog) headerBlock(h header) { v.calls = append(v.calls, "header "+h.Subject) }
func (v *viewLog) blocks(bs []block) {
	text := ""
	for _, b := range bs {
		for _, s := range b.spans {
			text += s.text
		}
	}
	v.calls = append(v.calls, "blocks "+text[:min(len(text), 12)])
}
func (v *viewLog) note(s string)             { v.calls = append(v.calls, "note "+s) }
func (v *viewLog) inlineImage(a *attachment) { v.calls = append(v.calls, "image "+a.name) }
func (v *viewLog) nested(m *message)         { v.calls = append(v.calls, "nested "+m.hdr.Subject) }
func (v *viewLog) attachmentList(a []*attachment) {
	var names []string
	for _, x := range a {
		names = append(names, x.name)
	}
	v.calls = append(v.calls, "list "+strings.Join(names, " "))
}

// The PDF and the DOCX walk a message the same way: header, the HTML
// alternative, inline images and attached messages in place, parts cut
// at maxBodyText with a note, then the attachments.
func TestShowMessage(t *testing.T) {
	big := strings.Repeat("long text ", maxBodyText/10+100)
	raw := "Subject: walk\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n" +
		"--A\r\nContent-Type: text/plain\r\n\r\nplain version\r\n" +
		"--A\r\nContent-Type: text/html\r\n\r\n<p>html version</p>\r\n--A--\r\n" +
		"--B\r\nContent-Type: image/png; name=a.png\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\r\n" +
		"--B\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner text\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\n" + big + "\r\n" +
		"--B\r\nContent-Type: application/pdf; name=x.pdf\r\nContent-Disposition: attachment\r\n\r\n%PDF\r\n--B--\r\n"
	v := &viewLog{}
	showMessage(v, parse([]byte(raw)), "right here")
	want := []string{"header walk", "blocks html version", "image a.png", "nested inner", "blocks long text lo",
		"note The text above is cut short here; the complete message is right here.", "list a.png x.pdf"}
	if got, w := strings.Join(v.calls, "\n"), strings.Join(want, "\n"); got != w {
		t.Errorf("calls:\n%s\nwant:\n%s", got, w)
	}
}

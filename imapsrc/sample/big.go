package sample

import (
	"encoding/binary"
	"fmt"
)

// Big returns an INBOX message of about size bytes (within a few bytes once
// size exceeds the ~700 bytes of headers): a short text part and a binary
// attachment of pseudo-random bytes, base64-encoded. The content depends only
// on size, so every call returns the same bytes. It is not part of Messages;
// large-file tests append it themselves.
func Big(size int) Message {
	head := fmt.Sprintf(`From: Backup Robot <backup@nas.example>
To: jonas.weber@mailfs.example
Subject: Nightly backup blob (%[1]d bytes)
Date: Mon, 30 Dec 2024 02:00:00 +0100
Message-ID: <blob-%[1]d@nas.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="blob-boundary-%[1]d"

--blob-boundary-%[1]d
Content-Type: text/plain; charset=us-ascii

The attached file is a test blob of pseudo-random bytes.

--blob-boundary-%[1]d
Content-Type: application/octet-stream; name="blob-%[1]d.bin"
Content-Disposition: attachment; filename="blob-%[1]d.bin"
Content-Transfer-Encoding: base64

`, size)
	tail := fmt.Sprintf("--blob-boundary-%d--\n", size)
	overhead := len(crlf(head)) + len(crlf(tail))

	data := pseudoRandom(attachmentLen(size - overhead))
	return msg(folderInbox, "2024-12-30 02:00:07 +0100", nil, head, b64(data), tail)
}

// attachmentLen returns how many bytes encode to at most avail bytes of
// base64 in 76-character CRLF lines (57 bytes per 78-byte line).
func attachmentLen(avail int) int {
	if avail <= 0 {
		return 0
	}
	n := avail / 78 * 57
	if rem := avail % 78; rem > 2 {
		n += (rem - 2) / 4 * 3
	}
	return n
}

// pseudoRandom returns n bytes from splitmix64 with a fixed seed: stable
// across runs, platforms and Go versions, and incompressible enough that a
// cache cannot cheat.
func pseudoRandom(n int) []byte {
	b := make([]byte, (n+7)/8*8)
	x := uint64(0x6d61696c6673) // "mailfs"
	for i := 0; i < len(b); i += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(b[i:], z^(z>>31))
	}
	return b[:n]
}

package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSRGBProfile has Little CMS (transicc, a reader we did not write)
// convert colours from the generated profile to its own built-in sRGB: it
// must accept the profile, and the colours must come out as they went in.
func TestSRGBProfile(t *testing.T) {
	p := srgbICC()
	if len(p)%4 != 0 || string(p[36:40]) != "acsp" {
		t.Fatalf("not an ICC profile: %d bytes, signature %q", len(p), p[36:40])
	}
	checkICC(t, p)
}

func checkICC(t *testing.T, p []byte) {
	t.Helper()
	tool(t, "transicc")
	f := filepath.Join(t.TempDir(), "srgb.icc")
	if err := os.WriteFile(f, p, 0o644); err != nil {
		t.Fatal(err)
	}
	colours := [][3]float64{{0, 0, 0}, {255, 255, 255}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128}, {10, 200, 90}, {250, 128, 3}}
	var in strings.Builder
	for _, c := range colours {
		in.WriteString(strconv.FormatFloat(c[0], 'f', 0, 64) + " " + strconv.FormatFloat(c[1], 'f', 0, 64) + " " + strconv.FormatFloat(c[2], 'f', 0, 64) + "\n")
	}
	cmd := exec.Command("transicc", "-n", "-t1", "-i"+f, "-o*sRGB")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("transicc rejects the profile: %v", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 3*len(colours) {
		t.Fatalf("transicc output:\n%s", out)
	}
	for i, c := range colours {
		for k := 0; k < 3; k++ {
			got, err := strconv.ParseFloat(lines[3*i+k], 64)
			if err != nil || got < c[k]-1.5 || got > c[k]+1.5 {
				t.Errorf("%v through the profile came out as %v", c, lines[3*i:3*i+3])
				break
			}
		}
	}
}

package photo_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image/png"
	"testing"

	"github.com/difronte/difronte/node/photo"
	"github.com/difronte/difronte/node/photo/phototest"
)

func TestCheck(t *testing.T) {
	// A PNG whose header claims a canvas far larger than MaxSide.
	huge := phototest.PNG(2, 2)
	copy(huge[16:24], []byte{0, 0, 0x40, 0, 0, 0, 0x40, 0}) // IHDR width, height 16384
	binary.BigEndian.PutUint32(huge[29:33], crc32.ChecksumIEEE(huge[12:29]))
	// A JPEG with bytes after its end, as a polyglot would carry.
	tail := append(phototest.JPEG(16, 16), []byte("<script>alert(1)</script>")...)
	for _, c := range []struct {
		name string
		b    []byte
		max  int
		want error
		typ  string
	}{
		{"png", phototest.PNG(40, 30), 1 << 20, nil, "image/png"},
		{"jpeg", phototest.JPEG(40, 30), 1 << 20, nil, "image/jpeg"},
		{"jpeg with a tail", tail, 1 << 20, nil, "image/jpeg"},
		{"empty", nil, 1 << 20, photo.ErrMissing, ""},
		{"text", []byte("<svg xmlns='http://www.w3.org/2000/svg'/>"), 1 << 20, photo.ErrType, ""},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 1 << 20, photo.ErrType, ""},
		{"cut png", phototest.PNG(40, 30)[:40], 1 << 20, photo.ErrType, ""},
		{"too many bytes", phototest.PNG(40, 30), 50, photo.ErrSize, ""},
		{"too many pixels", huge, 1 << 20, photo.ErrPixels, ""},
	} {
		p, err := photo.Check(c.b, c.max)
		if !errors.Is(err, c.want) || (err == nil && p.Type != c.typ) {
			t.Errorf("%s: %v %q, want %v %q", c.name, err, p.Type, c.want, c.typ)
		}
		if err == nil && (p.W != 40 && p.W != 16 || bytes.Contains(p.Bytes, []byte("<script>"))) {
			t.Errorf("%s: encoded again %dx%d, tail kept %v", c.name, p.W, p.H, bytes.Contains(p.Bytes, []byte("<script>")))
		}
	}
	p, _ := photo.Check(phototest.PNG(3, 5), 1<<20)
	if img, err := png.Decode(bytes.NewReader(p.Bytes)); err != nil || img.Bounds().Dx() != 3 || img.Bounds().Dy() != 5 {
		t.Fatalf("re-encoded png: %v", err)
	}
}

func TestFromDataURL(t *testing.T) {
	url := func(ct string, b []byte) string {
		return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(b)
	}
	for _, c := range []struct {
		name, u string
		want    error
	}{
		{"png", url("image/png", phototest.PNG(4, 4)), nil},
		{"jpeg named png", url("image/png", phototest.JPEG(4, 4)), photo.ErrType},
		{"script named jpeg", url("image/jpeg", []byte("<script>alert(1)</script>")), photo.ErrType},
		{"link", "http://x", photo.ErrType},
		{"not base64", "data:image/png;base64,%%%", photo.ErrType},
	} {
		if err := photo.FromDataURL(c.u, 1<<20); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if err := photo.FromDataURL(url("image/png", phototest.PNG(4, 4)), 10); !errors.Is(err, photo.ErrSize) {
		t.Errorf("long url: %v", err)
	}
}

// FuzzCheck: whatever bytes come in, Check returns a photo that decodes,
// or a refusal; it never panics.
func FuzzCheck(f *testing.F) {
	f.Add(phototest.PNG(3, 3))
	f.Add(phototest.JPEG(3, 3))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := photo.Check(b, 1<<20)
		if err == nil {
			if _, err := photo.Check(p.Bytes, 4<<20); err != nil {
				t.Fatalf("a checked photo does not check again: %v", err)
			}
		}
	})
}

package photo

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
)

// Types are the accepted content types.
var Types = []string{"image/jpeg", "image/png"}

// Refusal reasons, also the field error codes the pages translate.
var (
	ErrType    = errors.New("bad_photo")       // not a JPEG or PNG, or broken
	ErrSize    = errors.New("photo_too_large") // more bytes than allowed
	ErrPixels  = errors.New("photo_too_big")   // more pixels than allowed
	ErrMissing = errors.New("no_photo")
)

// MaxSide is the longest side in pixels a photo may have: a phone's
// 12-megapixel photo is refused rather than decoded (a small file can
// claim a huge canvas; DecodeConfig reads the claim first).
const MaxSide = 4096

// Photo is a checked picture.
type Photo struct {
	Type  string // image/jpeg or image/png
	Bytes []byte
	W, H  int
}

// Sniff returns the type of b if it is one of Types, read from its bytes.
func Sniff(b []byte) (string, bool) {
	ct := http.DetectContentType(b)
	return ct, ct == "image/jpeg" || ct == "image/png"
}

// Check reads b as a JPEG or PNG of at most max bytes and MaxSide pixels a
// side, and returns it encoded again (pixels only).
func Check(b []byte, max int) (Photo, error) {
	if len(b) == 0 {
		return Photo{}, ErrMissing
	}
	if len(b) > max {
		return Photo{}, ErrSize
	}
	ct, ok := Sniff(b)
	if !ok {
		return Photo{}, ErrType
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Photo{}, ErrType
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide {
		return Photo{}, ErrPixels
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Photo{}, ErrType
	}
	var out bytes.Buffer
	if ct == "image/png" {
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 85})
	}
	if err != nil {
		return Photo{}, ErrType
	}
	return Photo{Type: ct, Bytes: out.Bytes(), W: cfg.Width, H: cfg.Height}, nil
}

// DataURL is the photo as a data: URL.
func (p Photo) DataURL() string {
	return "data:" + p.Type + ";base64," + base64.StdEncoding.EncodeToString(p.Bytes)
}

// FromDataURL reads a data: URL of a JPEG or PNG of at most max bytes
// (the URL's length) whose bytes are what its type says, and checks the
// picture as Check does (without encoding it again: the URL is kept as
// given).
func FromDataURL(u string, max int) error {
	if len(u) > max {
		return ErrSize
	}
	for _, ct := range Types {
		if b64, ok := strings.CutPrefix(u, "data:"+ct+";base64,"); ok {
			b, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return ErrType
			}
			if got, _ := Sniff(b); got != ct {
				return ErrType
			}
			cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
			if err != nil {
				return ErrType
			}
			if cfg.Width > MaxSide || cfg.Height > MaxSide {
				return ErrPixels
			}
			return nil
		}
	}
	return ErrType
}

// Package photo checks the pictures people upload (a terminal's intake
// photo in the workshop, a caregiver's portrait): JPEG or PNG only, the
// type read from the bytes and never from a name or a header, a size and
// a pixel limit, and the whole image decoded and encoded again so that
// nothing but pixels is kept (no EXIF, no GPS position, no trailing data).
// Domains import it; it imports only the standard library.
package photo

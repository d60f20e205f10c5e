package backup

// StopAfter returns o with Restore told to stop after step ("staged": the
// node loaded and checked in its staging directory; "moved": part of it
// moved into place), leaving everything as a crash at that point would.
func StopAfter(o Options, step string) Options {
	o.stop = step
	return o
}

package calls

// The zone database travels in the binary: an old refurbished server or a
// minimal container may have no /usr/share/zoneinfo, and a schedule in the
// wrong zone calls a 90-year-old at the wrong hour.
import _ "time/tzdata"

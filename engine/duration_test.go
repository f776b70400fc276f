package engine_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/itilflow/itilflow/engine"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"90s", 90 * time.Second, false},
		{"15m", 15 * time.Minute, false},
		{"4h", 4 * time.Hour, false},
		{"3d", 72 * time.Hour, false},
		{"1w", 168 * time.Hour, false},
		{"1h30m", 90 * time.Minute, false},
		{"", 0, true},
		{"0s", 0, true},
		{"4", 0, true},
		{"h", 0, true},
		{"4x", 0, true},
		{"-4h", 0, true},
		{"1.5h", 0, true},
		{"99999999999999999999d", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := engine.ParseDuration(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("ParseDuration(%q) error = %v, want error %v", tc.in, err, tc.err)
			}
			if time.Duration(got) != tc.want {
				t.Fatalf("ParseDuration(%q) = %v, want %v", tc.in, time.Duration(got), tc.want)
			}
		})
	}
}

func TestDurationJSONRoundTrip(t *testing.T) {
	for _, s := range []string{"90s", "15m", "4h", "3d", "1w", "1h30m", "1d4h"} {
		d, err := engine.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := d.MarshalJSON()
		var back engine.Duration
		if err := back.UnmarshalJSON(b); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if back != d {
			t.Fatalf("%s round-tripped to %v", s, back)
		}
	}
}

// Clocks count real instants, so durations of a day or more with a sub-second
// part reach JSON (workflow payloads, the projection): they must read back.
func TestDurationJSONRoundTripBeyondADay(t *testing.T) {
	for _, d := range []time.Duration{
		24*time.Hour + time.Nanosecond,
		56*time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond,
		8*24*time.Hour + time.Millisecond + 1500*time.Nanosecond,
		999 * time.Millisecond,
		3 * time.Hour,
	} {
		b, err := json.Marshal(engine.Duration(d))
		if err != nil {
			t.Fatal(err)
		}
		var got engine.Duration
		if err := json.Unmarshal(b, &got); err != nil || time.Duration(got) != d {
			t.Errorf("%v → %s → %v, %v", d, b, time.Duration(got), err)
		}
	}
}

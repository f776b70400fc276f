package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestReportSaysWhatHappens(t *testing.T) {
	stream := `{"Action":"start","Package":"m/engine"}
{"Action":"run","Package":"m/engine","Test":"TestSlow"}
{"Action":"output","Package":"m/engine","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"pass","Package":"m/engine","Test":"TestSlow","Elapsed":2.5}
{"Action":"pass","Package":"m/engine","Elapsed":2.7}
{"Action":"run","Package":"m/api","Test":"TestBroken"}
{"Action":"output","Package":"m/api","Test":"TestBroken","Output":"    api_test.go:9: status 500, want 200\n"}
{"Action":"fail","Package":"m/api","Test":"TestBroken","Elapsed":0.1}
{"Action":"fail","Package":"m/api","Elapsed":0.3}
{"ImportPath":"m/store [m/store.test]","Action":"build-output","Output":"store/x_test.go:3:1: syntax error\n"}
{"ImportPath":"m/store [m/store.test]","Action":"build-fail"}
{"Action":"fail","Package":"m/store","Elapsed":0,"FailedBuild":"m/store [m/store.test]"}
{"Action":"skip","Package":"m/cmd/tool"}
`
	var out bytes.Buffer
	r := newReport(&out, "m", false)
	for _, line := range strings.Split(strings.TrimSpace(stream), "\n") {
		r.line(line, time.Now())
	}
	if r.summary(time.Now()) {
		t.Error("a failed run reported as passed")
	}
	got := out.String()
	for _, want := range []string{
		"ok    ./engine                         2.7s   (slowest: TestSlow 2.5s)\n",
		"--- FAIL ./api TestBroken (0.1s)\n    api_test.go:9: status 500, want 200\n",
		"FAIL  ./api                            0.3s\n",
		"BUILD FAILED ./store [m/store.test]\nstore/x_test.go:3:1: syntax error\n",
		"tests: 2 package(s) FAILED (./api, ./store), 1 passed, in 0s\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestReportSaysWhatStillRuns(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out, "m", false)
	now := time.Now()
	r.stillRunning(now.Add(31*time.Second), 30*time.Second)
	if got := out.String(); !strings.Contains(got, "31s in: compiling test binaries") {
		t.Fatalf("before any package started: %q", got)
	}
	out.Reset()
	r.lastDone = now
	r.line(`{"Action":"run","Package":"m/cmd/itilflow","Test":"TestDev"}`, now)
	r.line(`{"Action":"run","Package":"m/cmd/itilflow","Test":"TestDev/Sub"}`, now)
	r.stillRunning(now.Add(10*time.Second), 30*time.Second)
	if out.Len() > 0 {
		t.Fatalf("spoke before it was quiet for long: %s", out.String())
	}
	r.stillRunning(now.Add(45*time.Second), 30*time.Second)
	if got := out.String(); !strings.Contains(got, "still running ./cmd/itilflow (TestDev 45s)") {
		t.Fatalf("got %q", got)
	}
}

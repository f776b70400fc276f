package engine_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/itilflow/itilflow/engine"
)

const labelled = `name: lab
title: Lab
input:
  title: {type: string}
initial: open
states:
  open:
    actions:
      close: {to: closed, input: {reason: {type: text}}}
  closed: {final: true}
slas:
  response: {target: 1h, stop_on_leave: [open]}
labels:
  zh-Hans:
    title: 实验
    states: {open: 处理中, closed: 已关闭}
    actions: {close: 关闭}
    fields: {title: 标题, reason: 原因}
    slas: {response: 响应}
  en:
    states: {open: Open}
`

func TestLabelsNameWhatTheDefinitionHas(t *testing.T) {
	def, err := engine.Compile([]byte(labelled), engine.Env{})
	if err != nil {
		t.Fatal(err)
	}
	zh := def.LabelsFor(language.MustParse("zh-CN"))
	if zh == nil || zh.Title != "实验" || zh.Text(engine.LabelState, "closed") != "已关闭" || zh.Text(engine.LabelField, "reason") != "原因" {
		t.Fatalf("labels for a reader of zh-CN: %+v", zh)
	}
	en := def.LabelsFor(language.BritishEnglish)
	if en == nil || en.Text(engine.LabelState, "open") != "Open" || en.Text(engine.LabelState, "closed") != "" || en.Title != "" {
		t.Fatalf("labels for a reader of en-GB: %+v", en)
	}
	if got := def.LabelsFor(language.French); got != nil && got.Lang != "en" && got.Lang != "zh-Hans" {
		t.Fatalf("labels for French: %+v", got)
	}
	// A published version's labels come back from its source.
	from, err := engine.ParseLabels([]byte(labelled))
	if err != nil || len(from) != 2 || from[0].Lang != "zh-Hans" || from[0].Text(engine.LabelAction, "close") != "关闭" {
		t.Fatalf("ParseLabels: %+v %v", from, err)
	}

	for _, c := range []struct{ change, want string }{
		{"states: {open: 处理中, closed: 已关闭}", "labels.zh-Hans.states.closd"},
		{"actions: {close: 关闭}", "labels.zh-Hans.actions.shut"},
		{"slas: {response: 响应}", "labels.zh-Hans.slas.resolution"},
		{"zh-Hans:", "labels.zz-!!"},
	} {
		bad := strings.Replace(labelled, c.change, map[string]string{
			"states: {open: 处理中, closed: 已关闭}": "states: {open: 处理中, closd: 已关闭}",
			"actions: {close: 关闭}":             "actions: {shut: 关闭}",
			"slas: {response: 响应}":             "slas: {resolution: 解决}",
			"zh-Hans:":                         "zz-!!:",
		}[c.change], 1)
		_, err := engine.Compile([]byte(bad), engine.Env{})
		var e *engine.Error
		if !errors.As(err, &e) || len(e.Details) != 1 || e.Details[0].Field != c.want || e.Details[0].Line < 13 {
			t.Errorf("%s: %v, want one problem at %s, placed at its line", c.change, err, c.want)
		}
	}
}

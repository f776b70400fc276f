package engine

import (
	"fmt"
	"strings"
)

// Mermaid draws the definition as a Mermaid state diagram: actions (with the
// roles that may take them), timers as dashed-style labelled transitions, and the
// SLA clocks each state starts, pauses or stops.
func Mermaid(def *Definition) string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	if def.Title != "" {
		fmt.Fprintf(&b, "  %%%% %s\n", def.Title)
	}
	fmt.Fprintf(&b, "  [*] --> %s\n", def.Initial)
	for _, s := range def.States {
		for _, e := range edges(s) {
			fmt.Fprintf(&b, "  %s --> %s : %s\n", s.Name, e.to, mermaidText(e.label))
		}
		if s.Final {
			fmt.Fprintf(&b, "  %s --> [*]\n", s.Name)
		}
	}
	for _, s := range def.States {
		if notes := slaNotes(def, s.Name); len(notes) > 0 {
			fmt.Fprintf(&b, "  note right of %s : %s\n", s.Name, mermaidText(strings.Join(notes, "; ")))
		}
	}
	return b.String()
}

// DOT draws the definition for Graphviz (`dot -Tsvg`).
func DOT(def *Definition) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", dotQuote(def.Name))
	if def.Title != "" {
		fmt.Fprintf(&b, "  label=%s;\n  labelloc=t;\n", dotQuote(def.Title))
	}
	b.WriteString("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=Helvetica];\n  edge [fontname=Helvetica, fontsize=10];\n")
	b.WriteString("  \"__start\" [shape=point, label=\"\"];\n")
	fmt.Fprintf(&b, "  \"__start\" -> %s;\n", dotQuote(def.Initial))
	for _, s := range def.States {
		label := s.Name
		if notes := slaNotes(def, s.Name); len(notes) > 0 {
			label += "\n" + strings.Join(notes, "\n")
		}
		attrs := "label=" + dotQuote(label)
		if s.Final {
			attrs += ", peripheries=2"
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(s.Name), attrs)
	}
	for _, s := range def.States {
		for _, e := range edges(s) {
			style := ""
			if e.system {
				style = ", style=dashed"
			}
			fmt.Fprintf(&b, "  %s -> %s [label=%s%s];\n", dotQuote(s.Name), dotQuote(e.to), dotQuote(e.label), style)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// edge is one transition drawn: system is set for those the system takes
// (timers, approval timeouts).
type edge struct {
	to, label string
	system    bool
}

// edges lists the transitions out of a state: its actions and timers; an
// approval as its two outcomes (and its timeout), parallel tasks as their join.
func edges(s State) []edge {
	var out []edge
	for _, a := range s.Actions {
		if a.Kind == "" {
			out = append(out, edge{to: a.To, label: actionLabel(a)})
		}
	}
	for _, t := range s.Timers {
		if a := s.Action(t.Action); a != nil {
			out = append(out, edge{to: a.To, label: timerLabel(t), system: true})
		}
	}
	if a := s.Approval; a != nil {
		quorum := a.Quorum
		switch a.Quorum {
		case QuorumCount:
			quorum = fmt.Sprintf("%d approvals", a.Count)
		case QuorumPercent:
			quorum = fmt.Sprintf("%d%% approve", a.Percent)
		}
		who := a.approversText()
		out = append(out, edge{to: a.Approved, label: fmt.Sprintf("approved (%s of %s)", quorum, who)}, edge{to: a.Rejected, label: "rejected"})
		if bg := a.BreakGlass; bg != nil {
			to := bg.To
			if to == "" {
				to = a.Approved
			}
			out = append(out, edge{to: to, label: actionLabel(Action{Name: ActionBreakGlass + " (with reason)", Roles: bg.Roles})})
		}
		if a.OnTimeout == TimeoutApprove || a.OnTimeout == TimeoutReject {
			out = append(out, edge{to: a.target(map[string]string{TimeoutApprove: OutcomeApproved, TimeoutReject: OutcomeRejected}[a.OnTimeout]),
				label: fmt.Sprintf("after %s: %s (timeout)", a.Due, a.OnTimeout), system: true})
		}
	}
	if par := s.Parallel; par != nil {
		names := make([]string, len(par.Tasks))
		for i, t := range par.Tasks {
			names[i] = actionLabel(Action{Name: t.Name, Roles: t.Roles})
		}
		out = append(out, edge{to: par.To, label: fmt.Sprintf("%s of %s", par.Join, strings.Join(names, ", "))})
	}
	return out
}

func actionLabel(a Action) string {
	if len(a.Roles) == 0 {
		return a.Name
	}
	return fmt.Sprintf("%s [%s]", a.Name, strings.Join(a.Roles, ", "))
}

func timerLabel(t Timer) string {
	if t.At != "" {
		return fmt.Sprintf("at %s: %s (timer)", t.At, t.Action)
	}
	return fmt.Sprintf("after %s: %s (timer)", t.After, t.Action)
}

// slaNotes says what entering or leaving a state does to each SLA clock, and
// which reminders run there.
func slaNotes(def *Definition, state string) []string {
	var out []string
	if st := def.State(state); st != nil {
		for _, r := range st.Reminders {
			note := "every " + r.Every.String() + ": reminder"
			if len(r.ResetBy) > 0 {
				note += " unless " + strings.Join(r.ResetBy, " or ")
			}
			out = append(out, note)
		}
	}
	for _, s := range def.SLAs {
		switch {
		case contains(s.StopOnEnter, state):
			out = append(out, "stops SLA "+s.Name)
		case contains(s.PauseIn, state):
			out = append(out, "pauses SLA "+s.Name)
		}
		if contains(s.StopOnLeave, state) {
			out = append(out, "leaving stops SLA "+s.Name)
		}
	}
	return out
}

// mermaidText keeps a label on one line and free of Mermaid's separators.
func mermaidText(s string) string {
	return strings.NewReplacer(":", " ", ";", ",", "\n", " ").Replace(s)
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/store"
)

// RoleConfigurationManager may change the configuration item registry, as
// may an administrator. Everyone signed in may read it: an agent picks the
// item an incident is about.
const RoleConfigurationManager = "configuration-manager"

// KnowledgeDefinition is the shipped definition whose processes are the
// knowledge articles a knowledge field refers to.
const KnowledgeDefinition = "knowledge"

// CIs lists the registry's items the filter keeps.
func (s *Service) CIs(ctx context.Context, caller Caller, f store.CIFilter) (CIList, error) {
	for _, p := range [][2]string{{"parent", f.Parent}, {"type", f.Type}, {"service", f.Service}} {
		if err := checkParam(p[0], p[1]); err != nil {
			return CIList{}, err
		}
	}
	items, total, err := s.store.CIs(ctx, f)
	if err != nil {
		return CIList{}, err
	}
	if items == nil {
		items = []store.CI{}
	}
	return CIList{Items: items, Total: total, Limit: f.Limit, Offset: f.Offset}, nil
}

// CIList is one page of the registry.
type CIList struct {
	Items  []store.CI `json:"items"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}

// CIPage is a configuration item with what the caller may see of the
// processes that name it, newest first, and the items that are part of it.
type CIPage struct {
	store.CI
	Children  []store.CI `json:"children"`
	Processes []View     `json:"processes"`
	// Total counts the processes naming the item that the caller may see;
	// Processes holds the newest of them (at most ciPageProcesses).
	Total int `json:"total"`
}

// ciPageProcesses bounds the processes a CI's page lists; the full list is
// GET /processes?ci=.
const ciPageProcesses = 200

// CI returns an item of the registry with the processes naming it that the
// caller may see (visibility is the processes' own: an item's page shows
// nobody a process they could not open), or ENOTFOUND.
func (s *Service) CI(ctx context.Context, caller Caller, id string) (CIPage, error) {
	if err := checkParam("id", id); err != nil {
		return CIPage{}, err
	}
	c, err := s.store.CIByID(ctx, id)
	if err != nil {
		return CIPage{}, err
	}
	children, _, err := s.store.CIs(ctx, store.CIFilter{Parent: id, Limit: 1000})
	if err != nil {
		return CIPage{}, err
	}
	if children == nil {
		children = []store.CI{}
	}
	items, total, err := s.store.ProcessesFor(ctx, caller.viewer(), store.ProcessFilter{CI: id, Limit: ciPageProcesses})
	if err != nil {
		return CIPage{}, err
	}
	return CIPage{CI: c, Children: children, Processes: renderAll(items), Total: total}, nil
}

// SaveCIs creates or replaces items of the registry, all or none (see
// store.SaveCIs), as the caller. It needs the role configuration-manager or
// admin; every text passes the gate.
func (s *Service) SaveCIs(ctx context.Context, caller Caller, items []store.CI) (int, error) {
	if err := RequireRole(caller, RoleConfigurationManager, "admin"); err != nil {
		return 0, err
	}
	return s.store.SaveCIs(store.WithRequestID(ctx, caller.RequestID), items, caller.ID)
}

// checkParam passes a query or path parameter through the gate.
func checkParam(name, v string) error {
	if v == "" {
		return nil
	}
	if len(v) > 200 {
		return &engine.Error{Code: engine.EBADREQUEST, Message: "bad parameter",
			Details: []engine.Detail{{Field: name, Message: "at most 200 bytes"}}}
	}
	return gate.Param(name, v)
}

// checkRefs checks the values of fields that refer to records outside the
// process: a ci must be in the registry, a knowledge article must be a
// knowledge process the caller may see and, when its field lists states, be
// in one of them. This needs I/O, so it is done here, before the workflow is
// asked, never by it; a bad reference is EINVALID (422) naming the field
// (prefix.name), so a form shows it beside the field.
func (s *Service) checkRefs(ctx context.Context, caller Caller, fields []engine.Field, in map[string]any, prefix string) error {
	var details []engine.Detail
	var cis []string
	var ciFields []string
	for _, f := range engine.RefFields(fields) {
		v, _ := in[f.Name].(string)
		if v == "" {
			continue
		}
		path := prefix + "." + f.Name
		switch f.Type {
		case engine.TypeCI:
			cis, ciFields = append(cis, v), append(ciFields, path)
		case engine.TypeKnowledge:
			if d := s.checkArticle(ctx, caller, f, v, path); d != nil {
				if d.Field == "" {
					return d.err
				}
				details = append(details, d.Detail)
			}
		}
	}
	if len(cis) > 0 {
		missing, err := s.store.MissingCIs(ctx, cis)
		if err != nil {
			return err
		}
		for i, id := range cis {
			if slices.Contains(missing, id) {
				details = append(details, engine.Detail{Field: ciFields[i], Message: fmt.Sprintf("no configuration item %q in the registry", id)})
			}
		}
	}
	if len(details) > 0 {
		return &engine.Error{Code: engine.EINVALID, Message: "input is not valid", Details: details}
	}
	return nil
}

// refProblem is a bad reference (Detail) or an error reading it (err, with
// Detail.Field empty).
type refProblem struct {
	engine.Detail
	err error
}

func (s *Service) checkArticle(ctx context.Context, caller Caller, f engine.Field, id, path string) *refProblem {
	v, err := s.visible(ctx, caller, id)
	if engine.ErrorCode(err) == engine.ENOTFOUND || (err == nil && v.Definition != KnowledgeDefinition) {
		return &refProblem{Detail: engine.Detail{Field: path, Message: fmt.Sprintf("no knowledge article %q", id)}}
	}
	if err != nil {
		return &refProblem{err: err}
	}
	if len(f.States) > 0 && !slices.Contains(f.States, v.State) {
		return &refProblem{Detail: engine.Detail{Field: path,
			Message: fmt.Sprintf("knowledge article %q is %s; it must be %s", id, v.State, strings.Join(f.States, " or "))}}
	}
	return nil
}

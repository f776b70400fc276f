package service

import (
	"context"
	"slices"

	"github.com/itilflow/itilflow/engine"
	"github.com/itilflow/itilflow/gate"
	"github.com/itilflow/itilflow/reports"
	"github.com/itilflow/itilflow/store"
)

// Roles of the people who answer for the service and read its reports.
const (
	RoleServiceManager  = "service-manager"
	RoleRegionalManager = "regional-manager"
	RoleChangeManager   = "change-manager"
)

// reportReaders read the reports: the managers who answer for the service
// (seed 001's monthly summary goes to them), auditors and admins. Reports
// count every process whatever its visibility and name people in the staff
// scores, so they are not for agents or requesters.
var reportReaders = []string{RoleServiceManager, RoleRegionalManager, RoleChangeManager, store.RoleAuditor, store.RoleAdmin}

// UseReports makes the reports of r readable. Call it before the service is
// used; without it every report answers EUNAVAILABLE.
func (s *Service) UseReports(r *reports.Reports) { s.reports = r }

// ReportsUnavailable makes every report answer EUNAVAILABLE saying why (a
// reports.yaml that no longer matches the definitions published since):
// the reports are down, not the service. Call it before the service is used.
func (s *Service) ReportsUnavailable(why string) { s.reportsDown = why }

// ReadsReports reports whether the caller may read the reports.
func ReadsReports(caller Caller) bool { return slices.ContainsFunc(reportReaders, caller.hasRole) }

// Reports lists the reports there are. EFORBIDDEN unless the caller reads
// reports.
func (s *Service) Reports(caller Caller) ([]reports.Info, error) {
	if err := RequireRole(caller, reportReaders...); err != nil {
		return nil, err
	}
	return reports.List(), nil
}

// Report computes the report name over the period from–to (see
// reports.Config.ParsePeriod). It returns EFORBIDDEN unless the caller
// reads reports, ENOTFOUND for an unknown name, EINVALID naming from or to
// for a bad period and EUNAVAILABLE when no reports are configured. Every
// string of the report passes the gate: it holds names and ids people typed.
func (s *Service) Report(ctx context.Context, caller Caller, name, from, to string) (*reports.Report, error) {
	const op = "service.Report"
	if err := RequireRole(caller, reportReaders...); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(reports.List(), func(i reports.Info) bool { return i.Name == name }) {
		return nil, &engine.Error{Code: engine.ENOTFOUND, Op: op, Message: "no report named " + gate.CleanString(name)}
	}
	if s.reports == nil {
		why := s.reportsDown
		if why == "" {
			why = "no reports are configured: reports.yaml was not found beside the definitions"
		}
		return nil, &engine.Error{Code: engine.EUNAVAILABLE, Op: op, Message: why}
	}
	p, err := s.reports.Config().ParsePeriod(from, to)
	if err != nil {
		return nil, err
	}
	r, err := s.reports.Run(ctx, name, p)
	if err != nil {
		return nil, err
	}
	clean, _, err := gate.CleanJSON(*r)
	if err != nil {
		return nil, &engine.Error{Code: engine.EINTERNAL, Op: op, Message: "report could not be gated", Err: err}
	}
	return &clean, nil
}

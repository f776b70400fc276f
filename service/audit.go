package service

import (
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/itilflow/itilflow/store"
)

// auditReaders read the audit log: auditors, and admins who answer for the
// system.
var auditReaders = []string{store.RoleAuditor, store.RoleAdmin}

// CheckpointSource gives the latest checkpoint of the audit chain kept outside
// the database, and false while there is none.
type CheckpointSource interface {
	Latest() (store.AuditCheckpoint, bool, error)
}

// UseAuditCheckpoints makes audit verification check the chain against the
// latest checkpoint of src. Call it before the service is used.
func (s *Service) UseAuditCheckpoints(src CheckpointSource) { s.checkpoints = src }

// ReadsAudit reports whether the caller may read the audit log.
func ReadsAudit(caller Caller) bool {
	return slices.ContainsFunc(auditReaders, caller.hasRole)
}

// ReadsHistories reports whether the caller may export and replay the
// histories of the processes they see.
func ReadsHistories(caller Caller) bool {
	return slices.ContainsFunc(historyReaders, caller.hasRole)
}

func (c Caller) hasRole(role string) bool { return slices.Contains(c.Roles, role) }

// AuditLog returns the audit records f selects, in chain order.
func (s *Service) AuditLog(ctx context.Context, caller Caller, f store.AuditFilter) ([]store.AuditRecord, error) {
	if err := RequireRole(caller, auditReaders...); err != nil {
		return nil, err
	}
	return s.store.Audit(ctx, f)
}

// VerifyAudit checks the audit chain, the latest checkpoint when the service
// has a source of them, and the events rows, and reports the first problem
// of each.
func (s *Service) VerifyAudit(ctx context.Context, caller Caller) (store.AuditVerification, error) {
	if err := RequireRole(caller, auditReaders...); err != nil {
		return store.AuditVerification{}, err
	}
	var checkpoints []store.AuditCheckpoint
	if s.checkpoints != nil {
		cp, ok, err := s.checkpoints.Latest()
		if err != nil {
			return store.AuditVerification{}, err
		}
		if ok {
			checkpoints = append(checkpoints, cp)
		}
	}
	return s.store.VerifyAudit(ctx, checkpoints...)
}

// WriteAuditCSV writes audit records as CSV, one record a line after a
// header, for spreadsheets.
func WriteAuditCSV(w io.Writer, records []store.AuditRecord) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"seq", "at", "actor", "action", "request_id", "target", "payload_digest", "prev_hash", "hash", "link", "key_id", "source"})
	for _, r := range records {
		cw.Write([]string{strconv.FormatInt(r.Seq, 10), r.At.Format(time.RFC3339Nano), r.Actor, r.Action, r.RequestID, r.Target, r.PayloadDigest,
			r.PrevHash, r.Hash, r.Link, r.KeyID, r.Source})
	}
	cw.Flush()
	return cw.Error()
}

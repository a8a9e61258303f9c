package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// auditPolicy records OperatorUser's requests at Metadata level (who, verb, object; no
// bodies) and nothing else. RequestReceived is omitted so that a request shows once when it
// completes; a watch also shows when its response starts, and Requests counts it once.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: [` + OperatorUser + `]
- level: None
`

// AuditLog is kube-apiserver's JSON-lines audit log of OperatorUser's requests: the honest
// count of what loom's operator asks of the API server (writes, GETs, lists, watches).
type AuditLog struct {
	// Path of the log file. kube-apiserver writes each event before it answers the request
	// (blocking mode), so a request that has returned is in the file.
	Path string
}

func writeAuditPolicy(dir string) (*AuditLog, []string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, nil, err
	}
	log := &AuditLog{Path: filepath.Join(dir, "audit.log")}
	return log, []string{
		"--audit-policy-file", policy, "--audit-log-path", log.Path,
		"--audit-log-format", "json", "--audit-log-mode", "blocking",
		// No rotation (the size is in MB): Requests reads one file.
		"--audit-log-maxsize", "1000000",
	}, nil
}

// Request is one API request of the audited user.
type Request struct {
	Time        time.Time // when kube-apiserver received it
	Verb        string    // get, list, watch, create, update, patch, delete, deletecollection
	Group       string    // API group, "" for core
	Resource    string    // plural resource; for a non-resource request, the URL path
	Subresource string    // status, scale, ...
	Namespace   string
	Name        string
	Code        int // HTTP status of the response
	// DryRun: the request asked for dryRun=All, so the API server stored nothing.
	DryRun bool
}

// Key is how Count groups requests: "verb resource" or "verb resource/subresource", e.g.
// "patch deployments", "update mcpservers/status", "get /api".
func (r Request) Key() string {
	if r.Subresource != "" {
		return r.Verb + " " + r.Resource + "/" + r.Subresource
	}
	return r.Verb + " " + r.Resource
}

// auditEvent is the part of audit.k8s.io/v1 Event that Request needs.
type auditEvent struct {
	AuditID    string `json:"auditID"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	ObjectRef  *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
}

// Requests returns the requests received at or after since, in the log's order.
func (a *AuditLog) Requests(since time.Time) ([]Request, error) {
	data, err := os.ReadFile(a.Path)
	if os.IsNotExist(err) {
		return nil, nil // no request yet
	}
	if err != nil {
		return nil, err
	}
	// kube-apiserver may be writing the last line right now: read complete lines only.
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	var reqs []Request
	seen := map[string]bool{}
	for n, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev auditEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", a.Path, n+1, err)
		}
		if seen[ev.AuditID] || ev.RequestReceivedTimestamp.Before(since) {
			continue
		}
		seen[ev.AuditID] = true
		path, query, _ := strings.Cut(ev.RequestURI, "?")
		r := Request{Time: ev.RequestReceivedTimestamp, Verb: ev.Verb}
		if q, err := url.ParseQuery(query); err == nil {
			r.DryRun = slices.Contains(q["dryRun"], "All")
		}
		if ev.ObjectRef != nil {
			r.Group, r.Resource, r.Subresource = ev.ObjectRef.APIGroup, ev.ObjectRef.Resource, ev.ObjectRef.Subresource
			r.Namespace, r.Name = ev.ObjectRef.Namespace, ev.ObjectRef.Name
		} else {
			r.Resource = path
		}
		if ev.ResponseStatus != nil {
			r.Code = ev.ResponseStatus.Code
		}
		reqs = append(reqs, r)
	}
	return reqs, nil
}

// Count returns how many requests were received at or after since, by Request.Key.
func (a *AuditLog) Count(since time.Time) (map[string]int, error) {
	reqs, err := a.Requests(since)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, r := range reqs {
		counts[r.Key()]++
	}
	return counts, nil
}

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"time"
)

// latency is how long the API server took to answer one kind of request.
type latency struct {
	Count     int
	Mean, P99 time.Duration
}

// auditLatencies reads kube-apiserver's audit log (internal/controlplane writes one event per
// request when its response completes) and returns, by "verb resource", how long the requests
// received in [from, to) took from receipt to response. Watches are left out: they last.
func auditLatencies(path string, from, to time.Time) (map[string]latency, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ev struct {
		Verb      string `json:"verb"`
		Stage     string `json:"stage"`
		ObjectRef *struct {
			Resource    string `json:"resource"`
			Subresource string `json:"subresource"`
		} `json:"objectRef"`
		Received time.Time `json:"requestReceivedTimestamp"`
		Done     time.Time `json:"stageTimestamp"`
	}
	took := map[string][]time.Duration{}
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 16<<20)
	for s.Scan() {
		ev.ObjectRef = nil
		if err := json.Unmarshal(s.Bytes(), &ev); err != nil {
			continue // a line being written
		}
		if ev.Stage != "ResponseComplete" || ev.Verb == "watch" || ev.ObjectRef == nil ||
			ev.Received.Before(from) || !ev.Received.Before(to) {
			continue
		}
		key := ev.Verb + " " + ev.ObjectRef.Resource
		if ev.ObjectRef.Subresource != "" {
			key += "/" + ev.ObjectRef.Subresource
		}
		took[key] = append(took[key], ev.Done.Sub(ev.Received))
	}
	out := map[string]latency{}
	for key, ds := range took {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		out[key] = latency{Count: len(ds), Mean: sum / time.Duration(len(ds)), P99: ds[len(ds)*99/100]}
	}
	return out, s.Err()
}

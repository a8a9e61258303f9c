// Package cel owns loom's CEL environment: the Kubernetes CEL libraries (lists, regex,
// urls, quantity, ip, cidr, format, semver, sets, strings, optional types) built once per
// process, the variables of one graph, compiled programs with a cost limit that stop when
// their context is done, and the conversion of results to JSON-safe Go values.
//
// Programs are immutable after Compile and safe to share across goroutines. The package
// imports no other loom package.
package cel

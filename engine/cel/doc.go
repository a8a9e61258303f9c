// Package cel owns loom's CEL environment: the libraries of Kubernetes 1.33's CEL
// environment (lists, regex, urls, quantity, ip, cidr, format, semver, sets, strings,
// two-variable comprehensions, optional types), cel-go's cel.bind, and loom's own
// (library.go: json.encode, sha256, base64; maps.go: merge, deepMerge, omit), built once
// per process; the variables, object types and functions (functions.go: expanded where
// they are called, as macros) of one graph; compiled programs with a cost
// limit that stop when their context is done; the conversion of results to JSON-safe Go
// values; the reference of all of it (Reference, printed by `loom cel`); and, for an error
// about an unknown name, the names that were there to be meant (Misspelt).
//
// It may import libraries only (cel-go, apiserver's CEL libraries), no other package of
// loom.
//
// Unlike the API server, loom lets list and map literals mix types, because templates
// build objects in CEL, and its quantity() and isQuantity() refuse quantities too large to
// compare in bounded time (quantity.go). Programs are immutable after Compile and safe to
// share across goroutines.
package cel

// Package assert owns the golden cases' assertions: it checks JSON values against
// kyverno-json assertion trees, YAML that states a partial object, where a key may also be
// an expression that projects the value under test. `(length(@))` is JMESPath (the default
// language of a bare parenthesised key) and `(cel;object.spec.replicas > 1)` is CEL, with
// the value under test as `object`. The value at a key is what the projection must equal; a
// nested map or list asserts deeper.
//
// It may import libraries only, no other package of loom; it is the only package of loom
// that imports github.com/kyverno/kyverno-json. kyverno-json evaluates CEL in its own
// environment, compiles every expression anew for each tree and sets no cost limit: fine
// for the offline golden cases of `loom test` (engine/cases), never for the reconcile path,
// which stays on engine/cel.
//
// What it adds to the build (bin/loom, linux/amd64, Go 1.26, against a stub of this
// package): +0.8 MB (+1.0%, 80.3 MB against 79.5 MB; stripped with -s -w, +0.6 MB of
// 56.1 MB). The new modules are kyverno-json's core packages, the JMESPath interpreter
// (github.com/jmespath-community/go-jmespath) and what kyverno's JMESPath function library
// brings along: github.com/kyverno/pkg/ext, github.com/IGLOU-EU/go-wildcard,
// github.com/zach-klippenstein/goregen, github.com/aquilax/truncate and
// golang.org/x/crypto/cryptobyte. cel-go and apimachinery are the engine's already.
package assert

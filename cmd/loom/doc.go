// Command loom owns the project's one binary and its command line: the operator
// (operator, rbac), the template author's tools (render, validate, test, diff, cel, schema) and the local
// control plane (local), one file per subcommand. It may import every loom package but
// those under hack/ (TestBinaryLinksNothingFromHack checks it); what a command does lives
// in those packages, and this one only parses flags, reads files and wires them together.
package main

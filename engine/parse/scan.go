package parse

import (
	"fmt"
	"strings"
)

// Segment is one piece of a scanned string: literal text, or the source of one ${...}
// expression. Offset is the byte offset of the piece in the scanned string (for an
// expression, of its first character after "${").
type Segment struct {
	Lit    string
	Expr   string
	IsExpr bool
	Offset int
}

// ScanError says where in a string the ${} syntax is broken.
type ScanError struct {
	Offset int
	Msg    string
}

func (e *ScanError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Offset, e.Msg) }

// Scan splits s into literal text and ${...} expressions.
//
// Rules:
//   - "${" opens an expression; it ends at the "}" that balances it. Braces inside the
//     expression nest (CEL map literals), and braces or "${" inside CEL string literals
//     (single, double or triple quoted, raw or not) are plain characters.
//   - "//" outside a string literal starts a CEL comment, which runs to the end of the
//     line (CEL has no other kind); braces, quotes and "${" in it are plain characters, so
//     the "}" that closes an expression must not stand in a comment.
//   - "$${" is an escape for a literal "${".
//   - An expression may not be empty, and "${" may not appear in an expression outside a
//     string literal.
//
// A string with no "${" scans to a single literal segment (or none, when it is empty).
func Scan(s string) ([]Segment, error) {
	var segs []Segment
	var lit strings.Builder
	litStart := 0
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, Segment{Lit: lit.String(), Offset: litStart})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			if lit.Len() == 0 {
				litStart = i
			}
			lit.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			flush()
			end, err := exprEnd(s, i+2)
			if err != nil {
				return nil, err
			}
			src := s[i+2 : end]
			if strings.TrimSpace(src) == "" {
				return nil, &ScanError{Offset: i, Msg: "empty expression ${}"}
			}
			segs = append(segs, Segment{Expr: src, IsExpr: true, Offset: i + 2})
			i = end + 1
			litStart = i
		default:
			if lit.Len() == 0 {
				litStart = i
			}
			lit.WriteByte(s[i])
			i++
		}
	}
	flush()
	return segs, nil
}

// exprEnd returns the index of the "}" closing the expression whose body starts at start.
func exprEnd(s string, start int) (int, error) {
	depth := 0
	comment := -1 // where the last // comment began, for the error
	for i := start; i < len(s); {
		c := s[i]
		switch {
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			comment = i
			if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
				i += nl + 1
				continue
			}
			i = len(s)
			continue
		case c == '"' || c == '\'':
			end, err := stringEnd(s, i)
			if err != nil {
				return 0, err
			}
			i = end
			continue
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			return 0, &ScanError{Offset: i, Msg: "\"${\" inside an expression: expressions do not nest (close the first one with \"}\")"}
		case c == '{':
			depth++
		case c == '}':
			if depth == 0 {
				return i, nil
			}
			depth--
		}
		i++
	}
	if comment >= 0 && strings.IndexByte(s[comment:], '\n') < 0 {
		return 0, &ScanError{Offset: start - 2, Msg: fmt.Sprintf("unterminated expression: the // comment at offset %d runs to the end of the line, over the closing \"}\" (put the \"}\" on the next line)", comment)}
	}
	return 0, &ScanError{Offset: start - 2, Msg: "unterminated expression: \"${\" has no matching \"}\""}
}

// stringEnd returns the index just past the CEL string literal that starts with the quote
// at s[i]. A raw prefix (r or R) before the quote turns off escapes.
func stringEnd(s string, i int) (int, error) {
	q := s[i]
	raw := i > 0 && (s[i-1] == 'r' || s[i-1] == 'R') && (i < 2 || !isIdentChar(s[i-2]))
	delim := string(q)
	if strings.HasPrefix(s[i:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	for j := i + len(delim); j < len(s); j++ {
		if !raw && s[j] == '\\' {
			j++
			continue
		}
		if strings.HasPrefix(s[j:], delim) {
			return j + len(delim), nil
		}
		if len(delim) == 1 && s[j] == '\n' {
			break
		}
	}
	return 0, &ScanError{Offset: i, Msg: "unterminated string literal in expression"}
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Standalone reports whether s is exactly one ${...} expression and nothing else, and
// returns its source. Such a field takes the expression's type; anything else containing
// ${} is a string template.
func Standalone(segs []Segment) (string, bool) {
	if len(segs) == 1 && segs[0].IsExpr {
		return segs[0].Expr, true
	}
	return "", false
}

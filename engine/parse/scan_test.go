package parse

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lit(s string, off int) Segment  { return Segment{Lit: s, Offset: off} }
func expr(s string, off int) Segment { return Segment{Expr: s, IsExpr: true, Offset: off} }

func TestScan(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Segment
	}{
		{"empty", "", nil},
		{"plain", "hello", []Segment{lit("hello", 0)}},
		{"standalone", "${a.b}", []Segment{expr("a.b", 2)}},
		{"template", "x-${a}-${b}", []Segment{lit("x-", 0), expr("a", 4), lit("-", 6), expr("b", 9)}},
		{"map literal nests", `${ {"k": {"n": 1}} }`, []Segment{expr(` {"k": {"n": 1}} `, 2)}},
		{"brace in string", `${ "}" + a }`, []Segment{expr(` "}" + a `, 2)}},
		{"dollar brace in string", `${ "${x}" }`, []Segment{expr(` "${x}" `, 2)}},
		{"single quotes", `${ '}' }`, []Segment{expr(` '}' `, 2)}},
		{"escaped quote", `${ "a\"}" }`, []Segment{expr(` "a\"}" `, 2)}},
		{"raw string keeps backslash", `${ r"\" }`, []Segment{expr(` r"\" `, 2)}},
		{"triple quoted", `${ """a"}""" }`, []Segment{expr(` """a"}""" `, 2)}},
		{"escape", "$${literal}", []Segment{lit("${literal}", 0)}},
		{"escape then expr", "$${a}${b}", []Segment{lit("${a}", 0), expr("b", 7)}},
		{"lone dollar", "cost $5", []Segment{lit("cost $5", 0)}},
		{"closing brace outside", "a}b", []Segment{lit("a}b", 0)}},
		{"comment to end of line", "${ a // b } \"${\n}x", []Segment{expr(" a // b } \"${\n", 2), lit("x", 17)}},
		{"comment after a map", "${ {\"k\": 1} // {\n}", []Segment{expr(" {\"k\": 1} // {\n", 2)}},
		{"slashes in a string are no comment", `${ "http://" + a }`, []Segment{expr(` "http://" + a `, 2)}},
		{"division", "${ a / b }", []Segment{expr(" a / b ", 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Scan(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestScanErrors(t *testing.T) {
	tests := []struct {
		in, msg string
		off     int
	}{
		{"${a", "unterminated expression", 0},
		{"x ${ {a: 1} ", "unterminated expression", 2},
		{"${}", "empty expression", 0},
		{"${  }", "empty expression", 0},
		{"${ a + ${b} }", "expressions do not nest", 7},
		{`${ "abc }`, "unterminated string literal", 3},
		{"x ${ a // the end }", "the // comment at offset 7 runs to the end of the line", 2},
		{"${ a // c\n", "has no matching", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Scan(tt.in)
			var se *ScanError
			require.ErrorAs(t, err, &se)
			assert.Contains(t, se.Msg, tt.msg)
			assert.Equal(t, tt.off, se.Offset)
		})
	}
}

// FuzzScan checks that Scan never panics and that what it returns is consistent with its
// input: segments are in order, expressions are non-empty and lie inside "${...}" at their
// offsets, and re-escaping the segments reproduces a string that scans the same way.
func FuzzScan(f *testing.F) {
	for _, s := range []string{"", "a", "${a}", "x${a}y${b}", "$${a}", `${ {"k": "}"} }`, `${ r"\" }`, `${"""}"""}`, "${", "${ a ${ b } }", "${ a // } {\n}", "${ a // c }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		segs, err := Scan(s)
		if err != nil {
			var se *ScanError
			if !assert.ErrorAs(t, err, &se) || se.Offset < 0 || se.Offset > len(s) {
				t.Fatalf("bad error %v for %q", err, s)
			}
			return
		}
		var rebuilt strings.Builder
		last := -1
		for _, seg := range segs {
			if seg.Offset <= last {
				t.Fatalf("segments out of order in %q: %+v", s, segs)
			}
			last = seg.Offset
			if seg.IsExpr {
				if strings.TrimSpace(seg.Expr) == "" {
					t.Fatalf("empty expression from %q", s)
				}
				if s[seg.Offset-2:seg.Offset] != "${" || s[seg.Offset:seg.Offset+len(seg.Expr)] != seg.Expr || s[seg.Offset+len(seg.Expr)] != '}' {
					t.Fatalf("expression %q not at offset %d of %q", seg.Expr, seg.Offset, s)
				}
				rebuilt.WriteString("${" + seg.Expr + "}")
			} else {
				rebuilt.WriteString(strings.ReplaceAll(seg.Lit, "${", "$${"))
			}
		}
		if utf8.ValidString(s) {
			again, err := Scan(rebuilt.String())
			if err != nil {
				t.Fatalf("rebuilt %q of %q does not scan: %v", rebuilt.String(), s, err)
			}
			if len(again) != len(segs) {
				t.Fatalf("rebuilt %q of %q scans to %d segments, want %d", rebuilt.String(), s, len(again), len(segs))
			}
		}
	})
}

package cel

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quantity() and isQuantity() refuse a string with an exponent past ±1000 or over 64 bytes:
// Kubernetes would compare such a quantity for minutes inside one call. Each string is
// given both as a constant (folded when the program is planned) and as a variable.
func TestQuantityBounds(t *testing.T) {
	env, err := NewEnv(nil, []Variable{{Name: "s", Type: types.StringType}}, 0)
	require.NoError(t, err)
	tests := []struct {
		s        string
		quantity bool // isQuantity(s)
	}{
		{"250m", true},
		{"1.5e3", true},
		{"1e1000", true},
		{"1e-1000", true},
		{"1e+0000000000000000000007", true}, // leading zeros: exponent 7
		{"1E", true},                        // exa
		{"2Ei", true},                       // exbi
		{"1e1001", false},
		{"1E100000111", false},
		{"000E00100000111", false}, // found by FuzzRenderMCPServer: held a render for 48 s
		{"1e-99999999999999999999", false},
		{strings.Repeat("1", 65), false},
		{"lots", false},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			act, err := interpreter.NewActivation(map[string]any{"s": tt.s})
			require.NoError(t, err)
			for _, expr := range []string{`isQuantity(s)`, `isQuantity("` + tt.s + `")`} {
				p, err := env.Compile(expr)
				require.NoError(t, err)
				assert.Equal(t, tt.quantity, evalJSON(t, p, act), expr)
			}
			for _, expr := range []string{`quantity(s).isLessThan(quantity("0"))`, `quantity("` + tt.s + `").isLessThan(quantity("0"))`} {
				p, err := env.Compile(expr)
				require.NoError(t, err)
				v, err := p.Eval(context.Background(), act, nil)
				if tt.quantity {
					require.NoError(t, err, expr)
					assert.Equal(t, types.False, v, expr)
				} else {
					require.Error(t, err, expr)
				}
			}
		})
	}
	p, err := env.Compile(`quantity(s)`)
	require.NoError(t, err)
	act, err := interpreter.NewActivation(map[string]any{"s": "1E100000111"})
	require.NoError(t, err)
	_, err = p.Eval(context.Background(), act, nil)
	assert.ErrorContains(t, err, `quantity "1E100000111": its exponent is beyond ±1000, which loom does not compute with`)
}

// TestDecimalExponent: decimalExponent finds what the pattern [eE]([+-]?[0-9]+)$ finds (the
// sign left out), on every string of up to five characters over the characters that matter.
func TestDecimalExponent(t *testing.T) {
	pattern := regexp.MustCompile(`[eE][+-]?([0-9]+)$`)
	const chars = "1e0E+-.i"
	var walk func(s string)
	walk = func(s string) {
		want, wantOK := "", false
		if m := pattern.FindStringSubmatch(s); m != nil {
			want, wantOK = m[1], true
		}
		got, ok := decimalExponent(s)
		require.Equal(t, wantOK, ok, "%q", s)
		require.Equal(t, want, got, "%q", s)
		if len(s) < 5 {
			for _, c := range chars {
				walk(s + string(c))
			}
		}
	}
	walk("")
}

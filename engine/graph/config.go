package graph

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/loom-mcp/loom/engine/parse"
)

// ConfigValues completes an operator configuration: every declared key gets the given value
// or its default. A key the graph does not declare, or a value of the wrong type, is an
// error naming the key.
func (g *Graph) ConfigValues(given map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(g.Config))
	matched := 0 // the keys of given the graph declares
	for _, c := range g.Config {
		v, ok := given[c.Name]
		if !ok {
			out[c.Name] = c.Default
			continue
		}
		matched++
		if i, isInt := v.(int); isInt {
			v = int64(i)
		}
		if f, isFloat := v.(float64); isFloat && c.Type == "integer" && f == float64(int64(f)) {
			v = int64(f)
		}
		var fits bool
		switch c.Type {
		case "string":
			_, fits = v.(string)
		case "boolean":
			_, fits = v.(bool)
		case "integer":
			_, fits = v.(int64)
		}
		if !fits {
			return nil, fmt.Errorf("config %s: expected a %s, got %T %v", c.Name, c.Type, v, v)
		}
		if err := inEnum(c, v); err != nil {
			return nil, fmt.Errorf("config %s: %w", c.Name, err)
		}
		out[c.Name] = v
	}
	if matched < len(given) {
		for k := range given {
			if _, declared := out[k]; !declared {
				return nil, fmt.Errorf("config %s: the graph declares no such key", k)
			}
		}
	}
	return out, nil
}

// ConfigFromEnv reads the keys that declare an environment variable from getenv (os.Getenv
// in the operator); unset or empty variables leave the key out, so its default applies.
func (g *Graph) ConfigFromEnv(getenv func(string) string) (map[string]any, error) {
	out := map[string]any{}
	for _, c := range g.Config {
		if c.Env == "" {
			continue
		}
		raw := strings.TrimSpace(getenv(c.Env))
		if raw == "" {
			continue
		}
		v, err := parseConfig(c, raw)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: %w", c.Env, raw, err)
		}
		out[c.Name] = v
	}
	return out, nil
}

// ParseConfig reads raw text (a flag's value) as the declared type of the key.
func (g *Graph) ParseConfig(key, raw string) (any, error) {
	for _, c := range g.Config {
		if c.Name == key {
			return parseConfig(c, strings.TrimSpace(raw))
		}
	}
	return nil, fmt.Errorf("the graph declares no configuration key %q", key)
}

func parseConfig(c parse.ConfigKey, raw string) (any, error) {
	switch c.Type {
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("expected true or false")
		}
		return b, nil
	case "integer":
		i, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("expected an integer")
		}
		return i, nil
	}
	if err := inEnum(c, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// inEnum checks a value against the key's enum, if it declares one.
func inEnum(c parse.ConfigKey, v any) error {
	if s, ok := v.(string); ok && len(c.Enum) > 0 && !slices.Contains(c.Enum, s) {
		return fmt.Errorf("expected one of %s", strings.Join(c.Enum, ", "))
	}
	return nil
}

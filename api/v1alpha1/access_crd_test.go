package v1alpha1_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
)

// access builds a grant or session (kind) named name whose spec is the YAML block spec.
func access(t *testing.T, kind, name, spec string) map[string]any {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: mcpruntime.org/v1alpha1\nkind: %s\nmetadata:\n  name: %s\n  namespace: team-a\nspec:\n", kind, name)
	for _, line := range strings.Split(strings.Trim(spec, "\n"), "\n") {
		b.WriteString("  " + line + "\n")
	}
	return decode(t, []byte(b.String()))
}

func TestAccessCRDsAcceptedByAPIServer(t *testing.T) {
	for _, name := range []string{"mcpaccessgrants.mcpruntime.org", "mcpagentsessions.mcpruntime.org"} {
		t.Run(name, func(t *testing.T) {
			a := loadCRDNamed(t, name)
			crd := a.crd.DeepCopy()
			crd.Status.StoredVersions = []string{crd.Spec.Versions[0].Name}
			assert.Empty(t, crdvalidation.ValidateCustomResourceDefinition(context.Background(), crd))
			require.NotNil(t, crd.Spec.Subresources)
			assert.NotNil(t, crd.Spec.Subresources.Status)
		})
	}
}

func TestAccessColumns(t *testing.T) {
	for name, want := range map[string][]string{
		"mcpaccessgrants.mcpruntime.org":  {"Server", "Human", "Agent", "Team", "Trust", "Disabled", "Age"},
		"mcpagentsessions.mcpruntime.org": {"Server", "Human", "Agent", "Team", "Consent", "Revoked", "Expires", "Age"},
	} {
		var got []string
		for _, c := range loadCRDNamed(t, name).crd.Spec.AdditionalPrinterColumns {
			got = append(got, c.Name)
		}
		assert.Equal(t, want, got, name)
	}
}

// TestAccessAdmission: what MCP Runtime's admission refuses is refused, with the field;
// what it admits (empty subjects on grants, defaults left unset, cross-namespace
// references, expiresAt on a grant) is admitted.
func TestAccessAdmission(t *testing.T) {
	grants := loadCRDNamed(t, "mcpaccessgrants.mcpruntime.org")
	sessions := loadCRDNamed(t, "mcpagentsessions.mcpruntime.org")
	cases := []struct {
		name, kind, spec string
		want             string // a fragment of the error; empty: admitted
	}{
		{"grant minimal", "MCPAccessGrant", "serverRef: {name: weather}", ""},
		{"grant full", "MCPAccessGrant", `
serverRef: {name: weather, namespace: tools}
subject: {humanID: alice, agentID: planner, teamID: payments}
maxTrust: high
allowedSideEffects: [read, write, destructive]
policyVersion: v2
disabled: true
expiresAt: "2027-01-01T00:00:00Z"
toolRules:
- {name: forecast, decision: allow, requiredTrust: medium}
- {name: purge, decision: deny}`, ""},
		{"grant empty subject", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {}", ""},
		{"grant without serverRef", "MCPAccessGrant", "maxTrust: low", "spec.serverRef: Required value"},
		{"grant empty server name", "MCPAccessGrant", "serverRef: {name: ''}", "spec.serverRef.name: Invalid value"},
		{"grant unknown trust", "MCPAccessGrant", "serverRef: {name: weather}\nmaxTrust: total", "spec.maxTrust: Unsupported value"},
		{"grant unknown side effect", "MCPAccessGrant", "serverRef: {name: weather}\nallowedSideEffects: [read, explode]", "spec.allowedSideEffects[1]: Unsupported value"},
		{"grant duplicate side effect", "MCPAccessGrant", "serverRef: {name: weather}\nallowedSideEffects: [read, read]", "Duplicate value"},
		{"grant rule without decision", "MCPAccessGrant", "serverRef: {name: weather}\ntoolRules: [{name: forecast}]", "spec.toolRules[0].decision: Required value"},
		{"grant rule empty name", "MCPAccessGrant", "serverRef: {name: weather}\ntoolRules: [{name: '', decision: allow}]", "spec.toolRules[0].name: Invalid value"},
		{"grant duplicate rule", "MCPAccessGrant", "serverRef: {name: weather}\ntoolRules: [{name: a, decision: allow}, {name: a, decision: deny}]", "Duplicate value"},
		{"grant team with space", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: 'pay ments'}", "without whitespace"},
		{"grant team with a tab", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: \"pay\\tments\"}", "without whitespace"},
		{"grant team too long", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: " + strings.Repeat("t", 129) + "}", "at most 128 characters"},
		// MCP Runtime's team ID rule: a blank one is unset, and only spaces, tabs and line
		// breaks count as whitespace.
		{"grant blank team", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: '   '}", ""},
		{"grant team of 129 spaces", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: '" + strings.Repeat(" ", 129) + "'}", ""},
		{"grant team with a vertical tab", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: \"pay\\vments\"}", ""},
		{"grant team of 128 characters", "MCPAccessGrant", "serverRef: {name: weather}\nsubject: {teamID: " + strings.Repeat("t", 128) + "}", ""},
		{"session minimal", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {agentID: planner}", ""},
		{"session full", "MCPAgentSession", `
serverRef: {name: weather, namespace: tools}
subject: {humanID: alice, agentID: planner, teamID: payments}
consentedTrust: medium
expiresAt: "2027-01-01T00:00:00Z"
revoked: true
upstreamTokenSecretRef: {name: tokens, key: alice}
policyVersion: v1`, ""},
		{"session team only", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {teamID: payments}", ""},
		{"session empty subject", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {}", "one of subject.humanID, subject.agentID or subject.teamID is required"},
		{"session empty ids", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {humanID: '', teamID: ''}", "one of subject.humanID"},
		{"session human and a blank team", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {humanID: a, teamID: ' '}", ""},
		{"session token ref with an empty name", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {humanID: a}\nupstreamTokenSecretRef: {name: '', key: k}", "upstreamTokenSecretRef.name: Invalid value"},
		{"session token ref without key", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {humanID: a}\nupstreamTokenSecretRef: {name: tokens}", "upstreamTokenSecretRef.key: Required value"},
		{"session bad time", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {humanID: a}\nexpiresAt: tomorrow", "spec.expiresAt"},
		{"session unknown trust", "MCPAgentSession", "serverRef: {name: weather}\nsubject: {humanID: a}\nconsentedTrust: max", "spec.consentedTrust: Unsupported value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := grants
			if c.kind == "MCPAgentSession" {
				a = sessions
			}
			errs := a.create(access(t, c.kind, "x", c.spec))
			if c.want == "" {
				assert.Empty(t, errs)
				return
			}
			require.NotEmpty(t, errs, "admitted, want %q", c.want)
			assert.Contains(t, errs.ToAggregate().Error(), c.want)
		})
	}
}

package parse

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNearest(t *testing.T) {
	ids := []string{"deployment", "service", "settings", "ingress"}
	for _, tt := range []struct{ name, want string }{
		{"deploymnt", "deployment"},
		{"deploy", "deployment"},   // the one that starts with it
		{"servce", "service"},      // one edit
		{"Service", "service"},     // case
		{"clusterIp", "clusterIP"}, // case, among fields
		{"setings", "settings"},    // one edit, though "service" is near too
		{"db", ""},                 // nothing near
		{"se", ""},                 // too short for a prefix
		{"ingres", "ingress"},      // one edit
		{"configmap", ""},          // far from all
		{"deployment", ""},         // the name itself is no suggestion
	} {
		cands := ids
		if tt.name == "clusterIp" {
			cands = []string{"clusterIP", "clusterIPs", "externalIPs"}
		}
		assert.Equal(t, tt.want, Nearest(tt.name, cands), tt.name)
	}
	assert.Equal(t, " did you mean `image`?", DidYouMean("imge", []string{"image", "port"}))
	assert.Equal(t, "", DidYouMean("x", []string{"image"}))
}

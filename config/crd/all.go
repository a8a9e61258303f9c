package crd

// File is one embedded CRD and the name it goes by in error messages.
type File struct {
	Name string
	Data []byte
}

// All is every embedded CRD: MCPServer, the kind the default graph expands, and
// MCPAccessGrant and MCPAgentSession, the kinds it reads. The default graph needs all three
// to load.
func All() []File {
	return []File{
		{MCPServerFile, MCPServer},
		{MCPAccessGrantFile, MCPAccessGrant},
		{MCPAgentSessionFile, MCPAgentSession},
	}
}

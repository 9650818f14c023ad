// Package seatlens holds the files at the repository root that the binary
// embeds, so that it runs from any working folder: the Connect descriptor
// template (and, later, the Forge manifest).
package seatlens

import _ "embed"

// DescriptorTemplate is atlassian-connect.json; its baseUrl is replaced by
// the configured base URL when served (package descriptor).
//
//go:embed atlassian-connect.json
var DescriptorTemplate []byte

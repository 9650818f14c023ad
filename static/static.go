// Package static embeds the admin panel's files so that the binary is
// self-contained.
package static

import (
	"embed"
	"io/fs"
)

//go:embed panel
var files embed.FS

// Panel returns the panel's files rooted at the panel folder.
func Panel() fs.FS {
	sub, err := fs.Sub(files, "panel")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder exists
	}
	return sub
}

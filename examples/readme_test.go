// Package examples holds runnable programs that the README shows, and the
// test that keeps the README's code the code of these programs.
package examples

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// snippet marks a README code block as the whole of a file of the
// repository, which therefore compiles and is tested:
//
//	<!-- snippet: examples/quickstart/main.go -->
//	```go
//	...
//	```
var snippet = regexp.MustCompile("(?m)^<!-- snippet: (\\S+) -->\n```go\n((?s:.*?))^```$")

// goBlock is any Go code block of the README.
var goBlock = regexp.MustCompile("(?m)^```go$")

// TestReadmeSnippetsAreRealPrograms checks that every Go block in the
// README is marked as a snippet of a file of the repository and is that
// file, byte for byte: the README's code compiles because it is the code
// the build compiles.
func TestReadmeSnippetsAreRealPrograms(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := len(goBlock.FindAll(readme, -1))
	matches := snippet.FindAllSubmatch(readme, -1)
	if blocks == 0 {
		t.Fatal("the README has no Go code; this test looks for ```go blocks")
	}
	if len(matches) != blocks {
		t.Errorf("the README has %d Go blocks but %d marked with <!-- snippet: FILE -->: mark each with the file it copies", blocks, len(matches))
	}
	for _, m := range matches {
		path, code := string(m[1]), m[2]
		file, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("README snippet of %s: %v", path, err)
			continue
		}
		if !bytes.Equal(file, code) {
			t.Errorf("the README's copy of %s differs from the file: copy the file into the README again", path)
		}
	}
}

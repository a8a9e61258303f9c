package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	yamlv3 "gopkg.in/yaml.v3"
)

// Stdin is the path that names standard input (`loom render -f -`).
const Stdin = "-"

// ReadSource reads the file at path, or all of stdin when path is Stdin, with the same
// cap on its size as ReadFile.
func ReadSource(path string, stdin io.Reader) ([]byte, error) {
	if path != Stdin {
		return ReadFile(path)
	}
	data, err := io.ReadAll(io.LimitReader(stdin, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge("standard input")
	}
	return data, nil
}

// Document is one document of a YAML stream (or a JSON text, which is one document).
type Document struct {
	// Index is the document's position in the stream, from 0; Line the line it starts on.
	Index, Line int
	// Value is the document as a JSON value with int64 integers.
	Value any
	// Duplicates are the fields the document gives twice in one object, which the API
	// server's strict decoding refuses. Value holds the last of each, as a lax decoder
	// would keep it.
	Duplicates []Duplicate
}

// Duplicate is a field given twice in one object.
type Duplicate struct {
	Path        string // the field's path, e.g. spec.ports[0].port
	Line, First int    // the line that repeats it, and the line that gave it first
}

func (d Duplicate) String() string {
	return fmt.Sprintf("%s: duplicate field (line %d; first given on line %d)", d.Path, d.Line, d.First)
}

// maxDocuments bounds the documents of one stream; an instance file holds a handful.
const maxDocuments = 1000

// Documents decodes every non-empty document of data, a YAML stream of documents separated
// by "---" or a JSON text. Each document is decoded as Decode decodes a file (YAML 1.1
// scalars, as kubectl reads them), and also read for fields given twice.
func Documents(data []byte) ([]Document, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var out []Document
	for i := 0; ; i++ {
		var node yamlv3.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(node.Content) == 0 || (node.Content[0].Kind == yamlv3.ScalarNode && node.Content[0].Tag == "!!null") {
			continue // an empty document: comments, or a stray ---
		}
		if len(out) == maxDocuments {
			return nil, fmt.Errorf("more than %d documents", maxDocuments)
		}
		// Re-encoding the document keeps its scalars as written, so the YAML 1.1 decoder
		// kubectl uses reads them as it would read the file.
		text, err := yamlv3.Marshal(&node)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		v, err := Decode(text)
		if err != nil {
			return nil, fmt.Errorf("document %d (line %d): %w", i+1, node.Content[0].Line, err)
		}
		doc := Document{Index: len(out), Line: node.Content[0].Line, Value: v}
		duplicates(node.Content[0], "", &doc.Duplicates)
		out = append(out, doc)
	}
}

// duplicates collects the keys of every mapping below n that repeat an earlier key of the
// same mapping. Aliases are not followed: what an anchor holds is read where it is written.
func duplicates(n *yamlv3.Node, path string, out *[]Duplicate) {
	switch n.Kind {
	case yamlv3.MappingNode:
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if line, seen := first[k.Value]; seen && k.Kind == yamlv3.ScalarNode {
				*out = append(*out, Duplicate{Path: p, Line: k.Line, First: line})
			} else {
				first[k.Value] = k.Line
			}
			duplicates(v, p, out)
		}
	case yamlv3.SequenceNode:
		for i, item := range n.Content {
			duplicates(item, path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

package input

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// MaxFileSize is the most loom reads from one input file: 3 MiB, the API server's own limit
// on a request body, so no object larger than this could be applied anyway.
const MaxFileSize = 3 << 20

// ReadFile reads a regular file of at most MaxFileSize bytes. Anything else fails before a
// byte is read: a directory, a named pipe (whose open would wait for a writer), a device
// such as /dev/zero (which never ends), a socket.
func ReadFile(path string) ([]byte, error) {
	// O_NONBLOCK: opening a named pipe must not wait for a writer; Stat then rejects it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(path, info); err != nil {
		return nil, err
	}
	if info.Size() > MaxFileSize {
		return nil, tooLarge(path)
	}
	// The file may have grown since Stat: read one byte past the cap to tell.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(path)
	}
	return data, nil
}

func regular(path string, info fs.FileInfo) error {
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		return nil
	case mode.IsDir():
		return fmt.Errorf("%s: is a directory; expected a YAML or JSON file", path)
	case mode&fs.ModeNamedPipe != 0:
		return fmt.Errorf("%s: is a named pipe; loom reads only regular files (write the input to a file first)", path)
	case mode&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return fmt.Errorf("%s: is a device; loom reads only regular files", path)
	}
	return fmt.Errorf("%s: is not a regular file (%s); loom reads only regular files", path, mode.Type())
}

func tooLarge(path string) error {
	return fmt.Errorf("%s: larger than %d bytes (3 MiB), the most loom reads from one input file", path, MaxFileSize)
}

// ReadValue reads a YAML or JSON file as a JSON value whose integers are int64, as the
// engine and the API server see them (never float64).
func ReadValue(path string) (any, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ReadObject reads a YAML or JSON file that holds one object.
func ReadObject(path string) (map[string]any, error) {
	v, err := ReadValue(path)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected an object", path)
	}
	return obj, nil
}

// Decode decodes YAML or JSON into a JSON value with int64 integers.
func Decode(data []byte) (any, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return DecodeJSON(js)
}

// DecodeJSON decodes JSON into a JSON value with int64 integers.
func DecodeJSON(js []byte) (any, error) {
	var v any
	if err := utiljson.Unmarshal(js, &v); err != nil {
		return nil, err
	}
	return v, nil
}

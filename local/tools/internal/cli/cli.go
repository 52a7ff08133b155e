// Package cli holds what the test tools share: where their input comes from, how Kubernetes objects are read
// from it, how results are printed, and how a tool fails.
package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Input opens path, or stdin when path is empty or "-".
func Input(path string) (io.ReadCloser, error) {
	if path == "" || path == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	return os.Open(path)
}

// InputArg opens the input named by os.Args[i] (a FILE, or "-"), stdin when there is no such argument; more
// arguments than that, or a file that cannot be opened, fail the tool (with its usage line for the former).
func InputArg(tool, usage string, i int) io.ReadCloser {
	if len(os.Args) > i+1 {
		Fail(tool, errors.New("usage: "+usage))
	}
	path := ""
	if len(os.Args) > i {
		path = os.Args[i]
	}
	in, err := Input(path)
	if err != nil {
		Fail(tool, err)
	}
	return in
}

// Objects decodes every document of a JSON or YAML stream (one object, several documents, or a List, whose
// items count one by one), as the API server would hand them out.
func Objects(in io.Reader) ([]*unstructured.Unstructured, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(in), 4096)
	var objects []*unstructured.Unstructured
	for {
		var doc map[string]any
		if err := decoder.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return objects, nil
			}
			return nil, err
		}
		if doc == nil {
			continue // an empty YAML document
		}
		// Round-trip through the unstructured JSON codec so integers are int64, as on a live object.
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range list.Items {
				objects = append(objects, &list.Items[i])
			}
			continue
		}
		objects = append(objects, u)
	}
}

// PrintJSON writes v to stdout as indented JSON, without HTML escaping (messages stay readable).
func PrintJSON(v any) error {
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	out.SetEscapeHTML(false)
	return out.Encode(v)
}

// Fail prints "tool: err" to stderr and exits 1.
func Fail(tool string, err error) {
	fmt.Fprintln(os.Stderr, tool+":", err)
	os.Exit(1)
}

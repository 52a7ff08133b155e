// Command kstatus prints the kstatus verdict (sigs.k8s.io/cli-utils pkg/kstatus/status, the library
// Flux and kpt wait on) of each Kubernetes object it reads, so tests judge our status with the real rules.
//
// Usage: kstatus [FILE]   (FILE or stdin: JSON or YAML, one object, a multi-document stream, or a List)
// Output: a JSON array of {apiVersion, kind, namespace, name, status, message}, in input order.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Message    string `json:"message"`
}

func main() {
	in := io.Reader(os.Stdin)
	if len(os.Args) > 2 {
		fail(errors.New("usage: kstatus [FILE]"))
	}
	if len(os.Args) == 2 && os.Args[1] != "-" {
		f, err := os.Open(os.Args[1])
		if err != nil {
			fail(err)
		}
		defer f.Close()
		in = f
	}
	objects, err := readObjects(in)
	if err != nil {
		fail(err)
	}
	verdicts := make([]verdict, 0, len(objects))
	for _, u := range objects {
		res, err := status.Compute(u)
		if err != nil {
			fail(fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err))
		}
		verdicts = append(verdicts, verdict{
			APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
			Status: res.Status.String(), Message: res.Message,
		})
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	out.SetEscapeHTML(false)
	if err := out.Encode(verdicts); err != nil {
		fail(err)
	}
}

// readObjects decodes every document of the stream; a List contributes its items.
func readObjects(in io.Reader) ([]*unstructured.Unstructured, error) {
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

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kstatus:", err)
	os.Exit(1)
}

// Command kstatus prints the kstatus verdict (sigs.k8s.io/cli-utils pkg/kstatus/status, the library
// Flux and kpt wait on) of each Kubernetes object it reads, so tests judge our status with the real rules.
//
// Usage: kstatus [FILE]   (FILE or stdin: JSON or YAML, one object, a multi-document stream, or a List)
// Output: a JSON array of {apiVersion, kind, namespace, name, status, message}, in input order.
package main

import (
	"fmt"

	"modelkeys.dev/local/tools/internal/cli"
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
	in := cli.InputArg("kstatus", "kstatus [FILE]", 1)
	defer in.Close()
	objects, err := cli.Objects(in)
	if err != nil {
		cli.Fail("kstatus", err)
	}
	verdicts := make([]verdict, 0, len(objects))
	for _, u := range objects {
		res, err := status.Compute(u)
		if err != nil {
			cli.Fail("kstatus", fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err))
		}
		verdicts = append(verdicts, verdict{
			APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
			Status: res.Status.String(), Message: res.Message,
		})
	}
	if err := cli.PrintJSON(verdicts); err != nil {
		cli.Fail("kstatus", err)
	}
}

// kstatus prints the verdict of sigs.k8s.io/cli-utils' kstatus library (the status computation Flux's
// kustomize-controller and helm-controller wait on, and `kubectl`'s cli-utils based tools) for Kubernetes objects
// read as JSON on stdin: one object, a JSON array of objects, or a List (`kubectl get -o json`). One JSON line per
// object on stdout: {"namespace","name","status","message","conditions"}. Used by test/gitops to hold the
// ExposedAPI status model to the library's own reading rather than to our understanding of its rules.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type verdict struct {
	Namespace  string             `json:"namespace"`
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	Message    string             `json:"message"`
	Conditions []status.Condition `json:"conditions"`
}

// objects decodes as the apiserver's clients do (apimachinery's JSON: whole numbers become int64), since kstatus reads
// metadata.generation and status.observedGeneration as int64 and refuses float64.
func objects(input []byte) ([]map[string]interface{}, error) {
	var items []interface{}
	var one map[string]interface{}
	if err := utiljson.Unmarshal(input, &items); err != nil {
		if err := utiljson.Unmarshal(input, &one); err != nil {
			return nil, fmt.Errorf("stdin is neither a JSON object nor an array of objects: %w", err)
		}
		list, isList := one["items"].([]interface{})
		if !isList {
			return []map[string]interface{}{one}, nil
		}
		items = list
	}
	out := make([]map[string]interface{}, 0, len(items))
	for i, item := range items {
		obj, ok := item.(map[string]interface{})
		if !ok {
			return nil, fmt.Errorf("item %d is not a JSON object", i)
		}
		out = append(out, obj)
	}
	return out, nil
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reading stdin: %v\n", err)
		os.Exit(2)
	}
	objs, err := objects(input)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, obj := range objs {
		u := &unstructured.Unstructured{Object: obj}
		res, err := status.Compute(u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s/%s: %v\n", u.GetNamespace(), u.GetName(), err)
			os.Exit(1)
		}
		if err := out.Encode(verdict{Namespace: u.GetNamespace(), Name: u.GetName(), Status: res.Status.String(), Message: res.Message, Conditions: res.Conditions}); err != nil {
			fmt.Fprintf(os.Stderr, "writing stdout: %v\n", err)
			os.Exit(1)
		}
	}
}

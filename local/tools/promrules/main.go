// Command promrules validates a Prometheus rules file with Prometheus' own rule parser
// (model/rulefmt, which also parses every expression and template) and lists the metric names each
// expression selects (promql/parser), so tests can check our alerts against the metrics we export.
//
// Usage: promrules [FILE]   (FILE or stdin: a rules file, or a PrometheusRule object whose spec holds the groups)
// Output: {"groups":[{"name","rules":[{"alert"|"record","expr","metrics":[...]}]}],"metrics":[...]} on success;
// {"errors":[...]} and exit status 1 when the rules are invalid.
package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"modelkeys.dev/local/tools/internal/cli"
	"sigs.k8s.io/yaml"
)

type ruleOut struct {
	Alert   string   `json:"alert,omitempty"`
	Record  string   `json:"record,omitempty"`
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
}

type groupOut struct {
	Name  string    `json:"name"`
	Rules []ruleOut `json:"rules"`
}

type report struct {
	Groups  []groupOut `json:"groups"`
	Metrics []string   `json:"metrics"`
}

func main() {
	in := cli.InputArg("promrules", "promrules [FILE]", 1)
	defer in.Close()
	content, err := io.ReadAll(in)
	if err != nil {
		fail(err)
	}
	content, err = rulesOf(content)
	if err != nil {
		fail(err)
	}
	promql := parser.NewParser(parser.Options{})
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, promql, logger)
	if len(errs) > 0 {
		messages := make([]string, len(errs))
		for i, e := range errs {
			messages[i] = e.Error()
		}
		print(map[string][]string{"errors": messages})
		os.Exit(1)
	}
	out := report{Groups: []groupOut{}, Metrics: []string{}}
	for _, g := range groups.Groups {
		group := groupOut{Name: g.Name, Rules: []ruleOut{}}
		for _, r := range g.Rules {
			expr, err := promql.ParseExpr(r.Expr)
			if err != nil {
				fail(err) // rulefmt already parsed it, so this does not happen
			}
			metrics := metricNames(expr)
			group.Rules = append(group.Rules, ruleOut{Alert: r.Alert, Record: r.Record, Expr: r.Expr, Metrics: metrics})
			out.Metrics = append(out.Metrics, metrics...)
		}
		out.Groups = append(out.Groups, group)
	}
	slices.Sort(out.Metrics)
	out.Metrics = slices.Compact(out.Metrics)
	print(out)
}

// rulesOf returns the rule groups document: the input itself, or the spec of a PrometheusRule.
func rulesOf(content []byte) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, err
	}
	if doc["kind"] != "PrometheusRule" {
		return content, nil
	}
	spec, ok := doc["spec"].(map[string]any)
	if !ok {
		return nil, errors.New("PrometheusRule has no spec")
	}
	return yaml.Marshal(spec)
}

// metricNames lists, sorted and once each, the metric names the expression's selectors name.
func metricNames(expr parser.Expr) []string {
	names := []string{}
	for _, matchers := range parser.ExtractSelectors(expr) {
		for _, m := range matchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				names = append(names, m.Value)
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func print(v any) {
	if err := cli.PrintJSON(v); err != nil {
		fail(err)
	}
}

func fail(err error) { cli.Fail("promrules", err) }

// Command promtext parses Prometheus' text exposition format (what a /metrics endpoint serves) with the parser
// of prometheus/common (expfmt), so tests check that what the operator serves is read as it means it: every
// family once, each sample under its family, label values escaped.
//
// Usage: promtext [FILE]   (FILE or stdin)
// Output: {"families":{"<name>":{"type":"GAUGE","samples":N}}} on success; the parser's error on stderr and exit
// status 1 when the text does not parse.
package main

import (
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"modelkeys.dev/local/tools/internal/cli"
)

type familyOut struct {
	Type    string `json:"type"`
	Samples int    `json:"samples"`
}

func main() {
	in := cli.InputArg("promtext", "promtext [FILE]", 1)
	defer in.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(in)
	if err != nil {
		fail(err)
	}
	out := map[string]familyOut{}
	for name, family := range families {
		out[name] = familyOut{Type: family.GetType().String(), Samples: len(family.GetMetric())}
	}
	if err := cli.PrintJSON(map[string]any{"families": out}); err != nil {
		fail(err)
	}
}

func fail(err error) { cli.Fail("promtext", err) }

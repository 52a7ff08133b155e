// Command argo-health runs an Argo CD health.lua against Kubernetes objects the way Argo CD runs a
// resource.customizations health script (util/lua in Argo CD): gopher-lua with only the package, base
// and table libraries open, the object as the global `obj` (numbers as Lua numbers, arrays 1-based), a
// one-second budget, and the returned table read as {status, message}.
//
// Usage: argo-health HEALTH_LUA [FILE]   (FILE or stdin: JSON or YAML objects, as for kstatus)
// Output: a JSON array of {kind, namespace, name, status, message}, in input order.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"modelkeys.dev/local/tools/internal/cli"
)

type health struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

// The health codes Argo CD accepts; anything else becomes Unknown, as in Argo CD.
var validStatus = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		cli.Fail("argo-health", errors.New("usage: argo-health HEALTH_LUA [FILE]"))
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		cli.Fail("argo-health", err)
	}
	in := cli.InputArg("argo-health", "argo-health HEALTH_LUA [FILE]", 2)
	defer in.Close()
	objects, err := cli.Objects(in)
	if err != nil {
		cli.Fail("argo-health", err)
	}
	results := make([]health, 0, len(objects))
	for _, obj := range objects {
		h, err := run(string(script), obj.Object)
		if err != nil {
			cli.Fail("argo-health", fmt.Errorf("%s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err))
		}
		h.Kind, h.Namespace, h.Name = obj.GetKind(), obj.GetNamespace(), obj.GetName()
		results = append(results, h)
	}
	if err := cli.PrintJSON(results); err != nil {
		cli.Fail("argo-health", err)
	}
}

// run evaluates the script for one object, with the libraries Argo CD opens for custom health scripts.
func run(script string, obj map[string]any) (health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return health{}, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return health{}, err
	}
	returned, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("expect table output from Lua script, not %s", l.Get(-1).Type())
	}
	h := health{Status: lua.LVAsString(returned.RawGetString("status")), Message: lua.LVAsString(returned.RawGetString("message"))}
	if !validStatus[h.Status] {
		h = health{Status: "Unknown", Message: "Lua returned an invalid health status"}
	}
	return h, nil
}

// toLua converts decoded JSON into Lua values as Argo CD's decodeValue does.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case []any:
		table := l.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(l, item))
		}
		return table
	case map[string]any:
		table := l.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(l, item))
		}
		return table
	}
	return lua.LNil
}

#!/usr/bin/env bash
# Builds the Pulumi engine (the `pulumi` CLI the Automation API drives) from the pinned wrapper module
# in this directory, into <cache>/bin/pulumi, keyed by the version and go.sum, and prints <cache>: the layout
# PulumiCommand.get({root}) expects (MODELKEYS_PULUMI_DIR).
# A second run with the same pins reuses the cache and builds nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(grep -oP "github.com/pulumi/pulumi/pkg/v3 \K\S+" "$here/go.mod")
sdk_version=$(grep -oP "github.com/pulumi/pulumi/sdk/v3 \K\S+" "$here/go.mod")
if [[ "$version" != "$sdk_version" ]]; then
  echo "pkg/v3 ($version) and sdk/v3 ($sdk_version) must be pinned at one version" >&2; exit 1
fi
key=$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-12)
out="${MODELKEYS_CACHE:-$HOME/.cache/modelkeys}/pulumi-$version-$key"
if [[ -x "$out/bin/pulumi" ]]; then
  echo "$out"; exit 0
fi
mkdir -p "$out.partial/bin"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"
# Without the version stamp the CLI reports v0.0.0-dev and the Automation API cannot parse it.
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"
echo "building pulumi $version (cold: several minutes)" >&2
(cd "$here" && go build -ldflags "$ldflags" -o "$out.partial/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
rm -rf "$out" && mv "$out.partial" "$out"
echo "$out"

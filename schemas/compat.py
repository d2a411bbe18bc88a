"""Breaking changes to published event schemas.

A version, once its JSON Schema is checked in under `schemas/json/`, is a contract with
every consumer: events of that version sit on topics and in feeds for good. This module
compares each checked-in schema with the one the current code exports and names what
would break a reader or a producer of the published version:

- a property removed, or a property's type changed (the set of JSON types it may take,
  an enum value removed, a `format` added, removed or changed);
- a property newly required (events already published may lack it);
- `additionalProperties` tightened;
- a checked-in version that the code no longer has (the version withdrawn).

Adding an optional property is not breaking: every consumer ignores what it does not know.

python -m schemas.compat [FOLDER]     exit 1 listing every breaking change (default: schemas/json)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from schemas.export import export

Schema = dict[str, Any]

PUBLISHED = Path(__file__).parent / "json"
_VERSIONED = re.compile(r"^(?P<type>.+)\.v(?P<version>\d+)\.json$")
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def breaking_changes(published: Schema, current: Schema) -> list[str]:
    """What `current` breaks of `published`, one line each, e.g. `properties.channel: enum value 'fax' removed`."""
    return list(_compare(published, published, current, current, "$"))


def current_schemas() -> dict[str, Schema]:
    """File name -> JSON Schema, exactly as `python -m schemas.export` writes them now."""
    with tempfile.TemporaryDirectory() as folder:
        return {path.name: json.loads(path.read_text()) for path in export(Path(folder))}


def published_schemas(folder: Path = PUBLISHED) -> dict[str, Schema]:
    """File name -> JSON Schema of every event version (and the envelope) checked in under `folder`."""
    return {
        path.name: json.loads(path.read_text())
        for path in sorted(folder.glob("*.json"))
        if path.name == "envelope.json" or _VERSIONED.match(path.name)
    }


def published_before(revisions: tuple[str, ...] = ("HEAD~1", "HEAD")) -> tuple[str, dict[str, Schema]]:
    """The schemas as of the first of `revisions` that git knows (the last commit before this one,
    else this one), so a breaking change is caught even when the checked-in files were regenerated
    with it; outside a git checkout, the checked-in folder. Returns (where from, schemas)."""
    root = PUBLISHED.parents[1]
    folder = PUBLISHED.relative_to(root).as_posix()
    for revision in revisions:
        listing = subprocess.run(
            ["git", "ls-tree", "--name-only", f"{revision}:{folder}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if listing.returncode != 0:
            continue
        names = [n for n in listing.stdout.split() if n == "envelope.json" or _VERSIONED.match(n)]
        schemas = {}
        for name in names:
            shown = subprocess.run(
                ["git", "show", f"{revision}:{folder}/{name}"], cwd=root, capture_output=True, text=True, check=True
            )
            schemas[name] = json.loads(shown.stdout)
        return revision, schemas
    return "the checked-in folder", published_schemas()


def check(published: Mapping[str, Schema], current: Mapping[str, Schema]) -> dict[str, list[str]]:
    """Every published document with a breaking change -> its changes. New documents are never breaking."""
    found: dict[str, list[str]] = {}
    for name, schema in sorted(published.items()):
        if name not in current:
            found[name] = [f"{_label(name)}: version withdrawn (checked in, but no longer in schemas.registry)"]
        elif changes := breaking_changes(schema, current[name]):
            found[name] = [f"{_label(name)}: {change}" for change in changes]
    return found


def _label(name: str) -> str:
    match = _VERSIONED.match(name)
    return f"{match['type']} v{match['version']}" if match else name.removesuffix(".json")


def _compare(old_doc: Schema, old: Schema, new_doc: Schema, new: Schema, path: str) -> Iterator[str]:
    old_variants = _variants(old_doc, old)
    new_variants = _variants(new_doc, new)
    old_types, new_types = set(old_variants), set(new_variants)
    if old_types != new_types:
        yield f"{path}: type changed from {_types(old_types)} to {_types(new_types)}"
    for json_type in sorted(old_types & new_types):
        yield from _compare_variant(old_doc, old_variants[json_type], new_doc, new_variants[json_type], path)


def _compare_variant(old_doc: Schema, old: Schema, new_doc: Schema, new: Schema, path: str) -> Iterator[str]:
    if "enum" in old or "enum" in new:
        old_values, new_values = old.get("enum"), new.get("enum")
        if old_values is None:
            yield f"{path}: restricted to enum {new_values}"
        elif new_values is not None:
            for value in old_values:
                if value not in new_values:
                    yield f"{path}: enum value {value!r} removed"
    if "const" in new and old.get("const") != new["const"]:
        yield f"{path}: const changed from {old.get('const')!r} to {new['const']!r}"
    if old.get("format") != new.get("format"):
        yield f"{path}: format changed from {old.get('format')!r} to {new.get('format')!r}"
    if "items" in old or "items" in new:
        yield from _compare(old_doc, old.get("items", {}), new_doc, new.get("items", {}), f"{path}[]")
    if "properties" in old or "properties" in new or "required" in new:
        yield from _compare_object(old_doc, old, new_doc, new, path)


def _compare_object(old_doc: Schema, old: Schema, new_doc: Schema, new: Schema, path: str) -> Iterator[str]:
    old_properties: Schema = old.get("properties", {})
    new_properties: Schema = new.get("properties", {})
    for name, schema in old_properties.items():
        where = f"{path}.{name}" if path != "$" else name
        if name not in new_properties:
            yield f"{where}: property removed"
        else:
            yield from _compare(old_doc, schema, new_doc, new_properties[name], where)
    old_required = set(old.get("required", []))
    for name in new.get("required", []):
        if name not in old_required:
            where = f"{path}.{name}" if path != "$" else name
            yield f"{where}: newly required"
    yield from _compare_additional(old_doc, old, new_doc, new, path)


def _compare_additional(old_doc: Schema, old: Schema, new_doc: Schema, new: Schema, path: str) -> Iterator[str]:
    """`additionalProperties` absent means `true`; `false`, or a schema where there was none, is tighter."""
    old_extra = old.get("additionalProperties", True)
    new_extra = new.get("additionalProperties", True)
    if new_extra is True or old_extra is False:
        return
    if new_extra is False or old_extra is True:
        yield f"{path}: additionalProperties tightened from {json.dumps(old_extra)} to {json.dumps(new_extra)}"
    else:
        yield from _compare(old_doc, old_extra, new_doc, new_extra, f"{path}{{*}}")


def _variants(document: Schema, schema: Schema) -> dict[str, Schema]:
    """The branches of `schema` by JSON type, with `$ref` resolved and `anyOf`/`oneOf` flattened:
    `str | None` is {"string": ..., "null": ...}. A branch that allows anything is type "any"."""
    schema = _resolve(document, schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        merged: dict[str, Schema] = {}
        for branch in branches:
            merged |= _variants(document, branch)
        return merged
    declared = schema.get("type")
    if isinstance(declared, list):
        return {json_type: schema | {"type": json_type} for json_type in declared}
    if isinstance(declared, str):
        return {declared: schema}
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if values:
        return dict.fromkeys({_JSON_TYPES.get(type(value), "object") for value in values}, schema)
    return {"any": schema}


def _resolve(document: Schema, schema: Schema) -> Schema:
    """`schema` with a local `$ref` (`#/$defs/Name`) replaced by its target, its own keywords kept."""
    seen: set[str] = set()
    while isinstance(ref := schema.get("$ref"), str) and ref.startswith("#/") and ref not in seen:
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = target | {key: value for key, value in schema.items() if key != "$ref"}
    return schema


def _types(types: set[str]) -> str:
    return " | ".join(sorted(types))


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else PUBLISHED
    found = check(published_schemas(folder), current_schemas())
    for changes in found.values():
        for change in changes:
            print(change)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()

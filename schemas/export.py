"""Write the JSON Schema of the envelope and of every event type and version.

python -m schemas.export [OUT_DIR]     (default: schemas/json)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from schemas.envelope import Envelope
from schemas.registry import EVENT_TYPES


def export(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    documents = {"envelope.json": Envelope.model_json_schema()}
    for model in EVENT_TYPES:
        schema = model.model_json_schema()
        schema["$id"] = f"urn:servicedesk:event:{model.event_type}:v{model.event_version}"
        documents[f"{model.event_type}.v{model.event_version}.json"] = schema
    for name, schema in documents.items():
        path = out_dir / name
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "json"
    for path in export(out_dir):
        print(path)


if __name__ == "__main__":
    main()

"""The scheme format as JSON Schema (draft-07), for editors' completion and validation."""

from __future__ import annotations

import json
from typing import Any

from chs.scheme.model import Scheme


def json_schema() -> dict[str, Any]:
    """The scheme's JSON Schema as draft-07, which yaml-language-server reads for completion."""
    schema = Scheme.model_json_schema(by_alias=True)
    text = json.dumps(schema).replace("#/$defs/", "#/definitions/")
    schema = json.loads(text)
    schema["definitions"] = schema.pop("$defs", {})

    def to_draft7(node: Any) -> Any:
        if isinstance(node, dict):
            if "patternProperties" in node and len(node["patternProperties"]) == 1:
                # draft-07 has propertyNames: refuse names chs refuses (a tab, a space at an end).
                (pattern,) = node["patternProperties"]
                node["propertyNames"] = {**node.get("propertyNames", {}), "pattern": pattern}
            if "prefixItems" in node:  # 2020-12 tuples -> draft-07 array form
                node["items"] = node.pop("prefixItems")
                node["additionalItems"] = False
            return {k: to_draft7(v) for k, v in node.items()}
        if isinstance(node, list):
            return [to_draft7(v) for v in node]
        return node

    schema = to_draft7(schema)
    return {"$schema": "http://json-schema.org/draft-07/schema#", **schema}

"""Published contracts generated from the code: JSON Schemas per event, AsyncAPI, OpenAPI.

The pydantic models are the one source of truth; the files under ``schemas/`` are
generated from them (``aftercare schemas``) and a test fails when they drift. Event
schemas are draft 2020-12 documents written in the subset draft-07 tools also accept
(AsyncAPI 3 only promises draft-07): no ``$defs``, every ``$ref`` inlined.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PERSONAL_MARKER = "x-personal-data"


def _inline(node: Any, definitions: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        target = _inline(copy.deepcopy(definitions[name]), definitions)
        siblings = {
            key: _inline(value, definitions) for key, value in node.items() if key != "$ref"
        }
        return {**target, **siblings}
    return {key: _inline(value, definitions) for key, value in node.items()}


def _remove(schema: dict[str, Any], path: Sequence[str]) -> None:
    head, *rest = path
    properties = schema.get("properties", {})
    if not rest:
        properties.pop(head, None)
        if head in schema.get("required", []):
            schema["required"] = [name for name in schema["required"] if name != head]
        return
    child = properties.get(head)
    if child is None:
        return
    for option in child.get("anyOf", [child]):
        if option.get("type") == "object":
            _remove(option, rest)


def event_schema(
    model: type[BaseModel],
    schema_id: str,
    *,
    removed: Iterable[Sequence[str]] = (),
) -> dict[str, Any]:
    """The wire schema of ``model``: self-contained, with ``removed`` fields left out.

    Fields removed because they are personal data (P-PII) are listed under
    ``x-personal-data-removed`` so integrators know they exist and where to ask.
    """
    generated = model.model_json_schema(mode="serialization")
    definitions = generated.pop("$defs", {})
    body: dict[str, Any] = _inline(generated, definitions)
    removed_paths = [list(path) for path in removed]
    for path in removed_paths:
        _remove(body, path)
    document: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "$id": schema_id, **body}
    if removed_paths:
        document["x-personal-data-removed"] = [".".join(path) for path in removed_paths]
    return document


@dataclass(frozen=True)
class MessageContract:
    """One CloudEvents type on one topic, for the AsyncAPI document."""

    name: str
    ce_type: str
    schema_file: str
    summary: str


@dataclass(frozen=True)
class ChannelContract:
    name: str
    address: str
    description: str
    key: str
    source: str
    producer: str
    messages: list[MessageContract] = field(default_factory=list)


def _cloudevents_headers(source: str) -> dict[str, Any]:
    def text(description: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", "description": description, **extra}

    return {
        "type": "object",
        "description": "CloudEvents 1.0 attributes in Kafka binary content mode.",
        "required": [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_time",
            "ce_subject",
            "content-type",
        ],
        "properties": {
            "ce_specversion": text("CloudEvents version.", const="1.0"),
            "ce_id": text("Event id (UUID). Unique: de-duplicate on it.", format="uuid"),
            "ce_source": text("Producing service.", const=source),
            "ce_type": text("com.aftercare.<service>.<EventName>.v<version>"),
            "ce_time": text("When it happened in the world (RFC 3339).", format="date-time"),
            "ce_subject": text("Ticket id; also the message key."),
            "ce_sequence": text(
                "Position of the event in its ticket's stream (1, 2, 3, ...), as a decimal "
                "string: gaps or repeats tell a consumer it missed or re-read something."
            ),
            "ce_dataschema": text("URI of the JSON Schema of the value.", format="uri"),
            "content-type": text("Media type of the value.", const="application/json"),
        },
    }


def asyncapi_document(
    *,
    title: str,
    version: str,
    description: str,
    channels: Sequence[ChannelContract],
    servers: Mapping[str, str],
) -> dict[str, Any]:
    """An AsyncAPI 3.0 document: one channel per topic, one message per event type."""
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {"title": title, "version": version, "description": description},
        "defaultContentType": "application/json",
        "servers": {
            name: {"host": host, "protocol": "kafka", "description": name}
            for name, host in servers.items()
        },
        "channels": {},
        "operations": {},
        "components": {"messages": {}, "messageTraits": {}},
    }
    for channel in channels:
        trait_name = f"{channel.name}CloudEvent"
        document["components"]["messageTraits"][trait_name] = {
            "headers": _cloudevents_headers(channel.source),
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": channel.key},
                    "bindingVersion": "0.5.0",
                }
            },
        }
        messages: dict[str, Any] = {}
        for message in channel.messages:
            document["components"]["messages"][message.name] = {
                "name": message.ce_type,
                "title": message.name,
                "summary": message.summary,
                "contentType": "application/json",
                "traits": [{"$ref": f"#/components/messageTraits/{trait_name}"}],
                "payload": {"$ref": message.schema_file},
            }
            messages[message.name] = {"$ref": f"#/components/messages/{message.name}"}
        document["channels"][channel.name] = {
            "address": channel.address,
            "description": channel.description,
            "messages": messages,
            "bindings": {"kafka": {"topic": channel.address, "bindingVersion": "0.5.0"}},
        }
        document["operations"][f"publish{channel.name[0].upper()}{channel.name[1:]}"] = {
            "action": "send",
            "summary": f"{channel.producer} publishes here.",
            "channel": {"$ref": f"#/channels/{channel.name}"},
            "messages": [
                {"$ref": f"#/channels/{channel.name}/messages/{message.name}"}
                for message in channel.messages
            ],
        }
    return document


def render_json(document: Mapping[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"


def render_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=100)


def stale_files(files: Mapping[Path, str]) -> list[Path]:
    """The files that are missing or differ from ``files``."""
    return [
        path
        for path, content in files.items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]


def write_files(files: Mapping[Path, str]) -> list[Path]:
    """Write the files whose content changed; returns them."""
    changed = stale_files(files)
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
    return changed

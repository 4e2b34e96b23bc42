#!/usr/bin/env python3
"""Validates every message example of docs/asyncapi.json against its message's schemas.

Each example's payload is checked against the message's `payload` schema, and its `headers` (when both the
example and the message have them) against the message's `headers` schema, with JSON Schema draft-07 and
`$ref`s to `#/components/...` resolved inside the document. The schemas under `components.schemas` are
checked to be valid draft-07 schemas first.

Prints one line per example (`ok practice.sms.sent example 1`, or `FAIL ...` with the reasons), then
`N passed, M failed`; exits 1 when anything failed.

Usage: python3 docs/validate-asyncapi.py [path/to/asyncapi.json]
Needs the `jsonschema` package (4.18 or later, for `referencing`).
"""

import json
import sys
from pathlib import Path

from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

DOCUMENT_URI = "urn:commlog:asyncapi"


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "asyncapi.json"
    document = json.loads(path.read_text(encoding="utf-8"))

    # The whole document is one resource, so that "#/components/schemas/X" resolves inside it.
    registry = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT7))

    def validator(pointer: str) -> Draft7Validator:
        return Draft7Validator(
            {"$ref": f"{DOCUMENT_URI}#{pointer}"},
            registry=registry,
            format_checker=Draft7Validator.FORMAT_CHECKER,
        )

    passed = failed = 0

    def report(ok: bool, label: str, problems: list[str]) -> None:
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok {label}")
        else:
            failed += 1
            print(f"FAIL {label}")
            for problem in problems:
                print(f"    {problem}")

    for name, schema in document.get("components", {}).get("schemas", {}).items():
        try:
            Draft7Validator.check_schema(schema)
        except Exception as error:  # jsonschema.SchemaError, reported with the rest
            report(False, f"schema {name}", [str(error).splitlines()[0]])

    channels = document.get("channels", {})
    for channel_name, channel in channels.items():
        references = {
            operation["message"]["$ref"]
            for key in ("publish", "subscribe")
            if (operation := channel.get(key)) and "$ref" in operation.get("message", {})
        }
        if not references:
            report(False, f"{channel_name} operations", ["the channel has no operation referring to a message"])
        for reference in sorted(references):
            message_name = reference.rsplit("/", 1)[-1]
            message = document["components"]["messages"].get(message_name)
            if message is None:
                report(False, f"{channel_name} message", [f"{reference} does not exist"])
                continue
            pointer = f"/components/messages/{message_name}"
            examples = message.get("examples", [])
            if not examples:
                report(False, f"{channel_name} examples", ["the message has no example"])
            for index, example in enumerate(examples, start=1):
                problems = []
                if "payload" not in example:
                    problems.append("the example has no payload")
                else:
                    problems += [
                        f"payload{location(error.absolute_path)}: {error.message}"
                        for error in validator(pointer + "/payload").iter_errors(example["payload"])
                    ]
                    if message.get("contentType") == "application/json" and isinstance(example["payload"], dict):
                        if example["payload"].get("type") != channel_name:
                            problems.append(f"payload.type: {example['payload'].get('type')!r} is not the routing key")
                if "headers" in example and "headers" in message:
                    problems += [
                        f"headers{location(error.absolute_path)}: {error.message}"
                        for error in validator(pointer + "/headers").iter_errors(example["headers"])
                    ]
                report(not problems, f"{channel_name} example {index}", problems)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def location(path) -> str:
    """A JSON path suffix such as `.data.to[1]`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


if __name__ == "__main__":
    sys.exit(main())

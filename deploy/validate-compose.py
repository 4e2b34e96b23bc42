#!/usr/bin/env python3
"""Checks docker-compose.yml offline (no Docker engine runs here): it is valid YAML, every secret is
required (`${VAR:?message}`, never a default), with the secrets set every variable resolves, as
`docker compose config` would resolve it, and the resolved file is valid against the Compose Specification's
schema (check-jsonschema's bundled copy, `--builtin-schema vendor.compose-spec`)."""
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml

SECRETS = {"PG_SUPERUSER_PASSWORD", "PG_OWNER_PASSWORD", "PG_APP_PASSWORD", "AMQP_PASSWORD", "QUERY_API_JWT_SECRET", "MAILBOX_SECRET_KEY"}
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")

text = (pathlib.Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()
problems = []


def resolve(value, environment):
    """Interpolates one string the way compose does for ${VAR}, ${VAR:-default} and ${VAR:?message}."""
    def replace(match):
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        if environment.get(name):
            return environment[name]
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            raise LookupError(f"{name}: {argument}")
        return ""
    return VARIABLE.sub(replace, value)


for match in VARIABLE.finditer(text):
    name, operator = match.group(1), match.group(2)
    if name in SECRETS and operator != ":?":
        problems.append(f"{name} must be required (${{{name}:?message}}), not {match.group(0)}")
    if operator == ":?" and not match.group(3).strip():
        problems.append(f"{name} is required but says nothing about how to set it")
missing = SECRETS - {m.group(1) for m in VARIABLE.finditer(text)}
if missing:
    problems.append(f"secrets never used: {sorted(missing)}")

document = yaml.safe_load(text)
for name in ("postgres", "rabbitmq", "migrate", "query-api", "call-bridge", "reminder-logger", "email-ingestor"):
    if name not in document.get("services", {}):
        problems.append(f"service {name} is missing")

try:
    resolve(text, {})
    problems.append("compose would start without its secrets")
except LookupError as error:
    if "set " not in str(error):
        problems.append(f"the refusal does not say what to set: {error}")

resolved = resolve(text, {name: "x" * 32 for name in SECRETS})
if VARIABLE.search(resolved):
    problems.append("variables remain after interpolation")
yaml.safe_load(resolved)

# The Compose Specification's schema, on the file as compose would read it (the interpolated one).
with tempfile.NamedTemporaryFile("w", suffix=".yml") as interpolated:
    interpolated.write(resolved)
    interpolated.flush()
    checked = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                              interpolated.name], capture_output=True, text=True)
    if checked.returncode != 0:
        report = (checked.stdout + checked.stderr).replace(interpolated.name, "docker-compose.yml (interpolated)")
        problems.append("not valid against the Compose Specification:\n    " + "\n    ".join(report.strip().splitlines()))

if problems:
    print("docker-compose.yml:\n  " + "\n  ".join(problems))
    sys.exit(1)
print("docker-compose.yml: valid (Compose Specification schema); secrets required")

"""Checks deploy/prometheus/alerts.yml and deploy/grafana/commlog.json against the metrics the programs export:
every metric an alert or a panel reads must be one a program declares (a Swift `label:` of swift-metrics, a
process metric, Hummingbird's request metrics as Observability names them) or RabbitMQ's / Prometheus's own.
The dashboard must be valid JSON with a query in every panel. `promtool check rules` checks the rules' syntax
(make test runs both)."""

import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = [*ROOT.glob("Services/**/*.swift"), *ROOT.glob("Shared/**/*.swift")]

declared = set()
for source in SOURCES:
    text = source.read_text()
    declared.update(re.findall(r'(?:Counter|Gauge|Timer|Recorder|Meter)\(\s*label:\s*"([a-z0-9_.]+)"', text))
    declared.update(re.findall(r'makeGauge\(\s*name:\s*"([a-z0-9_]+)"', text))
    # Observability's renaming of Hummingbird's metrics: "hb.requests": "http_requests_total".
    declared.update(re.findall(r'"[a-z.]+":\s*"((?:http|hb)_[a-z0-9_]+)"', text))
declared = {name.replace(".", "_") for name in declared}
declared.add("http_server_active_requests")  # Hummingbird's http.server.active_requests, dots made underscores

EXTERNAL = re.compile(r"^(rabbitmq_|up$)")
METRIC = re.compile(r"\b((?:commlog|http|process|rabbitmq)_[a-z0-9_]+|up)\b(?=\s*(?:\{|\[|\)|$| [<>=!]))")


def base(name):
    return re.sub(r"_(bucket|sum|count)$", "", name)


def check(expression, where, problems):
    # Label names of `by (...)`, `without (...)` and `{...}` are not metrics.
    bare = re.sub(r"\{[^}]*\}", "{}", re.sub(r"\b(?:by|without)\s*\([^)]*\)", "", expression))
    names = METRIC.findall(bare)
    if not names:
        problems.append(f"{where}: no metric in {expression!r}")
    for name in names:
        if not (EXTERNAL.match(name) or name in declared or base(name) in declared):
            problems.append(f"{where}: {name} is not a metric any program exports")


problems = []
rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
alerts = [rule for group in rules["groups"] for rule in group["rules"]]
for rule in alerts:
    check(rule["expr"], f"alert {rule['alert']}", problems)
dashboard = json.loads((ROOT / "deploy/grafana/commlog.json").read_text())
panels = dashboard["panels"]
for panel in panels:
    targets = panel.get("targets") or []
    if not targets:
        problems.append(f"panel {panel.get('title')!r}: no query")
    for target in targets:
        check(target["expr"], f"panel {panel.get('title')!r}", problems)
for problem in problems:
    print(problem, file=sys.stderr)
print(f"monitoring: {len(alerts)} alerts and {len(panels)} panels read {len(declared)} declared metrics; {len(problems)} problems")
sys.exit(1 if problems else 0)

#!/usr/bin/env python3
"""Checks the kustomize base in deploy/kubernetes offline (no cluster here):

1. Renders it. kustomization.yaml lists only `resources:`, so the script loads each listed file's YAML documents
   itself (kustomize is not installed on the development machines); when kubectl is on PATH it also runs
   `kubectl kustomize` and requires the same objects.
2. Core kinds against Kubernetes' own schemas (kubernetes-validate, which bundles them; strict: unknown fields fail),
   for KUBERNETES_VERSION.
3. KEDA kinds (ScaledObject, TriggerAuthentication) against deploy/kubernetes/schemas/ (written from KEDA's CRDs).
4. The project's rules: every container runs as a numeric non-root user on a read-only root filesystem, without
   privilege escalation or capabilities, with requests and a memory limit; every program has /healthz liveness and
   /readyz readiness probes on its COMMLOG_HTTP_PORT, and logs JSON; no environment value or ConfigMap entry looks like
   a secret (secrets only as *_FILE paths into the read-only Secret mount /run/secrets/commlog/); every ScaledObject
   reads one of the programs' queues (Shared/Runtime/CommlogQueues.swift) and scales that queue's program.

    python3 deploy/validate-kubernetes.py [FOLDER]      FOLDER defaults to deploy/kubernetes
"""
import json
import pathlib
import re
import shutil
import subprocess
import sys

import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.30.0"
ROOT = pathlib.Path(__file__).resolve().parent.parent
BASE = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "deploy" / "kubernetes"
PROGRAMS = {"query-api": 8080, "call-bridge": 8081, "reminder-logger": 8082, "email-ingestor": 8083}
SECRET_MOUNT = "/run/secrets/commlog"
# The keys whose values are secrets (ConfigurationKey's `secret: true`, and what the _FILE variants cover).
SECRET_KEYS = {"COMMLOG_AMQP_URL", "COMMLOG_DATABASE_URL", "COMMLOG_DATABASE_OWNER_URL", "COMMLOG_DATABASE_READ_URL",
               "COMMLOG_JWT_SECRET", "COMMLOG_SECRET_KEY", "COMMLOG_SECRET_KEY_PREVIOUS"}
KEDA_SCHEMAS = {"ScaledObject": "keda-scaledobject.json", "TriggerAuthentication": "keda-triggerauthentication.json"}

problems = []


def problem(where, message):
    problems.append(f"{where}: {message}")


def documents(path):
    return [document for document in yaml.safe_load_all(path.read_text()) if document is not None]


# 1. Render.
kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
unread = set(kustomization) - {"apiVersion", "kind", "resources"}
if unread:
    problem("kustomization.yaml", f"{sorted(unread)}: this script renders `resources:` only; teach it these first")
objects = []
for resource in kustomization.get("resources", []):
    objects += documents(BASE / resource)
if shutil.which("kubectl"):
    rendered = subprocess.run(["kubectl", "kustomize", str(BASE)], capture_output=True, text=True)
    if rendered.returncode != 0:
        problem("kubectl kustomize", rendered.stderr.strip())
    else:
        key = lambda o: (o["kind"], o["metadata"]["name"])
        theirs = sorted((o for o in yaml.safe_load_all(rendered.stdout) if o), key=key)
        if theirs != sorted(objects, key=key):
            problem("kubectl kustomize", "renders other objects than the files list (a transformer this script does not apply?)")
names = {(o.get("kind"), o.get("metadata", {}).get("name")) for o in objects}
by_kind = lambda kind: [o for o in objects if o.get("kind") == kind]

# 2 and 3. Schemas (the Secret example too, though it is not applied).
for o in objects + documents(BASE / "secret.example.yaml"):
    where = f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"
    if o.get("kind") in KEDA_SCHEMAS:
        schema = json.loads((BASE / "schemas" / KEDA_SCHEMAS[o["kind"]]).read_text())
        for error in jsonschema.Draft202012Validator(schema).iter_errors(o):
            problem(where, f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}")
        continue
    try:
        kubernetes_validate.validate(o, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        problem(where, f"{'.'.join(map(str, error.path)) or '(top)'}: {error.message}")
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
        problem(where, str(error))


# 4. Rules.
def looks_secret(value):
    """A password in a URL, or a long run of key-like characters (hex, base64) that is not a plain file path."""
    if re.search(r"://[^/@\s]*:[^/@\s]+@", value):
        return True
    return bool(re.fullmatch(r"[A-Za-z0-9+/_=-]{32,}", value)) and not re.fullmatch(r"(/[a-z0-9._-]+)+", value)


configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in by_kind("ConfigMap")}
for name, data in configmaps.items():
    for key, value in data.items():
        if key in SECRET_KEYS or looks_secret(str(value)):
            problem(f"ConfigMap/{name}", f"{key} holds a secret: give it as a file (*_FILE) from the Secret")

workloads = [(o, o["spec"]["template"]["spec"]) for o in by_kind("Deployment")]
workloads += [(o, o["spec"]["template"]["spec"]) for o in by_kind("Job")]
for workload, pod in workloads:
    where = f"{workload['kind']}/{workload['metadata']['name']}"
    pod_security = pod.get("securityContext", {})
    if pod_security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problem(where, "the pod needs seccompProfile RuntimeDefault")
    secret_items = {}
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            secret_items[volume["name"]] = {item["path"] for item in volume["secret"].get("items", [])}
    for container in pod.get("containers", []) + pod.get("initContainers", []):
        here = f"{where} container {container['name']}"
        security = container.get("securityContext", {})
        effective = lambda field: security.get(field, pod_security.get(field))
        if effective("runAsNonRoot") is not True:
            problem(here, "runAsNonRoot must be true")
        user = effective("runAsUser")
        if not isinstance(user, int) or user == 0:
            problem(here, f"runAsUser must be a numeric non-root user (is {user!r})")
        if security.get("readOnlyRootFilesystem") is not True:
            problem(here, "readOnlyRootFilesystem must be true")
        if security.get("allowPrivilegeEscalation") is not False:
            problem(here, "allowPrivilegeEscalation must be false")
        if security.get("capabilities", {}).get("drop") != ["ALL"]:
            problem(here, "capabilities must drop ALL")
        resources = container.get("resources", {})
        for needed in ("requests.cpu", "requests.memory", "limits.memory"):
            section, resource = needed.split(".")
            if resource not in resources.get(section, {}):
                problem(here, f"resources.{needed} is missing")
        # The environment: no secret values; *_FILE paths lead into the read-only Secret mount, to a mounted key.
        mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
        environment = {}
        for ref in container.get("envFrom", []):
            environment.update(configmaps.get(ref.get("configMapRef", {}).get("name"), {}))
        for variable in container.get("env", []):
            name, value = variable["name"], variable.get("value")
            if name in SECRET_KEYS:
                problem(here, f"{name} is given directly: give {name}_FILE, a path under {SECRET_MOUNT}/")
            elif "valueFrom" in variable and "secretKeyRef" in variable["valueFrom"]:
                problem(here, f"{name} comes from a Secret as a value: mount the Secret and give a *_FILE path")
            elif value is not None and looks_secret(value):
                problem(here, f"{name} looks like a secret: give it as a file (*_FILE)")
            if name.endswith("_FILE") and name[:-5] in SECRET_KEYS:
                path = pathlib.PurePosixPath(value or "")
                mount = mounts.get(str(path.parent))
                if str(path.parent) != SECRET_MOUNT or not mount or not mount.get("readOnly"):
                    problem(here, f"{name} must name a file in the read-only mount {SECRET_MOUNT}/")
                elif path.name not in secret_items.get(mount["name"], set()):
                    problem(here, f"{name}: {path.name} is not among the Secret's items mounted there")
            if value is not None:
                environment[name] = value
        if workload["kind"] != "Deployment":
            continue
        program = container.get("command", [None])[0]
        if program not in PROGRAMS:
            problem(here, f"runs {program!r}, not one of {sorted(PROGRAMS)}")
            continue
        port = int(environment.get("COMMLOG_HTTP_PORT", PROGRAMS[program]))
        if port != PROGRAMS[program]:
            problem(here, f"COMMLOG_HTTP_PORT {port} is not {program}'s {PROGRAMS[program]}")
        for key, wanted in (("COMMLOG_HTTP_HOST", "0.0.0.0"), ("COMMLOG_LOG_FORMAT", "json")):
            if environment.get(key) != wanted:
                problem(here, f"{key} must be {wanted} (is {environment.get(key)!r})")
        ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container.get(probe, {}).get("httpGet", {})
            probe_port = ports.get(get.get("port"), get.get("port"))
            if get.get("path") != path or probe_port != port:
                problem(here, f"{probe} must GET {path} on port {port} (is {get.get('path')!r} on {probe_port!r})")

# Services, autoscalers and budgets point at what exists.
for service in by_kind("Service"):
    selector = service["spec"].get("selector", {})
    if not any(selector.items() <= d["spec"]["template"]["metadata"]["labels"].items() for d in by_kind("Deployment")):
        problem(f"Service/{service['metadata']['name']}", "selects no Deployment's pods")

queues = re.findall(r'\(name: "([^"]+)"', (ROOT / "Shared/Runtime/CommlogQueues.swift").read_text())
if len(queues) < 4:
    problem("CommlogQueues.swift", f"found only {queues}: has the declaration changed shape?")
for scaled in by_kind("ScaledObject"):
    where = f"ScaledObject/{scaled['metadata']['name']}"
    target = scaled["spec"]["scaleTargetRef"]["name"]
    if ("Deployment", target) not in names:
        problem(where, f"scales {target}, which is not a Deployment here")
    if target == "call-bridge" and scaled["spec"].get("minReplicaCount", 0) < 2:
        problem(where, "call-bridge takes webhooks: minReplicaCount must be 2 or more")
    for trigger in scaled["spec"]["triggers"]:
        queue = trigger.get("metadata", {}).get("queueName")
        if trigger["type"] == "rabbitmq" and queue not in queues:
            problem(where, f"queue {queue!r} is none of the programs' queues {queues}")
        elif trigger["type"] == "rabbitmq" and queue.split(".")[0] != target:
            problem(where, f"queue {queue} belongs to {queue.split('.')[0]}, not to {target}")
        reference = trigger.get("authenticationRef", {}).get("name")
        if reference and ("TriggerAuthentication", reference) not in names:
            problem(where, f"authenticationRef {reference} is not a TriggerAuthentication here")
for hpa in by_kind("HorizontalPodAutoscaler"):
    target = hpa["spec"]["scaleTargetRef"]["name"]
    if ("Deployment", target) not in names:
        problem(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}", f"scales {target}, which is not a Deployment here")
    if any(s["spec"]["scaleTargetRef"]["name"] == target for s in by_kind("ScaledObject")):
        problem(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}", f"{target} is scaled by KEDA too")

if problems:
    print(f"{BASE}:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"{BASE.relative_to(ROOT) if BASE.is_relative_to(ROOT) else BASE}: {len(objects)} objects valid "
      f"(Kubernetes {KUBERNETES_VERSION} strict, KEDA schemas, project rules)")

"""What the browser tests' fixtures (conftest.py) are made of: the real programs, a seeded directory, tokens, a
small JSON client, call webhooks, axe-core and screenshots. Tests may import from here (`from harness import
wait_until`): pytest puts this folder on sys.path."""

from __future__ import annotations

import base64
import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parents[2]
LOGS = ROOT / ".data" / "logs"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1, message: str = "condition") -> Any:
    """Calls `predicate` until it returns something truthy (returned) or `timeout` seconds pass (AssertionError)."""
    deadline = time.monotonic() + timeout
    last_error: Optional[BaseException] = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # noqa: BLE001 - reported if it never succeeds
            last_error = error
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {message}{detail}")
        time.sleep(interval)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- the programs ----------------------------------------------------------------------------------------------


def free_port() -> int:
    """A port free now, below the kernel's ephemeral range: a port bind(0) hands out can be taken again as the local
    port of an outgoing connection before the program binds it (Tests/Support/ProgramProcess.swift found that)."""
    try:
        ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_start = 32768
    rng = secrets.SystemRandom()
    # The stack's fixed ports (COMMLOG_TEST_*_PORT), free while their server is not running, are never handed out.
    stack_ports = {int(value) for key, value in os.environ.items()
                   if key.startswith("COMMLOG_TEST_") and key.endswith("_PORT") and value.isdigit()}
    while True:
        port = rng.randint(10_000, max(10_100, ephemeral_start - 1))
        if port in stack_ports:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if port not in _handed_out:
            _handed_out.add(port)
            return port


_handed_out: set[int] = set()


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when pytest dies, even by SIGKILL (prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def http_status(url: str, timeout: float = 2.0) -> Optional[int]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


class Program:
    """One of the built programs, run with `env`, its output appended to `.data/logs/browser-<name>.log`."""

    def __init__(self, name: str, bin_dir: str, env: dict[str, str], port: int):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = LOGS / f"browser-{name}.log"
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"=== browser tests: starting {name} on port {port}, {datetime.now():%Y-%m-%d %H:%M:%S} ===\n".encode())
        log.flush()
        self.log_start = log.tell()  # where this run's output begins
        self.process = subprocess.Popen(
            [os.path.join(bin_dir, name)], cwd=ROOT, env={**env, "COMMLOG_HTTP_PORT": str(port)},
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
        )
        log.close()

    def tail(self, lines: int = 40) -> str:
        """The last lines this run of the program wrote."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self.log_start)
                return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, deadline: float) -> None:
        while http_status(self.url + "/readyz") != 200:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during startup (status {self.process.returncode}); "
                                   f"{self.log_path}:\n{self.tail()}")
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{self.name} did not answer GET /readyz with 200 on port {self.port}; "
                                   f"{self.log_path}:\n{self.tail()}")
            time.sleep(0.2)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Programs:
    """query-api, call-bridge and reminder-logger, running for the session. `env` is what they got (the stack's environment, the
    session's secrets, their URLs): what `commlog` commands of the session run with."""

    query_api: Program
    call_bridge: Program
    reminder_logger: Program
    env: dict[str, str]
    jwt_secret: str
    secret_key: str
    bin_dir: str

    @property
    def query_api_url(self) -> str:
        return self.query_api.url

    @property
    def call_bridge_url(self) -> str:
        return self.call_bridge.url

    def commlog(self, *args: str, input: Optional[str] = None) -> str:
        """Runs `$COMMLOG_BIN/commlog args...` with the session's environment; returns its standard output."""
        result = subprocess.run([os.path.join(self.bin_dir, "commlog"), *args], env=self.env, input=input,
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"commlog {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def stop(self) -> None:
        """Stops both; raises if one had exited on its own meanwhile (a crash the tests may not have noticed)."""
        programs = (self.query_api, self.call_bridge, self.reminder_logger)
        crashed = [program for program in programs if program.process.poll() is not None]
        for program in programs:
            program.stop()
        if crashed:
            raise RuntimeError("\n".join(f"{program.name} exited during the tests (status {program.process.returncode}); "
                                         f"{program.log_path}:\n{program.tail()}" for program in crashed))


def start_programs(ready_timeout: float = 60.0, extra_env: Optional[dict[str, str]] = None) -> Programs:
    """Starts query-api, call-bridge and reminder-logger (which logs what `commlog demo-data` publishes) on free ports with the stack's environment, a new JWT secret and
    secret key, and `extra_env`; returns once both answer GET /readyz with 200."""
    bin_dir = os.environ.get("COMMLOG_BIN")
    if not bin_dir:
        raise RuntimeError("COMMLOG_BIN is not set (the folder of the built programs: swift build --show-bin-path)")
    for key in ("COMMLOG_DATABASE_URL", "COMMLOG_DATABASE_OWNER_URL", "COMMLOG_AMQP_URL"):
        if not os.environ.get(key):
            raise RuntimeError(f"{key} is not set: load .data/stack.env (set -a; . .data/stack.env; set +a)")
    jwt_secret = secrets.token_hex(32)
    secret_key = base64.b64encode(secrets.token_bytes(32)).decode()
    ports = {"query-api": free_port(), "call-bridge": free_port(), "reminder-logger": free_port()}
    # The stack's environment less what only tests and scripts use, as deploy/local/run.sh gives the programs.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("COMMLOG_TEST_") and key != "COMMLOG_STACK_SCRIPT"}
    env.update({
        "COMMLOG_JWT_SECRET": jwt_secret,
        "COMMLOG_SECRET_KEY": secret_key,
        "COMMLOG_QUERY_API_URL": f"http://127.0.0.1:{ports['query-api']}",
        "COMMLOG_CALL_BRIDGE_URL": f"http://127.0.0.1:{ports['call-bridge']}",
        "COMMLOG_BIN": bin_dir,
        "COMMLOG_PHONE_REGION": env.get("COMMLOG_PHONE_REGION", "AU"),
        # The database is migrated by make test; this covers a run of Tests/Browser/run.sh after a new migration.
        "COMMLOG_MIGRATE_ON_START": "true",
        "COMMLOG_DATABASE_POOL_SIZE": "6",
        "COMMLOG_BATCH_WAIT_MS": "5",
        # Leave the SMDR links to the Swift tests and to make run.
        "COMMLOG_SMDR_ENABLED": "false",
        # The tests serve call recordings from this machine (a host named here may be loopback).
        "COMMLOG_RECORDING_HOSTS": "127.0.0.1",
    })
    env.update(extra_env or {})
    started: list[Program] = []
    try:
        for name, port in ports.items():
            started.append(Program(name, bin_dir, env, port))
        deadline = time.monotonic() + ready_timeout
        for program in started:
            program.wait_ready(deadline)
    except BaseException:
        for program in started:
            program.stop()
        raise
    return Programs(query_api=started[0], call_bridge=started[1], reminder_logger=started[2], env=env, jwt_secret=jwt_secret,
                    secret_key=secret_key, bin_dir=bin_dir)


# --- the directory ---------------------------------------------------------------------------------------------


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "ARRAY[" + ", ".join(sql_literal(item) for item in value) + "]::text[]"
    return "'" + str(value).replace("'", "''") + "'"


def psql(sql: str, url: Optional[str] = None) -> str:
    """Runs `sql` (one transaction) with psql as the database owner; returns what it printed (unaligned, no headers)."""
    url = url or os.environ["COMMLOG_DATABASE_OWNER_URL"]
    result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "--single-transaction", url],
                            input=sql, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


@dataclass
class Person:
    id: str
    name: str
    role: str = "staff"
    extension: Optional[str] = None
    email: Optional[str] = None
    phones: list[str] = field(default_factory=list)


@dataclass
class Directory:
    """The session's organisation and its directory: `directory.alice.id`, `directory.jane.name`, ...

    Staff (`manager`, `alice`, `bob`, `carol`) are `Person`s with `role` and `extension`; `jane` (Alice's client,
    patients `rex` and `molly`, connection `vet`) and `tom` (Bob is not related to him; Carol is) are clients."""

    org: str
    org_name: str
    timezone: str
    location: Person
    manager: Person
    alice: Person
    bob: Person
    carol: Person
    jane: Person
    tom: Person
    rex: Person
    molly: Person
    vet: Person
    care_team: dict[str, list[str]]

    @property
    def staff(self) -> list[Person]:
        return [self.manager, self.alice, self.bob, self.carol]

    def staff_member(self, staff_id: str) -> Optional[Person]:
        return next((person for person in self.staff if person.id == staff_id), None)


def seed_directory(org: Optional[str] = None) -> Directory:
    """Writes a new organisation's directory straight into PostgreSQL, row for row as reminder-logger's
    DirectoryWriter writes the practice's directory events (source_at, contact_points with emails lower-cased and
    phones in E.164, related_staff); directory_words is filled by migration 0018's triggers."""
    org = org or f"org-browser-{secrets.token_hex(4)}"
    d = Directory(
        org=org, org_name="Browser Test Vets", timezone="Australia/Sydney",
        location=Person("loc-main", "Main Street Clinic"),
        manager=Person("s-manager", "Maria Manager", role="manager", extension="200", email="maria@example.com"),
        alice=Person("s-alice", "Alice Nguyen", extension="201", email="alice@example.com", phones=["+61 400 000 201"]),
        bob=Person("s-bob", "Bob Smith", extension="202", email="bob@example.com"),
        carol=Person("s-carol", "Carol Jones", extension="203", email="carol@example.com"),
        jane=Person("c-jane", "Jane Citizen", email="jane@example.com", phones=["+61 2 9000 0001"]),
        tom=Person("c-tom", "Tom Other", email="tom@example.com", phones=["+61 2 9000 0002"]),
        rex=Person("p-rex", "Rex"),
        molly=Person("p-molly", "Molly"),
        vet=Person("n-vet", "Dr Vera Vet", email="vera@northsidevets.example", phones=["+61 2 9000 0009"]),
        care_team={"c-jane": ["s-alice"], "c-tom": ["s-carol"]},
    )
    q = sql_literal
    statements = [
        f"SET LOCAL commlog.organisation_id = {q(org)};",
        f"INSERT INTO organisations (id, name, timezone, logging_enabled, source_at) "
        f"VALUES ({q(org)}, {q(d.org_name)}, {q(d.timezone)}, true, now());",
        f"INSERT INTO locations (organisation_id, id, name, logging_enabled, source_at) "
        f"VALUES ({q(org)}, {q(d.location.id)}, {q(d.location.name)}, NULL, now());",
    ]
    for person in d.staff:
        statements.append(
            f"INSERT INTO staff (organisation_id, id, name, email, roles, extension, phones, source_at) VALUES "
            f"({q(org)}, {q(person.id)}, {q(person.name)}, {q(person.email)}, {q([person.role])}, {q(person.extension)}, "
            f"{q(person.phones)}, now());")
        statements.extend(_contact_points(org, "staff", person, extensions=[person.extension]))
    for client in (d.jane, d.tom):
        statements.append(
            f"INSERT INTO clients (organisation_id, id, name, emails, phones, source_at) VALUES "
            f"({q(org)}, {q(client.id)}, {q(client.name)}, {q([client.email])}, {q(client.phones)}, now());")
        for staff_id in d.care_team[client.id]:
            statements.append(f"INSERT INTO related_staff (organisation_id, client_id, staff_id) "
                              f"VALUES ({q(org)}, {q(client.id)}, {q(staff_id)});")
        statements.extend(_contact_points(org, "client", client))
    for patient in (d.rex, d.molly):
        statements.append(f"INSERT INTO patients (organisation_id, id, client_id, name, source_at) "
                          f"VALUES ({q(org)}, {q(patient.id)}, {q(d.jane.id)}, {q(patient.name)}, now());")
    statements.append(
        f"INSERT INTO connections (organisation_id, id, client_id, name, relationship, emails, phones, source_at) VALUES "
        f"({q(org)}, {q(d.vet.id)}, {q(d.jane.id)}, {q(d.vet.name)}, 'Referring vet', {q([d.vet.email])}, {q(d.vet.phones)}, now());")
    statements.extend(_contact_points(org, "connection", d.vet))
    psql("\n".join(statements) + "\n")
    return d


def _e164(phone: str) -> str:
    """The seed's numbers are all international: E.164 is `+` and the digits (what ContactAddress.phone gives)."""
    return "+" + "".join(c for c in phone if c.isdigit())


def _contact_points(org: str, owner_kind: str, person: Person, extensions: list[Optional[str]] = ()) -> list[str]:
    points = [("email", person.email.strip().lower())] if person.email else []
    points += [("phone", _e164(phone)) for phone in person.phones]
    points += [("extension", extension) for extension in extensions if extension]
    q = sql_literal
    return [f"INSERT INTO contact_points (organisation_id, kind, value, owner_kind, owner_id) "
            f"VALUES ({q(org)}, {q(kind)}, {q(value)}, {q(owner_kind)}, {q(person.id)});" for kind, value in points]


# --- tokens ----------------------------------------------------------------------------------------------------


class Tokens:
    """`tokens(staff_id)` is a bearer token for a staff member of the session's organisation (`commlog token`);
    the role is the directory's unless given. `tokens.launch_url(staff_id, to="/clients/c-jane")` is the sign-in
    link of `commlog launch-url`."""

    def __init__(self, programs: Programs, directory: Directory):
        self.programs = programs
        self.directory = directory

    def _role(self, staff: str, role: Optional[str]) -> str:
        if role:
            return role
        person = self.directory.staff_member(staff)
        return person.role if person else "staff"

    def _roles(self, staff: str, role: Any) -> list[str]:
        roles = role if isinstance(role, (list, tuple)) else [self._role(staff, role)]
        return [argument for r in roles for argument in ("--role", r)]

    def __call__(self, staff: Any, role: Any = None, org: Optional[str] = None, ttl: str = "1h") -> str:
        staff = getattr(staff, "id", staff)
        return self.programs.commlog("token", "--org", org or self.directory.org, "--staff", staff,
                                     *self._roles(staff, role), "--ttl", ttl).strip()

    def launch_url(self, staff: Any, role: Any = None, to: Optional[str] = None, org: Optional[str] = None) -> str:
        staff = getattr(staff, "id", staff)
        args = ["launch-url", "--org", org or self.directory.org, "--staff", staff, *self._roles(staff, role)]
        if to is not None:
            args += ["--to", to]
        lines = [line for line in self.programs.commlog(*args).splitlines() if line.strip()]
        if len(lines) != 1:
            raise RuntimeError(f"commlog launch-url printed {len(lines)} lines, expected one URL: {lines!r}")
        return lines[0].strip()


# --- a JSON client ---------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any  # the parsed body when it is JSON, else None

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.body[:300]!r})"


class Api:
    """A small JSON HTTP client: `api.get("/v1/calls/open").json["items"]`. Never raises on an HTTP status."""

    def __init__(self, base_url: str, token: Optional[str] = None, headers: Optional[dict[str, str]] = None):
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: Any = None, headers: Optional[dict[str, str]] = None,
                timeout: float = 30.0) -> Response:
        all_headers = {"Accept": "application/json", **self.headers, **(headers or {})}
        data = None
        if body is not None:
            if isinstance(body, (bytes, str)):
                data = body.encode() if isinstance(body, str) else body
            else:
                data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, raw_headers, payload = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, raw_headers, payload = error.code, error.headers, error.read()
        headers_out = {name.lower(): value for name, value in raw_headers.items()}
        parsed = None
        if "json" in headers_out.get("content-type", "") and payload:
            parsed = json.loads(payload)
        return Response(status, headers_out, payload, parsed)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Response:
        return self.request("DELETE", path, **kwargs)


# --- call webhooks ---------------------------------------------------------------------------------------------


@dataclass
class Call:
    call_id: str
    direction: str
    external: str  # the client's (or anyone's) number
    practice: str  # the practice's own number
    extension: Optional[str]
    seq: int = 0


class CallEvents:
    """Posts JSON call webhooks to call-bridge for the session's organisation, with a secret of its own
    (`commlog call-integration add`), as the phone system would.

        call_id = call_event.ring(directory.alice, caller=directory.jane.phones[0])
        call_event.answer(call_id); call_event.end(call_id)
        call_event("ringing", extension="201", ...)   # any single event; returns its call id

    Each call remembers its direction, numbers and extension; `seq` counts up per call. Sending returns once
    call-bridge has answered 202 (the broker has the events); the call shows in query-api a moment later."""

    PRACTICE_NUMBER = "+61 2 9000 1000"

    def __init__(self, programs: Programs, directory: Directory):
        self.programs = programs
        self.directory = directory
        self.secret = programs.commlog("call-integration", "add", "--org", directory.org).strip().splitlines()[-1]
        self.url = f"{programs.call_bridge_url}/v1/organisations/{directory.org}/call-events"
        self.calls: dict[str, Call] = {}

    def post(self, events: Any, secret: Optional[str] = None) -> Response:
        """Posts one event or a list as they are; returns call-bridge's answer."""
        return Api(self.programs.call_bridge_url, token=secret or self.secret).post(
            f"/v1/organisations/{self.directory.org}/call-events", events)

    def _extension(self, staff: Any) -> Optional[str]:
        if staff is None:
            return None
        if isinstance(staff, Person):
            return staff.extension
        person = self.directory.staff_member(staff)
        return person.extension if person else staff

    def __call__(self, kind: str, call_id: Optional[str] = None, *, staff: Any = None, extension: Optional[str] = None,
                 caller: Optional[str] = None, direction: str = "inbound", outcome: Optional[str] = None,
                 duration_s: Optional[int] = None, recording_url: Optional[str] = None, seq: Optional[int] = None,
                 occurred_at: Optional[str] = None) -> str:
        call_id = call_id or f"browser-{secrets.token_hex(6)}"
        call = self.calls.get(call_id)
        if call is None:
            call = Call(call_id, direction, caller or self.directory.jane.phones[0], self.PRACTICE_NUMBER, None)
            self.calls[call_id] = call
        if staff is not None or extension is not None:
            call.extension = extension or self._extension(staff)
        call.seq = seq if seq is not None else call.seq + 1
        inbound = call.direction == "inbound"
        event = {
            "source": "generic", "call_id": call_id, "seq": call.seq, "kind": kind, "direction": call.direction,
            "from": call.external if inbound else call.practice, "to": call.practice if inbound else call.external,
            "occurred_at": occurred_at or utc_now(),
        }
        optional = {"extension": call.extension, "outcome": outcome, "duration_s": duration_s, "recording_url": recording_url}
        event.update({key: value for key, value in optional.items() if value is not None})
        answer = self.post(event)
        if answer.status != 202:
            raise AssertionError(f"call-bridge refused the {kind} event of {call_id}: {answer.status} {answer.body!r}")
        return call_id

    def ring(self, staff: Any = None, caller: Optional[str] = None, call_id: Optional[str] = None, **kwargs: Any) -> str:
        """A call ringing at the staff member's extension (inbound from Jane's number unless `caller`); opens it."""
        return self("ringing", call_id, staff=staff, caller=caller, **kwargs)

    def answer(self, call_id: str, staff: Any = None, **kwargs: Any) -> str:
        """Answered (by `staff` when given: a transfer; else at the extension that rang)."""
        return self("answered", call_id, staff=staff, **kwargs)

    def end(self, call_id: str, outcome: Optional[str] = None, duration_s: Optional[int] = None, **kwargs: Any) -> str:
        """Ended on the phone (the call stays open until a staff member ends it, unless missed/busy/failed)."""
        return self("ended", call_id, outcome=outcome, duration_s=duration_s, **kwargs)


# --- the browser -----------------------------------------------------------------------------------------------


def new_chromium(width: int = 1280, height: int = 900):
    """A headless Chromium driven through /usr/bin/chromedriver (no Selenium Manager: SE_OFFLINE)."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    if os.path.exists(CHROMIUM):
        options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                     "--disable-gpu", "--no-first-run", "--disable-extensions", "--lang=en-AU"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(CHROMEDRIVER, log_output=str(LOGS / "browser-chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_window_size(width, height)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def save_screenshot(driver: Any, name: str, folder: Path = SCREENSHOTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"could not save the screenshot {path}")
    return path


AXE_IMPACTS_FAILING = ("serious", "critical")


def run_axe(driver: Any, context: Any = None, options: Any = None) -> dict:
    """axe-core (bundled by axe-selenium-python) on the current page; its full results."""
    from axe_selenium_python import Axe

    Axe(driver).inject()
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const context = arguments[0] === null ? document : arguments[0];"
        "axe.run(context, arguments[1] || {}).then(done, error => done({error: String(error)}));",
        context, options)


def axe_failures(results: dict, impacts: tuple[str, ...] = AXE_IMPACTS_FAILING) -> list[dict]:
    return [violation for violation in results.get("violations", []) if violation.get("impact") in impacts]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:10]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').strip()}".replace("\n", " "))
    return "\n".join(lines)

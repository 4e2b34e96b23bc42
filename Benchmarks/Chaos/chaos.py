#!/usr/bin/env python3
"""Fault figures (`make chaos`): each fault against the real local stack while events flow.

For every row the script starts the programs it needs (fresh, with an organisation of the row's own), sends N
events at a steady rate, injects the fault part-way, waits until every event is logged (or a generous settle time
has passed), stops the programs with SIGTERM (they must exit 0) and counts, per event, the entries logged for it:

    lost        events with no entry
    duplicated  events with more than one entry (an entry is matched to its event by a marker unique to the
                event: in its source_ref, subject or text, so that a second entry under another source_ref is
                still counted)

Progress goes to standard error; the table (Markdown) to standard output. The exit status is 1 when any row lost
or duplicated an event (or its programs did not stop cleanly), 2 when the stack is not usable.

Needs the stack of `deploy/local/stack.sh up --with-dovecot --cluster` (.data/stack.env), COMMLOG_BIN with the
built programs, and pika (deploy/local/python-tools.txt). See docs/operations.md, "Faults".
"""

import argparse
import base64
import email.utils
import imaplib
import json
import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone

import pika
import pika.exceptions

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STACK = os.path.join(ROOT, "deploy", "local", "stack.sh")
LOGS = os.path.join(ROOT, ".data", "logs")
EXCHANGE = "commlog.events"
QUEUES = {
    "reminder-logger": ["reminder-logger.practice"],
    "call-bridge": ["call-bridge.calls"],
    "email-ingestor": ["email-ingestor.messages"],
}
SAMPLE_S = 0.25
WINDOW_S = 2.0
RECOVERED = 0.9


def log(message):
    print(f"chaos {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Refused(Exception):
    """The stack cannot be used for a row (another consumer on its queues, a program that does not start)."""


# --- the stack -------------------------------------------------------------------------------------------------

def read_env_file(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key] = value
    return values


def stack(*args, check=True):
    started = time.monotonic()
    result = subprocess.run([STACK, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    log(f"stack.sh {' '.join(args)}: {time.monotonic() - started:.1f} s")
    if check and result.returncode != 0:
        raise RuntimeError(f"stack.sh {' '.join(args)} failed ({result.returncode}): {result.stdout[-2000:]}")
    return result.stdout


def node_urls(url):
    """amqp://u:p@h:port/vhost,h2:port2,... -> [pika.URLParameters] (one per node, the credentials of the first)."""
    first, *others = url.split(",")
    parsed = urllib.parse.urlsplit(first)
    urls = [first]
    for other in others:
        urls.append(urllib.parse.urlunsplit((parsed.scheme, f"{parsed.username}:{parsed.password}@{other}", parsed.path, "", "")))
    parameters = []
    for u in urls:
        p = pika.URLParameters(u)
        p.heartbeat = 10
        p.blocked_connection_timeout = 30
        p.connection_attempts = 1
        p.socket_timeout = 5
        parameters.append(p)
    return parameters


def with_user(url, user_url):
    """The nodes of `url` with the user and password of `user_url`."""
    user = urllib.parse.urlsplit(user_url)
    first, *others = url.split(",")
    parsed = urllib.parse.urlsplit(first)
    first = urllib.parse.urlunsplit((parsed.scheme, f"{user.username}:{user.password}@{parsed.hostname}:{parsed.port}",
                                     parsed.path, "", ""))
    return ",".join([first, *others])


def queue_consumers(url, queues):
    """{queue: consumer count}, by a passive declare on the first node that answers."""
    last = None
    for parameters in node_urls(url):
        try:
            connection = pika.BlockingConnection(parameters)
        except pika.exceptions.AMQPError as error:
            last = error
            continue
        try:
            channel = connection.channel()
            counts = {}
            for name in queues:
                method = channel.queue_declare(name, passive=True).method
                counts[name] = method.consumer_count
                if method.message_count:
                    # Left by an earlier row or run: the row's programs work through it before their own events.
                    log(f"queue {name}: {method.message_count} messages waiting before the row")
            return counts
        finally:
            try:
                connection.close()
            except Exception:
                pass
    raise Refused(f"no broker node of {url.split('@')[-1]} answered: {last!r}")


class Counter:
    """A persistent psql (the owner role: it owns the tables, so row-level security does not apply to it)."""

    def __init__(self, url):
        self.url = url
        self.process = None
        self.lines = None

    def _start(self):
        self.close()
        self.process = subprocess.Popen(["psql", self.url, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=0"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, bufsize=1)
        self.lines = queue.Queue()
        process, lines = self.process, self.lines

        def pump():
            for line in process.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)
        threading.Thread(target=pump, daemon=True).start()

    def query(self, sql, timeout=5.0):
        """Rows as lists of strings, or None when the database did not answer."""
        for _ in range(2):
            if self.process is None or self.process.poll() is not None:
                self._start()
            try:
                self.process.stdin.write(sql.rstrip().rstrip(";") + ";\n\\echo __end__\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                self.process = None
                continue
            rows, deadline = [], time.monotonic() + timeout
            while True:
                try:
                    line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    self.close()
                    return None
                if line is None:  # psql ended (the server went away)
                    self.process = None
                    break
                if line == "__end__":
                    return rows
                rows.append(line.split("|"))
        return None

    def count(self, organisation):
        rows = self.query(f"SELECT count(*) FROM communications WHERE organisation_id = '{organisation}'", timeout=2)
        return int(rows[0][0]) if rows else None

    def close(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


# --- the programs ----------------------------------------------------------------------------------------------

HANDED_OUT = set()


def free_port():
    """A port for a program's HTTP listener: free now and not handed out before in this run (each program keeps
    its port across restarts)."""
    for _ in range(500):
        port = random.randint(58080, 58099)
        if port in HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                HANDED_OUT.add(port)
                return port
            except OSError:
                continue
    raise Refused("no free port in 58080-58099")


class Program:
    def __init__(self, name, tag, environment):
        self.name, self.tag, self.environment = name, tag, environment
        self.port = free_port()
        self.process = None
        self.starts = 0
        self.log_paths = []

    def start(self, wait_ready=True):
        self.starts += 1
        path = os.path.join(LOGS, f"chaos-{self.tag}-{self.name}-{self.starts}.log")
        self.log_paths.append(path)
        environment = dict(os.environ, **self.environment, COMMLOG_HTTP_PORT=str(self.port))
        with open(path, "ab") as out:
            self.process = subprocess.Popen([os.path.join(os.environ["COMMLOG_BIN"], self.name)], env=environment,
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        if wait_ready:
            self.wait_ready()

    def ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise Refused(f"{self.name} exited with {self.process.returncode} at start, see {self.log_paths[-1]}")
            if self.ready():
                return
            time.sleep(0.1)
        raise Refused(f"{self.name} was not ready within {timeout} s, see {self.log_paths[-1]}")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout=40):
        """SIGTERM; the exit status (None: it had to be killed)."""
        try:
            if self.process is None or self.process.poll() is not None:
                return self.process.returncode if self.process else None
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        finally:
            HANDED_OUT.discard(self.port)


# --- senders ---------------------------------------------------------------------------------------------------

class Sender:
    """Sends events 0..n-1 at `rate` per second from `threads` threads, each event until it is accepted."""

    def __init__(self, n, rate, threads):
        self.n, self.rate, self.threads = n, rate, threads
        self.accepted = 0
        self.retries = 0
        self.failures = {}
        self.lock = threading.Lock()
        self.started_at = None
        self.finished_at = None
        self.error = None
        self.made = {}

    def run(self):
        self.started_at = time.monotonic()
        workers = [threading.Thread(target=self._worker, args=(k,), daemon=True) for k in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.finished_at = time.monotonic()

    def _worker(self, k):
        try:
            state = self.open_worker()
            for i in range(k, self.n, self.threads):
                delay = self.started_at + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                attempt = 0
                while True:
                    try:
                        state = self.send(state, i)
                        break
                    except Exception as error:  # noqa: BLE001 - every failure is retried: the event must get through
                        attempt += 1
                        kind = type(error).__name__ + (f" {error.code}" if isinstance(error, urllib.error.HTTPError) else "")
                        with self.lock:
                            self.retries += 1
                            self.failures[kind] = self.failures.get(kind, 0) + 1
                        state = self.reset(state)
                        time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)))
                with self.lock:
                    self.accepted += 1
            self.close_worker(state)
        except Exception as error:  # noqa: BLE001
            self.error = error
            log(f"sender thread failed: {error!r}")

    def event(self, i, make):
        """Event i, made once: what is sent again after a failure is the same event (same id, same bytes)."""
        with self.lock:
            if i not in self.made:
                self.made[i] = make(i)
            return self.made[i]

    def open_worker(self):
        return None

    def reset(self, state):
        return state

    def close_worker(self, state):
        pass


class AMQPSender(Sender):
    """Publishes with publisher confirms (mandatory: unroutable is a failure too) to the nodes of `url` in turn."""

    def __init__(self, n, rate, url, make_event, threads=3):
        super().__init__(n, rate, threads)
        self.nodes = node_urls(url)
        self.make_event = make_event

    def open_worker(self):
        return {"connection": None, "channel": None, "node": 0}

    def _connect(self, state):
        if state["channel"] is not None:
            return
        parameters = self.nodes[state["node"] % len(self.nodes)]
        state["node"] += 1
        connection = pika.BlockingConnection(parameters)
        channel = connection.channel()
        channel.confirm_delivery()
        state["connection"], state["channel"] = connection, channel

    def send(self, state, i):
        self._connect(state)
        routing_key, body, message_id = self.event(i, self.make_event)
        state["channel"].basic_publish(
            EXCHANGE, routing_key, body,
            pika.BasicProperties(content_type="application/json", delivery_mode=2, message_id=message_id),
            mandatory=True)
        return state

    def reset(self, state):
        try:
            if state["connection"] is not None and state["connection"].is_open:
                state["connection"].close()
        except Exception:  # noqa: BLE001
            pass
        state["connection"] = state["channel"] = None
        return state

    def close_worker(self, state):
        self.reset(state)


class WebhookSender(Sender):
    """POSTs one event per request to call-bridge's webhook until it answers 2xx (503 while it cannot publish)."""

    def __init__(self, n, rate, url, secret, make_body, threads=3):
        super().__init__(n, rate, threads)
        self.url, self.secret, self.make_body = url, secret, make_body
        self.statuses = {}

    def send(self, state, i):
        request = urllib.request.Request(self.url, data=self.event(i, self.make_body), method="POST", headers={
            "Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=45) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            raise
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            raise RuntimeError(f"status {status}")
        return state


class IMAPSender(Sender):
    """APPENDs messages to a folder of the test Dovecot (a message that may have gone in twice has the same
    Message-ID and content, which the ingestor logs once)."""

    def __init__(self, n, rate, host, port, user, password, folder, make_message, threads=2):
        super().__init__(n, rate, threads)
        self.host, self.port, self.user, self.password = host, port, user, password
        self.folder, self.make_message = folder, make_message

    def open_worker(self):
        return None

    def send(self, state, i):
        if state is None:
            state = imaplib.IMAP4(self.host, self.port, timeout=10)
            state.login(self.user, self.password)
        typ, data = state.append(self.folder, None, imaplib.Time2Internaldate(time.time()),
                                   self.event(i, self.make_message))
        if typ != "OK":
            raise RuntimeError(f"APPEND {typ} {data}")
        return state

    def reset(self, state):
        if state is not None:
            try:
                state.shutdown()
            except Exception:  # noqa: BLE001
                pass
        return None

    def close_worker(self, state):
        if state is not None:
            try:
                state.logout()
            except Exception:  # noqa: BLE001
                pass


# --- events ----------------------------------------------------------------------------------------------------

def envelope(kind, organisation, data, event_id=None):
    event_id = event_id or str(uuid.uuid4())
    return kind, json.dumps({"id": event_id, "type": kind, "version": 1, "occurred_at": now_iso(),
                             "organisation_id": organisation, "data": data}).encode(), event_id


def directory_events(organisation):
    return [
        envelope("practice.directory.organisation.upserted", organisation,
                 {"name": f"Chaos {organisation}", "timezone": "Australia/Melbourne", "logging_enabled": True}),
        envelope("practice.directory.client.upserted", organisation,
                 {"client_id": "c-1", "name": "Ann Chaos", "emails": ["ann@example.org"], "phones": ["+61412345678"],
                  "related_staff_ids": []}),
    ]


def practice_event(organisation, marker, i):
    if i % 2:
        return envelope("practice.sms.sent", organisation, {
            "location_id": None, "author_staff_id": None, "client_id": "c-1", "patient_id": None,
            "to": "+61412345678", "text": f"Your appointment is tomorrow ({marker})"})
    return envelope("practice.reminder.sent", organisation, {
        "location_id": None, "author_staff_id": None, "client_id": "c-1", "patient_id": None, "channel": "email",
        "address": "ann@example.org", "kind": "patient", "reminder_type": "Vaccination", "reminder_count": 1,
        "template": "Vaccination reminder", "subject": f"Bella is due ({marker})", "content": f"Dear Ann ({marker})"})


def call_event(marker):
    return {"source": "generic", "call_id": marker, "seq": 1, "kind": "ringing", "direction": "inbound",
            "from": "+61412345678", "to": "+61390001000", "extension": "201", "outcome": None, "duration_s": None,
            "recording_url": None, "occurred_at": now_iso()}


def mail_message(address, marker):
    return (f"From: Ann Chaos <ann@example.org>\r\nTo: <{address}>\r\nSubject: Question {marker}\r\n"
            f"Date: {email.utils.formatdate()}\r\nMessage-ID: <{marker}@chaos.example.org>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nHello, this is {marker}.\r\n").encode()


# --- rows ------------------------------------------------------------------------------------------------------

class Row:
    def __init__(self, name, programs, broker):
        self.name, self.programs, self.broker = name, programs, broker  # broker: "single" or "cluster"
        self.result = None


def recovery(samples, fault_at, fault_end, total, drained_at, flow_from):
    """(rate before, seconds from the end of the fault until recovered or None, longest pause after the start of
    the fault); the rate before is measured from `flow_from` (once the first events had time to go through) or 5 s
    before the fault, the later."""
    before = [(t, c) for t, c in samples if c is not None and t <= fault_at]
    if len(before) < 2:
        return None, None, None
    t1, c1 = before[-1]
    start = min(max(flow_from, t1 - 5.0), before[-2][0])
    t0, c0 = next((t, c) for t, c in before if t >= start)
    rate = (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0
    after = [(t, c) for t, c in samples if c is not None and t >= fault_at]
    ended = [(t, c) for t, c in after if t >= fault_end]
    recovered = None
    for index, (t, c) in enumerate(ended):
        end = next(((u, d) for u, d in ended[index:] if u >= t + WINDOW_S), None)
        if end is None:
            break
        if rate > 0 and (end[1] - c) / (end[0] - t) >= RECOVERED * rate:
            recovered = t - fault_end
            break
    if drained_at is not None and (recovered is None or drained_at - fault_end < recovered):
        recovered = max(0.0, drained_at - fault_end)
    pause, last_t, last_c = 0.0, fault_at, None
    for t, c in after:
        if last_c is None or c > last_c:
            pause = max(pause, t - last_t)
            last_t, last_c = t, c
        if c >= total:
            break
    return rate, recovered, pause


class Chaos:
    def __init__(self, args):
        self.args = args
        self.run_id = datetime.now(timezone.utc).strftime("%m%d%H%M%S")
        self.env = os.environ
        self.counter = Counter(self.env["COMMLOG_DATABASE_OWNER_URL"])
        self.secret_key = self._secret_key()
        self.results = []
        self.findings = []

    def _secret_key(self):
        path = os.path.join(ROOT, ".data", "secrets", "chaos-secret-key")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write(base64.b64encode(os.urandom(32)).decode())
        return open(path).read().strip()

    # helpers

    def amqp_url(self, broker):
        return self.env["COMMLOG_TEST_CLUSTER_AMQP_URL"] if broker == "cluster" else self.env["COMMLOG_AMQP_URL"]

    def commlog(self, *args, stdin=None):
        environment = dict(os.environ, COMMLOG_SECRET_KEY=self.secret_key)
        result = subprocess.run([os.path.join(self.env["COMMLOG_BIN"], "commlog"), *args], input=stdin, text=True,
                                capture_output=True, env=environment)
        if result.returncode != 0:
            raise RuntimeError(f"commlog {' '.join(args)}: {result.stderr[-1000:]}")
        return result.stdout.strip()

    def durability(self):
        rows = self.counter.query("SELECT current_setting('fsync') || ',' || current_setting('synchronous_commit')")
        return rows[0][0] if rows else "unknown"

    def check_consumers(self, broker, programs, expected):
        queues = [q for p in programs for q in QUEUES[p]]
        counts = queue_consumers(self.amqp_url(broker), queues)
        wrong = {q: c for q, c in counts.items() if c != expected}
        if wrong:
            detail = ""
            if broker == "single":
                detail = stack("rabbitmqctl", "list_consumers", "-p", "commlog", check=False)
            raise Refused(f"queues with other consumers than this script's programs ({'none' if expected == 0 else expected} "
                          f"expected): {wrong}\n{detail}")

    def start_programs(self, row, tag, organisation, extra, programs):
        for name in row.programs:
            environment = {"COMMLOG_AMQP_URL": self.amqp_url(row.broker), "COMMLOG_SECRET_KEY": self.secret_key,
                           # As a container restarted in its pod (same host name, pid 1): the restarted
                           # email-ingestor takes its own mailbox lease again at once.
                           "COMMLOG_INSTANCE_ID": f"chaos-{tag}-{name}"}
            environment.update((extra or {}).get(name, {}))
            programs[name] = Program(name, tag, environment)
        for program in programs.values():
            program.start(wait_ready=False)
        for program in programs.values():
            program.wait_ready()

    def prepare_organisations(self, organisations):
        """The organisations of the rows whose events go to call-bridge or email-ingestor, known to the directory
        (through reminder-logger, as the practice software would have it)."""
        if not organisations:
            return
        log(f"preparing {len(organisations)} organisations through reminder-logger")
        self.check_consumers("single", ["reminder-logger"], 0)
        program = Program("reminder-logger", f"{self.run_id}-setup", {"COMMLOG_INSTANCE_ID": f"chaos-{self.run_id}-setup"})
        program.start()
        try:
            sender = AMQPSender(len(organisations) * 2, 1000, self.env["COMMLOG_TEST_AMQP_PRACTICE_URL"],
                                lambda i: directory_events(organisations[i // 2])[i % 2], threads=1)
            sender.run()
            names = ",".join(f"'{o}'" for o in organisations)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                rows = self.counter.query(f"SELECT count(*) FROM organisations WHERE id IN ({names})")
                if rows and int(rows[0][0]) == len(organisations):
                    break
                time.sleep(0.2)
            else:
                raise Refused("reminder-logger did not record the rows' organisations within 60 s")
        finally:
            status = program.stop()
            if status != 0:
                raise Refused(f"the setup reminder-logger exited with {status}, see {program.log_paths[-1]}")

    def final_counts(self, organisation, markers):
        """(logged, lost markers, {marker: entries} for markers with more than one, entries without a known marker)."""
        pattern = r"chaos-[0-9]+-[0-9]+-[0-9]{6}"
        rows = self.counter.query(
            "SELECT coalesce(substring(source_ref || ' ' || coalesce(subject, '') || ' ' || coalesce(content, '') "
            f"FROM '{pattern}'), '(none) ' || source_ref), count(*) FROM communications "
            f"WHERE organisation_id = '{organisation}' GROUP BY 1", timeout=60)
        if rows is None:
            raise RuntimeError("could not count the entries")
        per_marker = {m: int(c) for m, c in rows}
        expected = set(markers)
        logged = sum(per_marker.values())
        lost = sorted(expected - per_marker.keys())
        duplicated = {m: c for m, c in per_marker.items() if m in expected and c > 1}
        unexpected = {m: c for m, c in per_marker.items() if m not in expected}
        return logged, lost, duplicated, unexpected

    # one row

    def run_row(self, number, name, programs, broker, make_sender, fault, organisation, prepare=None, extra=None,
                cleanup=None, before_start=None):
        tag = f"{self.run_id}-{number:02d}"
        n = self.args.events
        markers = [f"chaos-{self.run_id}-{number:02d}-{i:06d}" for i in range(n)]
        log(f"row {number}: {name} ({n} events, organisation {organisation})")
        row = Row(name, programs, broker)
        self.check_consumers(broker, programs, 0)
        if before_start:
            before_start()
        started = {}
        try:
            self.start_programs(row, tag, organisation, extra, started)
            self.check_consumers(broker, programs, 1)
            if prepare:
                prepare(started)
            sender = make_sender(markers)
            samples = []
            stop_sampling = threading.Event()

            def sample():
                while not stop_sampling.is_set():
                    t = time.monotonic()
                    samples.append((t, self.counter.count(organisation)))
                    stop_sampling.wait(max(0.0, SAMPLE_S - (time.monotonic() - t)))
            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            sending = threading.Thread(target=sender.run, daemon=True)
            sending.start()
            # The fault once enough events were accepted and entries have been logged for a while (a mailbox's
            # first check, a program's warm-up), so that there is a rate to compare with.
            first_logged = None
            while sending.is_alive():
                if first_logged is None:
                    first_logged = next((t for t, c in list(samples) if c), None)
                if (sender.accepted >= n * self.args.fault_at and first_logged is not None
                        and time.monotonic() - first_logged >= self.args.min_flow):
                    break
                time.sleep(0.05)
            else:
                log(f"row {number}: WARNING: everything was sent before the fault could start")
            fault_at = time.monotonic()
            log(f"row {number}: fault at {sender.accepted} events accepted, "
                f"{next((c for _, c in reversed(samples) if c is not None), 0)} logged (a moment ago)")
            fault_end = fault(started) or time.monotonic()
            sending.join()
            if sender.error:
                raise RuntimeError(f"the sender failed: {sender.error!r}")
            log(f"row {number}: all {n} events accepted ({sender.retries} retries: {sender.failures or 'none'}"
                f"{'; HTTP answers ' + str(sender.statuses) if getattr(sender, 'statuses', None) else ''}); settling")
            deadline = time.monotonic() + self.args.settle
            drained_at = None
            while time.monotonic() < deadline:
                last = next((c for _, c in reversed(samples) if c is not None), 0)
                if last >= n:
                    drained_at = next(t for t, c in samples if c is not None and c >= n)
                    break
                time.sleep(0.25)
            time.sleep(self.args.linger)  # anything logged twice would show by now
            stop_sampling.set()
            sampler.join()
        finally:
            statuses = {}
            for program_name, program in started.items():
                statuses[program_name] = program.stop()
            if cleanup:
                try:
                    cleanup()
                except Exception as error:  # noqa: BLE001
                    log(f"row {number}: cleanup failed: {error!r}")
        logged, lost, duplicated, unexpected = self.final_counts(organisation, markers)
        rate, recovered, pause = recovery(samples, fault_at, fault_end, n, drained_at,
                                          max(sender.started_at, first_logged or 0) + 0.5)
        unclean = {p: s for p, s in statuses.items() if s != 0}
        if fault_end - fault_at >= 0.5:
            name = f"{name} (out {fault_end - fault_at:.0f} s)"
        result = {"name": name, "sent": n, "logged": logged, "lost": len(lost), "duplicated": len(duplicated),
                  "recovered": recovered, "rate": rate, "pause": pause, "retries": sender.retries,
                  "failures": sender.failures, "unclean": unclean, "organisation": organisation,
                  "statuses": getattr(sender, "statuses", None),
                  "logs": [p for program in started.values() for p in program.log_paths]}
        self.results.append(result)
        log(f"row {number}: sent {n}, logged {logged}, lost {len(lost)}, duplicated {len(duplicated)}, "
            f"rate before {rate or 0:.0f}/s, recovered after {recovered if recovered is None else round(recovered, 1)} s, "
            f"longest pause {pause if pause is None else round(pause, 1)} s, exit statuses {statuses}")
        if lost or duplicated or unexpected or unclean:
            finding = (f"row {number} ({name}), organisation {organisation}: lost {lost[:20]}"
                       f"{' …' if len(lost) > 20 else ''}; duplicated {dict(list(duplicated.items())[:20])}; "
                       f"entries without a marker of the row {dict(list(unexpected.items())[:5])}; "
                       f"exit statuses {statuses}; logs {result['logs']}")
            self.findings.append(finding)
            log("FINDING " + finding)
        return result

    # the rows

    def practice_sender(self, broker, organisation, rate, threads=3):
        url = self.env["COMMLOG_TEST_AMQP_PRACTICE_URL"]
        if broker == "cluster":
            url = with_user(self.env["COMMLOG_TEST_CLUSTER_AMQP_URL"], url)

        def make(markers):
            directory = directory_events(organisation)
            n = len(markers)
            # The directory first (its own publish, so that it is confirmed before any send event).
            AMQPSender(2, 100, url, lambda i: directory[i], threads=1).run()
            return AMQPSender(n, rate, url, lambda i: practice_event(organisation, markers[i], i), threads=threads)
        return make

    def mixed_sender(self, broker, organisation, rate):
        """Practice events (reminder-logger) and call events (call-bridge), alternately."""
        practice = self.env["COMMLOG_TEST_AMQP_PRACTICE_URL"]
        phone = self.env["COMMLOG_TEST_AMQP_PHONE_URL"]
        if broker == "cluster":
            practice = with_user(self.env["COMMLOG_TEST_CLUSTER_AMQP_URL"], practice)
            phone = with_user(self.env["COMMLOG_TEST_CLUSTER_AMQP_URL"], phone)

        def make(markers):
            n = len(markers)
            practice_sender = AMQPSender(n, rate, practice, None, threads=2)
            phone_sender = AMQPSender(n, rate, phone, None, threads=2)

            def event(i):
                if i % 2:
                    return envelope("phone.call.event", organisation, call_event(markers[i]))
                return practice_event(organisation, markers[i], i // 2)
            return SplitSender(n, rate, [(practice_sender, lambda i: i % 2 == 0), (phone_sender, lambda i: i % 2 == 1)], event)
        return make

    def rows(self):
        a = self.args
        rate = a.rate
        rounds = a.rounds
        plan = []
        number = 0

        def org(label):
            return f"chaos-{self.run_id}-{len(plan) + 1:02d}-{label}"

        def kill_restart(program_name):
            def fault(started):
                program = started[program_name]
                program.kill()
                killed_at = time.monotonic()
                log(f"{program_name}: killed (SIGKILL), starting it again")
                program.start()
                return killed_at  # what follows (the restart, as a supervisor does it) is recovery
            return fault

        wanted = set(a.only.split(",")) if a.only else None

        def add(key, *row):
            if wanted is None or key in wanted:
                plan.append((key, row))

        for r in range(rounds):
            add("kill-reminder-logger", f"kill -9 reminder-logger ({r + 1}/{rounds})", ["reminder-logger"], "single",
                "practice", kill_restart("reminder-logger"))
        for r in range(rounds):
            add("kill-email-ingestor", f"kill -9 email-ingestor ({r + 1}/{rounds})", ["email-ingestor"], "single",
                "mail", kill_restart("email-ingestor"))
        for r in range(rounds):
            add("kill-call-bridge", f"kill -9 call-bridge ({r + 1}/{rounds})", ["call-bridge"], "single",
                "calls", kill_restart("call-bridge"))

        def cluster_fault(started):
            stack("cluster-stop", "1")
            time.sleep(a.outage)
            stack("cluster-start", "1")
            return time.monotonic()
        add("cluster-node", "RabbitMQ cluster: stop the node the programs use, start it again",
            ["reminder-logger", "call-bridge"], "cluster", "mixed", cluster_fault)

        def broker_fault(started, outage=a.outage):
            stack("rabbitmq-stop")
            time.sleep(outage)
            stack("rabbitmq-start")
            return time.monotonic()

        def long_broker_fault(started):
            # Longer than call-bridge waits for the broker's confirm (30 s) before it answers 503.
            return broker_fault(started, a.webhook_outage)
        add("rabbitmq-restart", "RabbitMQ (single broker) restarted", ["reminder-logger", "call-bridge"], "single",
            "mixed", broker_fault)

        def postgres_fault(started):
            stack("postgres-stop")
            time.sleep(a.outage)
            stack("postgres-start")
            return time.monotonic()
        add("postgres-restart", "PostgreSQL restarted", ["reminder-logger", "call-bridge"], "single", "mixed",
            postgres_fault)

        def dovecot_fault(started):
            stack("dovecot-stop")
            time.sleep(a.outage)
            stack("dovecot-start")
            return time.monotonic()
        add("dovecot-restart", "IMAP server (Dovecot) gone mid-sync and back", ["email-ingestor"], "single", "mail",
            dovecot_fault)

        add("webhook-broker-outage", "call-bridge webhook during a broker outage (503, sender retries)",
            ["call-bridge"], "single", "webhook", long_broker_fault)
        return plan

    def run(self):
        durability = self.durability()
        if durability.startswith("off"):
            banner = ("WARNING: PostgreSQL runs with fsync=off (the stack was started with --fast): a crash of the "
                      "database could lose what it acknowledged; these figures do not show real durability")
            log("!" * 20 + " " + banner + " " + "!" * 20)
            self.findings.append(banner)
        plan = self.rows()
        organisations = {}
        for index, (key, row) in enumerate(plan, start=1):
            organisations[index] = f"chaos-{self.run_id}-{index:02d}"
        self.prepare_organisations([organisations[i] for i, (_, row) in enumerate(plan, start=1) if row[3] != "practice"])
        for index, (key, (name, programs, broker, flow, fault)) in enumerate(plan, start=1):
            organisation = organisations[index]
            before_start = prepare = cleanup = extra = None
            if flow == "practice":
                make_sender = self.practice_sender(broker, organisation, self.args.rate)
            elif flow == "mixed":
                make_sender = self.mixed_sender(broker, organisation, self.args.rate)
            elif flow == "calls":
                url = self.env["COMMLOG_TEST_AMQP_PHONE_URL"]

                def make_sender(markers, url=url, organisation=organisation):
                    return AMQPSender(len(markers), self.args.rate, url,
                                      lambda i: envelope("phone.call.event", organisation, call_event(markers[i])))
            elif flow == "webhook":
                secret = self.commlog("call-integration", "add", "--org", organisation).splitlines()[-1].strip()
                box = {}

                def prepare(started, box=box):
                    box["port"] = started["call-bridge"].port

                def make_sender(markers, box=box, secret=secret, organisation=organisation):
                    url = f"http://127.0.0.1:{box['port']}/v1/organisations/{organisation}/call-events"
                    return WebhookSender(len(markers), self.args.rate, url, secret,
                                         lambda i: json.dumps(call_event(markers[i])).encode())
            elif flow == "mail":
                make_sender, before_start, prepare, cleanup = self.mail_row(index, organisation)
            else:
                raise AssertionError(flow)
            try:
                self.run_row(index, name, programs, broker, make_sender, fault, organisation, prepare=prepare,
                             extra=extra, cleanup=cleanup, before_start=before_start)
            except Refused:
                raise
            except Exception as error:  # noqa: BLE001 - a row that could not run is reported, the others still run
                log(f"row {index} ({name}) could not run: {error!r}")
                self.findings.append(f"row {index} ({name}) could not run: {error!r}")
                self.results.append({"name": name, "sent": self.args.events, "logged": None, "lost": None,
                                     "duplicated": None, "recovered": None, "pause": None, "rate": None,
                                     "unclean": {}, "failures": {}, "retries": 0})
                # Leave the stack as the next row needs it.
                for command in (["rabbitmq-start"], ["cluster-start", "1"], ["postgres-start"], ["dovecot-start"]):
                    stack(*command, check=False)

    def mail_row(self, index, organisation):
        env = self.env
        address = f"chaos-{self.run_id}-{index:02d}@example.org"
        inbound = f"chaos-{self.run_id}-{index:02d}-in"
        outbound = f"chaos-{self.run_id}-{index:02d}-out"
        host, port = env["COMMLOG_TEST_IMAP_HOST"], int(env["COMMLOG_TEST_IMAP_PORT"])
        user, password = env["COMMLOG_TEST_IMAP_USER"], env["COMMLOG_TEST_IMAP_PASSWORD"]
        imap = imaplib.IMAP4(host, port)
        imap.login(user, password)
        for folder in (inbound, outbound):
            typ, data = imap.create(folder)
            if typ != "OK":
                raise RuntimeError(f"IMAP CREATE {folder}: {data}")
        imap.logout()
        box = {}

        def before_start():
            # Before email-ingestor starts, so that its first round takes it (it looks for new mailboxes every 5 s).
            box["id"] = self.commlog("mailbox", "add", "--org", organisation, "--address", address, "--host", host,
                                     "--port", str(port), "--tls", "none", "--user", user, "--inbound-folder", inbound,
                                     "--outbound-folder", outbound, stdin=password).splitlines()[-1].strip()

        def prepare(started):
            # The flow starts once the mailbox has been checked (the session is open and waits in IDLE).
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                boxes = json.loads(self.commlog("mailbox", "list", "--org", organisation, "--json") or "[]")
                if any(b.get("last_success_at") for b in boxes):
                    return
                time.sleep(0.25)
            raise RuntimeError(f"the mailbox {address} was not checked within 60 s")

        def make_sender(markers):
            return IMAPSender(len(markers), self.args.mail_rate, host, port, user, password, inbound,
                              lambda i: mail_message(address, markers[i]))

        def cleanup():
            if "id" in box:
                self.commlog("mailbox", "remove", "--org", organisation, box["id"])
        return make_sender, before_start, prepare, cleanup

    # the table

    def table(self):
        lines = ["| fault | events sent | entries logged | lost | duplicated | seconds until back to 90 % | longest pause (s) |",
                 "|---|---:|---:|---:|---:|---:|---:|"]

        def fmt(value, digits=1):
            if value is None:
                return "–"
            return f"{value:.{digits}f}" if isinstance(value, float) else f"{value:,}"
        for r in self.results:
            recovered = "not within the settle time" if r["recovered"] is None and r["logged"] is not None else fmt(r["recovered"])
            lines.append(f"| {r['name']} | {fmt(r['sent'])} | {fmt(r['logged'])} | {fmt(r['lost'])} | "
                         f"{fmt(r['duplicated'])} | {recovered} | {fmt(r['pause'])} |")
        return "\n".join(lines)


class SplitSender(Sender):
    """Events 0..n-1 shared between senders by a predicate (one connection each, so each publisher has its own
    broker user), paced together."""

    def __init__(self, n, rate, parts, event):
        super().__init__(n, rate, 1)
        self.parts, self.event = parts, event

    def run(self):
        self.started_at = time.monotonic()
        for sender, belongs in self.parts:
            indexes = [i for i in range(self.n) if belongs(i)]
            sender.n = len(indexes)
            sender.rate = self.rate * len(indexes) / self.n
            sender.make_event = (lambda indexes: lambda j: self.event(indexes[j]))(indexes)
            sender.parent = self
        threads = [threading.Thread(target=s.run, daemon=True) for s, _ in self.parts]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.finished_at = time.monotonic()
        self.error = next((s.error for s, _ in self.parts if s.error), None)

    @property
    def accepted(self):
        return sum(s.accepted for s, _ in self.parts)

    @accepted.setter
    def accepted(self, value):
        pass

    @property
    def retries(self):
        return sum(s.retries for s, _ in self.parts)

    @retries.setter
    def retries(self, value):
        pass

    @property
    def failures(self):
        merged = {}
        for s, _ in self.parts:
            for k, v in s.failures.items():
                merged[k] = merged.get(k, 0) + v
        return merged

    @failures.setter
    def failures(self, value):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events per row (N)")
    parser.add_argument("--rounds", type=int, default=3, help="kill -9 rounds per consumer program")
    parser.add_argument("--rate", type=float, default=None, help="events per second sent (default: N/10, 30 to 100)")
    parser.add_argument("--mail-rate", type=float, default=None, help="messages per second appended (default: the rate)")
    parser.add_argument("--fault-at", type=float, default=0.4, help="fraction of the events accepted when the fault starts")
    parser.add_argument("--min-flow", type=float, default=3.0, help="seconds entries must have been logged before the fault")
    parser.add_argument("--outage", type=float, default=2.0, help="seconds a stopped server stays down")
    parser.add_argument("--webhook-outage", type=float, default=35.0,
                        help="seconds the broker stays down in the webhook row (call-bridge answers 503 after 30 s)")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to wait for the last entries after sending")
    parser.add_argument("--linger", type=float, default=3.0, help="seconds to keep watching once all are logged")
    parser.add_argument("--only", default=None, help="comma-separated row keys (kill-reminder-logger, kill-email-ingestor, "
                        "kill-call-bridge, cluster-node, rabbitmq-restart, postgres-restart, dovecot-restart, "
                        "webhook-broker-outage)")
    args = parser.parse_args()
    if args.rate is None:
        args.rate = max(30.0, min(100.0, args.events / 10))
    if args.mail_rate is None:
        args.mail_rate = args.rate
    env_file = os.path.join(ROOT, ".data", "stack.env")
    if not os.path.exists(env_file):
        log(f"{env_file} is missing: start the stack (deploy/local/stack.sh up --with-dovecot --cluster)")
        return 2
    for key, value in read_env_file(env_file).items():
        os.environ.setdefault(key, value)
    missing = [k for k in ("COMMLOG_BIN", "COMMLOG_TEST_CLUSTER_AMQP_URL", "COMMLOG_TEST_IMAP_USER") if not os.environ.get(k)]
    if missing:
        log(f"missing {', '.join(missing)}: COMMLOG_BIN must name the built programs, and the stack must run with "
            "--with-dovecot --cluster")
        return 2
    os.makedirs(LOGS, exist_ok=True)
    chaos = Chaos(args)
    started = time.monotonic()
    log(f"run {chaos.run_id}: N={args.events}, rounds={args.rounds}, {args.rate:g} events/s "
        f"({args.mail_rate:g} messages/s), PostgreSQL fsync,synchronous_commit = {chaos.durability()}")
    try:
        chaos.run()
    except Refused as error:
        log(f"refused: {error}")
        if chaos.results:
            print(chaos.table())
        return 2
    finally:
        chaos.counter.close()
    print(chaos.table())
    print()
    print(f"N = {args.events} events per row, sent at {args.rate:g}/s ({args.mail_rate:g} messages/s appended over "
          f"IMAP), each until accepted (publisher confirms; the webhook until 2xx; APPEND until OK); the fault starts "
          f"once {args.fault_at:.0%} of them were accepted and entries had been logged for {args.min_flow:g} s. A "
          f"killed program is started again at once (as a supervisor would); a stopped server is started again "
          f"{args.outage:g} s after its stop returned ({args.webhook_outage:g} s in the webhook row, longer than "
          f"call-bridge waits for a confirm before it answers 503); *out* is from the fault to the server accepting "
          f"connections again. *Seconds until back to 90 %*: from the end of the fault (the kill; the server started "
          f"again) to the start of the first {WINDOW_S:g}-s window, sampled every {SAMPLE_S * 1000:.0f} ms, in which "
          f"entries were logged at 90 % or more of the rate of the 5 s before the fault, or to the moment the last "
          f"event was logged if that came first (a backlog burst can make it 0 while entries stopped for a while: "
          f"hence the last column). *Longest pause*: the longest time, from the start of the fault, in which no entry "
          f"was logged. *Lost*: events with no entry {args.settle:g} s after the last was accepted; *duplicated*: events "
          f"with more than one entry (matched by a marker unique to the event in the entry's source_ref, subject or "
          f"text).")
    if chaos.findings:
        print()
        for finding in chaos.findings:
            print(f"- {finding}")
    log(f"done in {time.monotonic() - started:.0f} s")
    bad = [r for r in chaos.results if r["lost"] != 0 or r["duplicated"] != 0 or r["unclean"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

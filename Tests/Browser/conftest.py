"""Fixtures of the browser tests (run them with Tests/Browser/run.sh; make test does).

Session-wide:
    programs      query-api, call-bridge and reminder-logger started on free ports (harness.Programs: .query_api_url,
                  .call_bridge_url, .jwt_secret, .env, .commlog(*args))
    directory     a new organisation seeded in PostgreSQL (harness.Directory: .org, .manager, .alice, .bob, .carol,
                  .jane, .tom, .rex, .molly, .vet, .location; each with .id, .name, ...)
    tokens        tokens(staff, role=None, org=None, ttl="1h") -> JWT; tokens.launch_url(staff, role=None, to=None)
    api           api(token=None, base_url=None) -> harness.Api (.get/.post/.patch/.delete -> Response)
    call_event    harness.CallEvents: call_event.ring(staff) -> call id, .answer(id), .end(id), call_event(kind, ...)
    axe_check     axe_check(driver, name, context=None, options=None): fails on serious or critical violations
    screenshot    screenshot(driver, name) -> docs/screenshots/<name>.png
    demo          `commlog demo-data` for an organisation of its own (.org, .manager, .staff, .admin, .client, .patient)
Per test:
    browser       browser(width=1280, height=900) -> a new headless Chromium WebDriver, quit after the test
"""

from __future__ import annotations

import json
import re
import secrets
from types import SimpleNamespace

import pytest

import harness
from harness import LOGS, Api, CallEvents, Tokens, wait_until


@pytest.fixture(scope="session")
def programs():
    started = harness.start_programs(ready_timeout=60)
    yield started
    started.stop()


@pytest.fixture(scope="session")
def directory(programs):
    return harness.seed_directory()


@pytest.fixture(scope="session")
def tokens(programs, directory):
    return Tokens(programs, directory)


@pytest.fixture(scope="session")
def api(programs):
    def make(token: str | None = None, base_url: str | None = None, headers: dict[str, str] | None = None) -> Api:
        return Api(base_url or programs.query_api_url, token=token, headers=headers)

    return make


@pytest.fixture(scope="session")
def call_event(programs, directory):
    return CallEvents(programs, directory)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keeps each phase's report on the test, so that `browser` knows at teardown whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser(request):
    """A factory of headless Chromium sessions (several for a two-browser test). When the test failed, each
    session's screenshot, page source and console go to .data/logs/browser-failure-<test>-<n>.*."""
    drivers = []

    def make(width: int = 1280, height: int = 900):
        driver = harness.new_chromium(width, height)
        drivers.append(driver)
        return driver

    yield make
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for number, driver in enumerate(drivers, 1):
        try:
            if failed:
                stem = LOGS / f"browser-failure-{re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)}-{number}"
                driver.save_screenshot(str(stem) + ".png")
                stem.with_suffix(".html").write_text(driver.page_source)
                console = driver.get_log("browser")
                stem.with_suffix(".console.json").write_text(json.dumps(console, indent=2))
        except Exception:  # noqa: BLE001 - best effort, the failure itself is what matters
            pass
        finally:
            driver.quit()


@pytest.fixture(scope="session")
def axe_check():
    """axe_check(driver, name): runs axe-core on the page the driver shows and fails listing the serious and
    critical violations; the full results go to .data/logs/axe-<name>.json. Returns the results."""

    def check(driver, name: str, context=None, options=None) -> dict:
        results = harness.run_axe(driver, context, options)
        if "error" in results:
            raise AssertionError(f"axe-core failed on {name}: {results['error']}")
        LOGS.mkdir(parents=True, exist_ok=True)
        (LOGS / f"axe-{name}.json").write_text(json.dumps(results, indent=2))
        failures = harness.axe_failures(results)
        if failures:
            raise AssertionError(f"axe-core found {len(failures)} serious or critical violations on {name} "
                                 f"({driver.current_url}):\n{harness.describe_violations(failures)}")
        return results

    return check


@pytest.fixture(scope="session")
def screenshot():
    """screenshot(driver, name): saves docs/screenshots/<name>.png and returns its path."""
    return harness.save_screenshot


@pytest.fixture(scope="session")
def demo(programs, tokens, api):
    """`commlog demo-data` for an organisation of its own, logged by reminder-logger: emails with CC, HTML and
    attachments, SMS both ways, a reminder. Staff s-1 (manager), s-2 (staff), s-3 (admin); client c-1 with
    patient p-1."""
    org = f"org-demo-{secrets.token_hex(4)}"
    programs.commlog("demo-data", "--org", org)
    manager = api(tokens("s-1", role="manager", org=org))
    wait_until(lambda: manager.get("/v1/communications?limit=50").json["items"].__len__() >= 5, timeout=30,
               message="the demo events to be logged")
    return SimpleNamespace(org=org, manager="s-1", staff="s-2", admin="s-3", client="c-1", patient="p-1")

"""The harness itself: the programs start, the seeded directory and a call webhook show through the API, and
Chromium reaches query-api."""

import subprocess

import pytest

from harness import http_status, save_screenshot, wait_until


def test_programs_answer_ready(programs):
    assert http_status(programs.query_api_url + "/readyz") == 200
    assert http_status(programs.call_bridge_url + "/readyz") == 200


def test_seeded_directory_is_found(api, tokens, directory):
    alice = api(tokens(directory.alice))
    found = alice.get("/v1/directory/search?q=Jane")
    assert found.status == 200, found
    jane = [item for item in found.json["items"] if item["id"] == directory.jane.id]
    assert jane, found.json
    assert jane[0]["name"] == "Jane Citizen"
    assert jane[0]["kind"] == "client"
    # Alice is on Jane's care team: she sees her contact details.
    assert [phone.replace(" ", "") for phone in jane[0].get("phones", [])] == ["+61290000001"], jane[0]

    client = alice.get(f"/v1/directory/clients/{directory.jane.id}")
    assert client.status == 200, client
    assert {p["name"] for p in client.json["patients"]} == {"Rex", "Molly"}

    # Bob is not on Tom's care team: Tom is found by name, without his contact details.
    bob = api(tokens(directory.bob))
    found = bob.get("/v1/directory/search?q=Tom")
    tom = [item for item in found.json["items"] if item["id"] == directory.tom.id]
    assert tom and not tom[0].get("phones"), found.json


def test_call_webhook_opens_a_call_for_the_staff_member(api, tokens, directory, call_event):
    call_id = call_event.ring(directory.alice)
    alice = api(tokens(directory.alice))

    def opened():
        answer = alice.get("/v1/calls/open")
        assert answer.status == 200, answer
        return [item for item in answer.json["items"] if item.get("client_id") == directory.jane.id]

    calls = wait_until(opened, timeout=15, message=f"call {call_id} to show in Alice's open calls")
    assert calls[0]["type"] == "phone"
    assert calls[0]["status"] == "open"
    # The caller's number matched Jane, the extension that rang matched Alice.
    roles = {(p["role"], p["kind"], p["id"]) for p in calls[0]["participants"]}
    assert ("caller", "client", directory.jane.id) in roles, calls[0]["participants"]
    assert ("handler", "staff", directory.alice.id) in roles, calls[0]["participants"]
    # Bob did not handle it and is not on Jane's care team.
    bob_calls = api(tokens(directory.bob)).get("/v1/calls/open").json["items"]
    assert not [item for item in bob_calls if item["id"] == calls[0]["id"]]


def test_chromium_reaches_query_api(programs, browser):
    driver = browser()
    driver.get(programs.query_api_url + "/healthz")
    assert driver.find_element("tag name", "body").text.strip() == "ok"
    # /openapi.yaml is served as YAML, which Chromium downloads rather than shows: fetched from the page instead.
    document = driver.execute_async_script(
        "const done = arguments[0]; fetch('/openapi.yaml').then(r => r.text()).then(done, e => done(String(e)));")
    assert document.startswith("openapi:"), document[:200]


GOOD_PAGE = ("data:text/html;charset=utf-8,<!doctype html><html lang='en'><head><title>Fine</title></head>"
             "<body><main><h1>Fine</h1><button type='button'>Save</button></main></body></html>")
BAD_PAGE = ("data:text/html;charset=utf-8,<!doctype html><html><head></head>"
            "<body><img src='x.png'><button type='button'></button></body></html>")


def test_axe_check_passes_a_clean_page_and_fails_a_broken_one(browser, axe_check):
    driver = browser()
    driver.get(GOOD_PAGE)
    results = axe_check(driver, "smoke-good")
    assert results["testEngine"]["name"] == "axe-core"
    driver.get(BAD_PAGE)
    try:
        axe_check(driver, "smoke-bad")
    except AssertionError as failure:
        for rule in ("image-alt", "button-name", "html-has-lang", "document-title"):
            assert rule in str(failure)
    else:
        raise AssertionError("axe_check passed a page without alt text, button name, lang or title")


def test_screenshot_is_saved(browser, tmp_path):
    driver = browser(width=800, height=600)
    driver.get(GOOD_PAGE)
    path = save_screenshot(driver, "smoke", folder=tmp_path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_launch_url_points_at_query_api(programs, tokens, directory):
    usage = subprocess.run([f"{programs.bin_dir}/commlog", "--help"], capture_output=True, text=True, env=programs.env).stdout
    if "launch-url" not in usage:
        pytest.skip("commlog launch-url is not built yet")
    url = tokens.launch_url(directory.alice, to=f"/clients/{directory.jane.id}")
    assert url.startswith(programs.query_api_url + "/launch#"), url
    assert "token=" in url

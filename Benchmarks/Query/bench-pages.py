"""The web page's side of `make bench-query`: headless Chromium opens client timelines and the board of the
benchmark organisation (10 million entries) one after the other and reports, from the browser's own timing
(Navigation and Paint Timing), the time to a rendered screen and the bytes it took.

    bench-pages.py LAUNCH_URL BASE_URL CLIENTS SAMPLES

- rendered: first contentful paint, from the start of the navigation (the table is in the first paint: the
  screen is drawn on the server);
- loaded: the load event's end (the stylesheet and the ES modules run);
- bytes: the first load with an empty cache (page, stylesheet, scripts, as received) and a later one (the
  assets revalidated: 304s).
Goal: rendered p95 under 300 ms on this machine.
"""

import os
import random
import sys
import time

os.environ.setdefault("SE_OFFLINE", "true")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402

TIMING = """
const nav = performance.getEntriesByType('navigation')[0];
const paint = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
const entries = [nav, ...performance.getEntriesByType('resource')];
return {
  rendered: paint ? paint.startTime : null,
  loaded: nav.loadEventEnd,
  response: nav.responseEnd,
  waited: nav.requestStart - nav.startTime,
  server: nav.responseStart - nav.requestStart,
  transferred: entries.reduce((sum, e) => sum + (e.transferSize || 0), 0),
  bodies: entries.reduce((sum, e) => sum + (e.encodedBodySize || 0), 0),
  rows: document.querySelectorAll('#log tbody tr').length,
};
"""


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main():
    launch_url, base_url, clients, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    options = webdriver.ChromeOptions()
    if os.path.exists("/usr/bin/chromium"):
        options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(launch_url)
        deadline = time.monotonic() + 20
        while "/launch" in driver.current_url and time.monotonic() < deadline:
            time.sleep(0.05)
        first = driver.execute_script(TIMING)
        random.seed(20261203)
        print(f"\nthe web page in headless Chromium ({samples} loads of each screen, one at a time):")
        print(f"{'screen':<16} | {'rendered p50':>12} {'p95':>8} | {'loaded p50':>10} {'p95':>8} | {'rows':>4} | {'bytes later':>11} | goal")
        for name, path in (("client timeline", lambda: f"/clients/c-{random.randrange(clients)}"), ("board", lambda: "/board")):
            measured = []
            for _ in range(samples + 3):
                driver.get(base_url + path())
                measured.append(driver.execute_script(TIMING))
            measured = measured[3:]  # warm-up
            rendered = [m["rendered"] for m in measured if m["rendered"] is not None]
            loaded = [m["loaded"] for m in measured]
            p95 = percentile(rendered, 0.95)
            print(f"{name:<16} | {percentile(rendered, 0.5):9.1f} ms {p95:5.1f} ms | {percentile(loaded, 0.5):7.1f} ms {percentile(loaded, 0.95):5.1f} ms"
                  f" | {round(sum(m['rows'] for m in measured) / len(measured)):>4} | {round(sum(m['transferred'] for m in measured) / len(measured)):>9} B"
                  f" | 300 ms {'met' if p95 < 300 else 'missed'}")
            slowest = max(measured, key=lambda m: m["rendered"] or 0)
            print(f"{'':<16}   slowest: {slowest['rendered']:.0f} ms to render; before the request {slowest['waited']:.0f} ms,"
                  f" the server {slowest['server']:.0f} ms")
        print(f"first load (empty cache, board): {first['bodies']} bytes of page and assets, {first['transferred']} transferred (limit 150 KB)")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()

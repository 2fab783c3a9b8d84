"""The pages as a recruiting lead uses them, in real headless Chromium (Selenium) against
`radar up` on the test broker: sign in with the link it prints, watch an alert arrive in the
open inbox without a reload, open the candidate, mark the lead contacted, hand it off, draft a
role from a pasted job description, save it, see its backfilled alerts, read the funnel.
Every page is photographed at 1280 and 390 pixels wide under the test's output folder (and
under RADAR_SCREENSHOTS, when set, to refresh the README's pictures)."""
from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.adapters.kafka.local_broker import free_port
from tests.e2e.test_radar_up import http_get, stop_radar_up, wait_for
from tests.helpers import note, position, profile_event, role_spec
from tests.integration.kafka_helpers import Deployment

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
WIDTHS = (1280, 390)
JOB = """Staff Platform Engineer

We run payments for 40 million people. About us: our back office is written in Java.

What you bring:
- 8+ years in backend or platform engineering
- Go and Kubernetes in production
- Kafka at scale

Nice to have: Terraform, Rust.
Remote within Europe, or hybrid in Berlin."""


def chromium():
    """Debian's chromium and chromium-driver; skipped where they are not installed, unless
    RADAR_REQUIRE_BROWSER is set (CI sets it, so a missing browser fails there)."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        if os.environ.get("RADAR_REQUIRE_BROWSER"):
            pytest.fail("chromium and chromium-driver are needed (apt-get install chromium chromium-driver)")
        pytest.skip("no chromium / chromedriver here (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=en-GB"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


class Photographer:
    def __init__(self, browser, folders: list[Path]):
        self.browser, self.folders = browser, folders
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)

    def shoot(self, name: str) -> None:
        """The whole page at each width (390: as a phone shows it), then back to the desktop."""
        for width in WIDTHS:
            self.browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
            size = self.browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            shot = self.browser.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], 6000), "scale": 1}})
            for folder in self.folders:
                (folder / f"{name}-{width}.png").write_bytes(base64.b64decode(shot["data"]))
        self.browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.fixture
def radar_up(kafka_bootstrap, tmp_path):
    """`radar up` against the session's broker (it starts none), on a fresh SQLite store."""
    port = free_port()
    deployment = Deployment(kafka_bootstrap, f"sqlite:///{tmp_path / 'radar.db'}", tmp_path)
    deployment.create_topics()
    env = dict(deployment.env, RADAR_API_PORT=str(port))
    log_path = tmp_path / "up.log"
    log = open(log_path, "wb")
    up = subprocess.Popen([sys.executable, "-m", "services.cli", "up"], env=env, cwd=tmp_path, stdout=log,
                          stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: http_get(f"http://127.0.0.1:{port}/livez")[0] == 200, 120, "the API")
        wait_for(lambda: "/login?token=" in log_path.read_text(errors="replace"), 30, "the sign-in link")
        link = next(line.strip() for line in log_path.read_text().splitlines() if "/login?token=" in line)
        yield deployment, f"http://127.0.0.1:{port}", link
    finally:
        stop_radar_up(up, log)


def test_a_morning_in_the_pages(radar_up, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import WebDriverWait

    deployment, site, link = radar_up
    browser = chromium()
    folders = [tmp_path / "screenshots"] + ([Path(os.environ["RADAR_SCREENSHOTS"])]
                                            if os.environ.get("RADAR_SCREENSHOTS") else [])
    camera = Photographer(browser, folders)
    wait = WebDriverWait(browser, 90)
    try:
        browser.get(f"{site}/login")
        camera.shoot("login")
        browser.get(link)  # the one-time link: signed in, on the inbox
        wait.until(shows.presence_of_element_located((By.ID, "live")))
        assert "No new leads" in browser.page_source
        browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
        assert browser.switch_to.active_element.text == "Skip to content"  # the keyboard starts at the top

        deployment.send("role-specs", [role_spec("r-7", owner="lead@example.com", locations=["Lisbon"]),
                                       role_spec("r-8", title="Backend Engineer", must_have=["Go"],
                                                 nice_to_have=["Kafka"], seniority=["senior", "staff"])],
                        key_field="role_id")
        deployment.wait_for_role("r-7")
        deployment.wait_for_role("r-8")
        browser.execute_script("window.stillThisPage = true")
        deployment.send("profile-events", demo_people(), key_field="candidate_id")
        deployment.send("interview-notes", [note("n-1", "c-1", "Ana is strong in Kafka and Python; she asked us "
                                                 "to check back in 2 months.", occurred_at="2026-11-22T15:30:00Z")],
                        key_field="candidate_id")
        card = wait.until(shows.presence_of_element_located((By.ID, "lead-r-7--c-1")))
        assert browser.execute_script("return window.stillThisPage") is True  # no reload: pushed
        assert "fresh" in card.get_attribute("class") and "Ana Sousa" in card.text
        wait.until(lambda _: len(browser.find_elements(By.CSS_SELECTOR, "article.lead")) >= 5)
        browser.refresh()
        camera.shoot("inbox")

        browser.find_element(By.CSS_SELECTOR, "#lead-r-7--c-1 h3 a").click()
        wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, "mark.readiness")))
        assert "Ana Sousa" in browser.find_element(By.TAG_NAME, "h1").text
        camera.shoot("candidate")

        browser.get(f"{site}/")
        browser.find_element(By.CSS_SELECTOR, "#lead-r-7--c-1 button[aria-label^='Contacted']").click()
        wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, ".notice")))
        assert "Marked contacted" in browser.find_element(By.CSS_SELECTOR, ".notice").text
        deployment.wait_for_sql("SELECT status FROM leads WHERE role_id = 'r-7' AND candidate_id = 'c-1'", {},
                                "contacted")
        browser.get(f"{site}/?status=contacted")
        card = browser.find_element(By.ID, "lead-r-7--c-1")
        hand_off = next(d for d in card.find_elements(By.TAG_NAME, "details") if "Hand off" in d.text)
        hand_off.find_element(By.TAG_NAME, "summary").click()
        hand_off.find_element(By.NAME, "assignee").send_keys("Jo Recruiter")
        hand_off.find_element(By.NAME, "note").send_keys("warm: replied on LinkedIn, call after 5")
        hand_off.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        deployment.wait_for_sql("SELECT status FROM leads WHERE role_id = 'r-7' AND candidate_id = 'c-1'", {},
                                "handed_off")

        browser.get(f"{site}/roles/new")
        browser.execute_script("document.getElementById('description').value = arguments[0]", JOB)
        browser.find_element(By.CSS_SELECTOR, "button[value=draft]").click()
        wait.until(shows.presence_of_element_located((By.CSS_SELECTOR, "table.evidence")))
        must = browser.find_element(By.ID, "must_have").get_attribute("value")
        assert {"Go", "Kubernetes", "Kafka"} <= set(must.split(", ")) and "Java" not in must
        assert "8+ years" in browser.find_element(By.CSS_SELECTOR, "table.evidence").text
        browser.find_element(By.ID, "role_id").send_keys("r-9")
        browser.find_element(By.ID, "threshold").clear()
        browser.find_element(By.ID, "threshold").send_keys("0.5")
        browser.find_element(By.CSS_SELECTOR, "button[value=preview]").click()
        relevant = wait.until(shows.presence_of_element_located((By.ID, "relevant"))).text
        assert relevant.startswith("1 stored candidate")
        camera.shoot("editor")
        browser.find_element(By.CSS_SELECTOR, "button[value=save]").click()
        wait.until(lambda _: "lead-r-9--c-2" in reloaded(browser, f"{site}/roles/r-9"))  # its backfilled alert
        camera.shoot("role")

        browser.get(f"{site}/roles/r-7")
        funnel = browser.find_element(By.CSS_SELECTOR, "#funnel-t").get_attribute("textContent")
        assert "contacted 1" in funnel and "handed off 1" in funnel
        browser.get(f"{site}/overview")
        assert "Funnel across roles" in browser.page_source
        camera.shoot("overview")
        browser.get(f"{site}/ops")
        assert "Consumer lag" in browser.page_source
        camera.shoot("ops")
    finally:
        browser.quit()
    shots = sorted(p.name for p in (tmp_path / "screenshots").iterdir())
    assert len(shots) == 7 * len(WIDTHS), shots


def reloaded(browser, url: str) -> str:
    browser.get(url)
    time.sleep(0.5)
    return browser.page_source


def demo_people() -> list[dict]:
    return [
        profile_event("p-1", "c-1", "2026-11-20T10:00:00Z", name="Ana Sousa", headline="Data engineer",
                      location="Lisbon, Portugal", skills=["Python", "Kafka", "SQL"], years_experience=5,
                      positions=[position("Data Engineer", "Northwind", start="2022-03")]),
        profile_event("p-2", "c-2", "2026-11-20T11:00:00Z", name="Bruno Lima", headline="Platform engineer",
                      location="Berlin, Germany", skills=["Go", "Kubernetes", "Kafka", "Terraform"], years_experience=12,
                      positions=[position("Staff Engineer", "Globex", start="2019-01"),
                                 position("Senior Engineer", "Initech", start="2014-01", end="2018-12")]),
        profile_event("p-3", "c-3", "2026-11-20T12:00:00Z", name="Chen Wei", headline="Senior backend engineer",
                      location="Lisbon, Portugal", skills=["Python", "Kafka", "Go"], years_experience=9,
                      positions=[position("Senior Backend Engineer", "Umbrella", start="2021-06")]),
        # Dana learns Kafka (a new skill): her alert is the signal's
        profile_event("p-4", "c-4", "2026-11-18T09:00:00Z", name="Dana Kim", headline="Backend engineer",
                      location="Lisbon, Portugal", skills=["Python"], years_experience=4,
                      positions=[position("Engineer", "Hooli", start="2023-02")]),
        profile_event("p-5", "c-4", "2026-11-21T09:00:00Z", skills=["Python", "Kafka"]),
        # Ana is promoted
        profile_event("p-6", "c-1", "2026-11-23T10:00:00Z",
                      positions=[position("Senior Data Engineer", "Northwind", start="2022-03")]),
    ]

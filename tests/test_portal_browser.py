"""The portal in a real browser: Debian's Chromium, driven by Selenium through the system's
chromedriver (``.ci/run`` installs both with apt-get; nothing is downloaded).

An employee on a phone-sized window types a problem, sees a knowledge-base article
suggested while typing, submits, gets the number, and adds a comment."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from conftest import SHANGHAI, Itdesk
from test_portal import Portal, serve  # noqa: F401  (the fixture)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (.ci/run installs them)",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run"):  # fmt: skip
        options.add_argument(arg)
    # a phone: 390 CSS pixels wide, touch, its user agent
    options.add_experimental_option(
        "mobileEmulation", {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0}}
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_an_employee_reports_a_problem_on_a_phone(
    desk: Itdesk,
    serve: Callable[[Itdesk], Portal],  # noqa: F811
    browser: Any,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    tid = desk.new(now="2024-05-06T08:00", title="VPN连接报错809", description="VPN 报错 809")
    desk.walk(tid, "resolve", start=datetime(2024, 5, 6, 8, 0, tzinfo=SHANGHAI))
    desk.ok("kb", "promote", tid, "--now", "2024-05-06T08:59")
    portal = serve(desk)
    wait = WebDriverWait(browser, 60)  # a loaded 2-core machine: generous, never a sleep

    browser.get(portal.base + "/?lang=zh")
    assert "报告IT问题" in browser.page_source
    browser.find_element(By.ID, "title").send_keys("VPN连不上")
    # the article is offered while typing, before anything is submitted
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#suggestions a")))
    offered = browser.find_element(By.CSS_SELECTOR, "#suggestions a")
    assert offered.get_attribute("href").startswith(portal.base + "/kb/")
    browser.find_element(By.ID, "requester").send_keys("王小明")
    browser.find_element(By.ID, "contact").send_keys("13912345678")
    browser.find_element(By.ID, "description").send_keys("在家连VPN报错809")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()

    number = wait.until(ec.presence_of_element_located((By.ID, "number"))).text
    assert number == "IT-20240506-002"
    assert "/t/" in browser.current_url and number not in browser.current_url
    assert browser.find_element(By.ID, "status").text == "已提交"
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[1] == 390 and widths[0] <= widths[1]  # nothing wider than the phone

    browser.find_element(By.ID, "comment").send_keys("下午在工位")
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    wait.until(ec.url_contains("done=1"))
    assert "下午在工位" in browser.page_source
    assert desk.ticket(number)["log"][-1]["text"] == "王小明 (portal): 下午在工位"

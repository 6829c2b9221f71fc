"""The survey page in a real browser: headless Chromium (Debian's package, driven by Playwright)
opens the link at a 360-px phone width, fills the form by keyboard alone, submits, and axe-core
checks the form and the thank-you page. Screenshots land in the test's tmp_path.

Off CI without Chromium or Playwright the test skips and says why; with CI=true it fails
instead (.ci/run installs Chromium).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ON_CI, LiveServer
from tests.support.referrals import World
from tests.support.surveys import SURVEY, invited

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
COMMENT = "Friendly staff, clear explanations."


def _missing() -> str | None:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.async_api  # noqa: F401
    except ImportError as error:
        return f"Playwright or axe-playwright-python is not installed ({error.name})"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    return None


@pytest.fixture
def chromium_ready() -> None:
    missing = _missing()
    if missing is None:
        return
    if ON_CI:
        pytest.fail(f"CI=true and the browser test cannot run: {missing}")
    pytest.skip(f"{missing} (set CI=true to make this fail)")


def _report(results: Any) -> str:
    return "\n".join(
        f"{violation['id']} ({violation['impact']}): {violation['help']} — "
        + "; ".join(node["target"][0] for node in violation["nodes"])
        for violation in results.response["violations"]
    )


async def test_the_survey_by_keyboard_in_chromium_passes_axe(
    chromium_ready: None, world: World, live_server: LiveServer, tmp_path: Path
) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import async_playwright

    survey = await invited(world)
    url = live_server.base_url + survey.path
    axe = Axe()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US")
            page = await context.new_page()
            response = await page.goto(url)
            assert response is not None and response.status == 200
            assert await page.get_attribute("html", "lang") == "en"
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, f"the page scrolls sideways at 360 px ({width} px wide)"

            form_check = await axe.run(page)
            await page.screenshot(path=str(tmp_path / "survey-form.png"), full_page=True)
            assert form_check.violations_count == 0, _report(form_check)

            # keyboard only: Tab into each radio group, Space picks, arrows move the choice
            keyboard = page.keyboard
            await keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "overall-1"
            outline = await page.evaluate(
                "getComputedStyle(document.querySelector('label[for=overall-1]')).outlineStyle"
            )
            assert outline == "solid", "the focused choice has no visible focus outline"
            await keyboard.press("Space")
            for _ in range(3):
                await keyboard.press("ArrowRight")
            await keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "recommend-0"
            await keyboard.press("Space")
            for _ in range(9):
                await keyboard.press("ArrowRight")
            await keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "wait-yes"
            await keyboard.press("Space")
            await keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "comment"
            await keyboard.type(COMMENT)
            await keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.tagName") == "BUTTON"
            await page.screenshot(path=str(tmp_path / "survey-filled.png"), full_page=True)
            async with page.expect_navigation():
                await keyboard.press("Enter")

            assert await page.text_content("h1") == "Thank you"
            thanks_check = await axe.run(page)
            await page.screenshot(path=str(tmp_path / "survey-thanks.png"), full_page=True)
            assert thanks_check.violations_count == 0, _report(thanks_check)
            await context.close()
        finally:
            await browser.close()

    data = await world.api.data(SURVEY, {"id": survey.referral["id"]}, token=world.referrer.token)
    answer = data["referral"]["survey"]["answer"]
    assert answer["overall"] == 4
    assert answer["recommend"] == 9
    assert answer["waitAcceptable"] is True
    assert answer["comment"] == COMMENT
    assert (tmp_path / "survey-form.png").stat().st_size > 0

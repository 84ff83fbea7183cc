"""Contrast and structure measured in a real browser: text on the main landmarks reaches WCAG AA (4.5:1)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# WCAG 2 relative luminance and contrast ratio of an element's text against the first opaque background behind it.
CONTRAST_JS = """
(selector) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const [r, g, b, a] = parse(getComputedStyle(node).backgroundColor);
      if (a === undefined || a > 0.99) return [r, g, b];
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)].filter((el) => el.offsetParent !== null).map((el) => {
    const [r, g, b, a] = parse(getComputedStyle(el).color);
    const bg = background(el);
    const alpha = a === undefined ? 1 : a;
    const fg = [r, g, b].map((v, i) => v * alpha + bg[i] * (1 - alpha));
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    return {text: el.textContent.trim().slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05)};
  });
}
"""


def low_contrast(page, selector: str) -> list:
    return [item for item in page.evaluate(CONTRAST_JS, selector) if item["ratio"] < 4.5]


SELECTORS = (
    "header .nav-link",
    "header .navbar-brand",
    "main h1",
    "main h2",
    "main p",
    "main a",
    "main th",
    "main td",
    "main label",
    "main .badge",
    "main .btn",
    "footer span",
    "footer a",
)


@pytest.mark.parametrize(
    "email, path",
    [
        ("admin@att.example", "/"),
        ("admin@att.example", "/reports/"),
        ("staff@att.example", "/my-codes/"),
        ("staff@att.example", "/codes/att-staff-code-of-conduct/"),
        ("clerk@llt.example", "/"),
    ],
)
def test_text_on_key_pages_reaches_aa_contrast(demo, page, browser_login, email, path):
    browser_login(page, email, "conduct-demo-2025")
    page.goto(path)
    page.wait_for_load_state("networkidle")
    for selector in SELECTORS:
        assert low_contrast(page, selector) == [], (path, selector)


def test_pages_have_one_h1_landmarks_and_labelled_fields(demo, page, browser_login):
    browser_login(page, "staff@att.example", "conduct-demo-2025")
    page.get_by_role("link", name="Staff Code of Conduct").first.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").count() == 1
    assert page.locator("header nav[aria-label]").count() >= 1 and page.locator("main#main").count() == 1
    assert page.locator("footer").count() == 1
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]
                 .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                                  && !el.getAttribute('aria-labelledby')).map((el) => el.name)"""
    )
    assert unlabelled == []
    # The skip link is the first thing a keyboard user reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"

"""Issue 18, item 6 in Chromium: with the Content-Security-Policy (no 'unsafe-inline' scripts) the
worker list and the worker form still work (the filter menu, the IIN script, an inline list's "Add",
the delete confirmation), and the browser reports no CSP violation. A screenshot of the form is kept in
test-artifacts/e2e/csp/."""
from __future__ import annotations

from .conftest import ARTIFACTS

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


def _violations(page, console) -> list[str]:
    found = list(page.evaluate("window.__csp || []"))
    found += [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    return found


def test_worker_list_and_form_work_under_the_csp(context, as_role):
    context.add_init_script(WATCH)
    page = as_role("hr")
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    out = ARTIFACTS / "csp"
    out.mkdir(parents=True, exist_ok=True)

    page.goto("/admin/workers/?lang=en")
    assert "script-src 'self' 'nonce-" in (page.context.request.get("/admin/workers/").headers
                                           .get("content-security-policy", ""))
    assert page.locator("table.model-list tbody tr").count() > 0
    page.get_by_text("Add Filter").click()
    page.locator("a.dropdown-item.filter").first.click()
    assert page.locator("table.filters tr, #filter-form .filter-row, .filters .form-group").count() >= 1
    assert page.url.split("#")[0].endswith("/admin/workers/?lang=en")  # the javascript: link was not followed
    page.screenshot(path=str(out / "worker-list.png"), full_page=True)
    assert _violations(page, console) == [], _violations(page, console)

    page.goto("/admin/workers/new/?lang=en")
    page.locator("#iin").fill("870412400711")  # the IIN script (inline, with the nonce) fills the birth date
    assert page.locator("#birth_date").input_value() in ("1987-04-12", "12.04.1987")
    assert page.locator("#sex").input_value() == "F"
    adds = page.locator("[data-add-inline]")
    if adds.count():
        before = page.locator(".inline-field").count()
        adds.first.click()
        assert page.locator(".inline-field").count() == before + 1
    page.screenshot(path=str(out / "worker-form.png"), full_page=True)
    assert _violations(page, console) == [], _violations(page, console)
    assert page.js_errors == []

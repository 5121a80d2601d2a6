"""Issue 15 item 1 in a browser: on the Create form (kk) typing a valid IIN fills the date of birth
and the sex (the script of workers/_iin_fill.html, with profreg.identity's rule as data), and the
required selects start on the "— choose —" placeholder, with no ``__None`` in sight."""
from __future__ import annotations


def test_typing_an_iin_fills_birth_date_and_sex(as_role):
    page = as_role("hr", lang="kk")
    page.goto("/admin/workers/new/?lang=kk")
    assert "__None" not in page.locator("body").inner_text()
    assert page.locator("#sex").input_value() == "__None"
    assert page.locator("#hire_position").input_value() == "__None"

    page.locator("#iin").fill("870412400711")
    date_format = page.locator("#birth_date").get_attribute("data-date-format")
    expected = {"YYYY-MM-DD": "1987-04-12", "DD.MM.YYYY": "12.04.1987"}[date_format]
    assert page.locator("#birth_date").input_value() == expected
    assert page.locator("#sex").input_value() == "F"
    # select2 shows the chosen sex in the page's language
    assert "Әйел" in page.locator("#s2id_sex, #sex + .select2, .select2-container:near(#sex)").first.inner_text()

    page.locator("#birth_date").fill("13.04.1987")  # still editable: the server checks it on save
    assert page.locator("#birth_date").input_value() == "13.04.1987"

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import replace
from itertools import product

import pytest

from rules.model import Compliance
from rules.registry import DEFAULT_RULES as RULES  # what a scan runs by default
from rules.reports import render
from rules.reports.common import Result
from tests.reports_helpers import organization_results, sample_results
from tests.reports_html_tree import Element, parse_html

# Listed out of order: the report sorts accounts, then Regions.
ACCOUNTS = ["555566667777", "111122223333", "999900001111", "222233334444", "444455556666"]
REGIONS = ["us-east-1", "eu-west-1"]
# The five core rules: 10,000 rows of 2,000 functions, whatever rules the registry adds.
CORE_RULES = RULES[:5]
PER_PLACE = 10_000 // (len(ACCOUNTS) * len(REGIONS) * len(CORE_RULES))
HOSTILE = [
    "</script><script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "<!-- <svg onload=alert(1)>",
]


@pytest.fixture(scope="module")
def org() -> tuple[list[Result], str, Element]:
    results = organization_results(ACCOUNTS, REGIONS, PER_PLACE, CORE_RULES)
    assert len(results) == 10_000
    page = render("html", results, notes=["source: <Config aggregator>"])
    return results, page, parse_html(page)


def groups(root: Element) -> list[Element]:
    [table] = root.find("table", id="evaluations")
    return list(table.iter("tbody"))


def data_rows(body: Element) -> list[Element]:
    return [row for row in body.iter("tr") if row.attrs.get("class") != "group-head"]


def counts_shown(root: Element, group: str) -> list[dict[str, int]]:
    """Each place the page shows ``group``'s counts: {compliance: count}."""
    spans = [s for s in root.iter("span") if s.attrs.get("data-g") == group]
    places: list[dict[str, int]] = []
    for span in spans:
        if not places or str(span.attrs["data-c"]) in places[-1]:
            places.append({})
        places[-1][str(span.attrs["data-c"])] = int(span.text())
    return places


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def csp_of(root: Element) -> dict[str, list[str]]:
    [meta] = [m for m in root.iter("meta") if m.attrs.get("http-equiv")]
    assert meta.attrs["http-equiv"] == "Content-Security-Policy"
    directives = [d.split() for d in str(meta.attrs["content"]).split(";")]
    return {d[0]: d[1:] for d in directives}


def test_ten_thousand_rows_grouped_by_account_then_region(org) -> None:
    results, _, root = org
    bodies = groups(root)
    places = [(b.attrs["data-account"], b.attrs["data-region"]) for b in bodies]
    assert places == sorted(product(ACCOUNTS, REGIONS))
    for body, place in zip(bodies, places, strict=True):
        expected = [r for r in results if r.place == place]  # in the order they came
        rows = data_rows(body)
        assert [tuple(c.text() for c in row.elements()) for row in rows] == [
            (
                r.evaluation.resource_id,
                r.evaluation.rule_id,
                r.severity.value if r.severity else "",
                r.evaluation.compliance.value,
                r.evaluation.annotation,
            )
            for r in expected
        ]
        assert [row.elements()[0].attrs["title"] for row in rows] == [r.arn for r in expected]
        [head] = [row for row in body.iter("tr") if row.attrs.get("class") == "group-head"]
        assert head.text().startswith(f"Account {place[0]}, Region {place[1]}: ")
    assert sum(len(data_rows(b)) for b in bodies) == 10_000


def test_counts_per_group_and_overall_match_the_rows(org) -> None:
    results, page, root = org
    for index, place in enumerate(sorted(product(ACCOUNTS, REGIONS))):
        expected = Counter(r.evaluation.compliance.value for r in results if r.place == place)
        assert set(expected) == {c.value for c in Compliance}  # every compliance is counted
        shown = counts_shown(root, str(index))
        assert len(shown) == 2  # the per-place table and the group's head
        assert all(s == dict(expected) for s in shown)
    overall = Counter(r.evaluation.compliance.value for r in results)
    [shown] = counts_shown(root, "all")
    assert shown == {"all": 10_000, **overall}
    failing = overall[Compliance.NON_COMPLIANT.value]
    resources = len(ACCOUNTS) * len(REGIONS) * PER_PLACE
    assert f"10000 evaluations of {resources} resource(s): {failing} non-compliant." in page


def test_the_page_stays_small_at_ten_thousand_rows(org) -> None:
    _, page, _ = org
    size = len(page.encode("utf-8"))
    # Measured: about 2.9 MB (recorded in the README). The bound catches a markup blow-up, e.g.
    # the annotation written twice per row, or per-row data attributes the script can read.
    assert size < 10_000 * 350, size


def test_csp_allows_exactly_the_one_inline_script_and_style_by_hash(org) -> None:
    _, _, root = org
    csp = csp_of(root)
    [script] = list(root.iter("script"))
    [style] = list(root.iter("style"))
    assert script.attrs == {} and style.attrs == {}  # no src, no nonce needed
    assert csp == {
        "default-src": ["'none'"],
        "script-src": [sha256_source(script.text())],
        "style-src": [sha256_source(style.text())],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
    order = [e.tag for e in root.iter() if e.tag in {"meta", "style", "script"}]
    assert order == ["meta", "meta", "style", "script"]  # the policy precedes what it allows


def test_no_inline_handler_remote_code_or_eval(org) -> None:
    _, page, root = org
    elements = list(root.iter())
    assert not [(e.tag, a) for e in elements for a in e.attrs if a.startswith("on") or a == "style"]
    assert not [e.tag for e in elements if e.tag in {"iframe", "object", "embed", "img", "link"}]
    assert not [v for e in elements for v in e.attrs.values() if v and "javascript:" in v.lower()]
    [script] = list(root.iter("script"))
    code = script.text()
    for forbidden in (
        "eval(",
        "Function(",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "import(",
        "fetch(",
        "XMLHttpRequest",
        "</",
        "<!--",
    ):
        assert forbidden not in code
    assert page.count("<script") == 1


def test_without_javascript_every_row_shows_and_the_controls_do_not(org) -> None:
    _, _, root = org
    [controls] = root.find("div", id="controls")
    assert "hidden" in controls.attrs
    hidden = [e.tag for e in root.iter() if "hidden" in e.attrs and e is not controls]
    assert hidden == []
    [table] = root.find("table", id="evaluations")
    headers = list(table.iter("th"))[:5]
    assert [h.attrs["data-sort"] for h in headers] == [
        "resource",
        "rule",
        "severity",
        "compliance",
        "annotation",
    ]
    assert not list(table.iter("button"))  # the script adds the sort buttons


def test_filters_offer_every_account_region_rule_severity_and_compliance(org) -> None:
    _, _, root = org
    [controls] = root.find("div", id="controls")
    options = {
        str(select.attrs["name"]): [o.attrs["value"] for o in select.iter("option")]
        for select in controls.iter("select")
    }
    assert options == {
        "account": ["*", *sorted(ACCOUNTS)],
        "region": ["*", *sorted(REGIONS)],
        "rule": ["*", *(rule.id for rule in CORE_RULES)],
        "severity": ["*", "CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"],
        "compliance": ["*", "NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE"],
    }
    assert len(list(controls.iter("input"))) == 1  # the search
    assert [b.text() for b in controls.iter("button")] == ["Clear filters", "Export CSV"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_names_places_and_annotations_stay_text(text: str) -> None:
    base = sample_results()[0]
    arn = f"arn:aws:lambda:{text}:{text}:function:{text}"
    result = Result(replace(base.evaluation, resource_id=text, annotation=text), arn)
    page = render("html", [result], notes=[text])
    root = parse_html(page)
    assert [e.tag for e in root.iter() if e.tag in {"script", "img", "svg"}] == ["script"]
    assert not [a for e in root.iter() for a in e.attrs if a.startswith("on")]
    [body] = groups(root)
    assert (body.attrs["data-account"], body.attrs["data-region"]) == (text, text)
    [row] = data_rows(body)
    cells = row.elements()
    assert (cells[0].text(), cells[0].attrs["title"], cells[4].text()) == (text, arn, text)
    assert [o.attrs["value"] for o in root.find("select", name="account")[0].iter("option")] == [
        "*",
        text,
    ]
    assert f"<p>{text}</p>" not in page


def test_results_without_an_arn_form_an_unknown_group_last() -> None:
    known = sample_results()[:2]
    unknown = Result(replace(known[0].evaluation, resource_id="gone"))
    root = parse_html(render("html", [unknown, *known]))
    bodies = groups(root)
    assert [(b.attrs["data-account"], b.attrs["data-region"]) for b in bodies] == [
        ("111122223333", "eu-west-1"),
        ("", ""),
    ]
    assert "Account unknown, Region unknown" in bodies[1].text()
    account_options = root.find("select", name="account")[0].iter("option")
    assert [(o.attrs["value"], o.text()) for o in account_options] == [
        ("*", "all"),
        ("111122223333", "111122223333"),
        ("", "unknown"),
    ]


def test_summaries_count_per_severity_and_rule() -> None:
    results = sample_results()
    page = render("html", results)
    failing = sum(r.evaluation.compliance is Compliance.NON_COMPLIANT for r in results)
    assert f"{len(results)} evaluations of 2 resource(s): {failing} non-compliant." in page
    assert '<span class="sev sev-CRITICAL">CRITICAL</span></td><td>1</td>' in page
    assert "http://" not in page

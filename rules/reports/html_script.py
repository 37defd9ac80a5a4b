"""The HTML report's one inline script: sorting, filters, search, live counts and CSV export.

The page's Content-Security-Policy allows exactly this text (``script-src 'sha256-...'``
computed from it when the page is rendered), so the script is constant: it reads everything from
the table (``textContent``, ``title``, ``data-*``), never writes markup (no ``innerHTML``), never
evaluates text (no ``eval``, no string timers) and loads nothing. The export writes the rows
the filters leave, then every row of the "No verdict" table (compliance ``NO_VERDICT``, no
rule, no severity), whatever the filters: what was not evaluated is never left out. The pure
part (``guardrails``: CSV cells, matching, ordering, counting) touches no DOM, so ``node`` can
run it in the tests.
Without JavaScript the page shows every row, grouped, and hides the controls.
"""

from __future__ import annotations

SCRIPT = r"""
"use strict";
const guardrails = (() => {
  const ANY = "*";
  const SEVERITY = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"];
  const COMPLIANCE = ["NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE"];
  const COLUMNS = ["account_id", "region", "rule", "severity", "compliance",
    "resource_id", "resource_arn", "annotation"];
  const FILTERS = ["account", "region", "rule", "severity", "compliance"];
  const FORMULA = /^[=+\-@\t\r]/;
  const collator = new Intl.Collator("en", {numeric: true, sensitivity: "base"});

  function csvCell(value) {
    const text = FORMULA.test(value) ? "'" + value : value;
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function csvFields(record) {
    return [record.account, record.region, record.rule, record.severity, record.compliance,
      record.resource, record.arn, record.annotation];
  }
  function csvText(records) {
    const lines = [COLUMNS, ...records.map(csvFields)];
    return lines.map((fields) => fields.map(csvCell).join(",") + "\r\n").join("");
  }
  function matches(record, filters) {
    for (const name of FILTERS) {
      if (filters[name] !== ANY && record[name] !== filters[name]) return false;
    }
    return filters.text === "" || record.haystack.includes(filters.text);
  }
  function rank(order, value) {
    const index = order.indexOf(value);
    return index < 0 ? order.length : index;
  }
  function compare(a, b, column, descending) {
    let order;
    if (column === "severity") order = rank(SEVERITY, a.severity) - rank(SEVERITY, b.severity);
    else if (column === "compliance") {
      order = rank(COMPLIANCE, a.compliance) - rank(COMPLIANCE, b.compliance);
    } else order = collator.compare(a[column], b[column]);
    return descending ? -order : order;
  }
  function counts(records, filters) {
    const tally = new Map();
    const bump = (key) => tally.set(key, (tally.get(key) || 0) + 1);
    for (const record of records) {
      if (!matches(record, filters)) continue;
      for (const group of [String(record.group), "all"]) {
        bump(group + "|" + record.compliance);
        bump(group + "|all");
      }
    }
    return tally;
  }
  function haystack(record) {
    return [record.account, record.region, record.resource, record.arn, record.rule,
      record.severity, record.compliance, record.annotation].join("\n").toLowerCase();
  }
  return {ANY, csvText, matches, compare, counts, haystack};
})();

if (typeof document !== "undefined") {
  (() => {
    const table = document.getElementById("evaluations");
    const controls = document.getElementById("controls");
    if (!table || !controls) return;
    const bodies = Array.from(table.tBodies);
    const records = [];
    const byRow = new Map();
    bodies.forEach((body, group) => {
      for (const row of body.rows) {
        if (row.classList.contains("group-head")) continue;
        const cells = row.cells;
        const record = {
          row, group, account: body.dataset.account, region: body.dataset.region,
          resource: cells[0].textContent, arn: cells[0].title, rule: cells[1].textContent,
          severity: cells[2].textContent, compliance: cells[3].textContent,
          annotation: cells[4].textContent,
        };
        record.haystack = guardrails.haystack(record);
        records.push(record);
        byRow.set(row, record);
      }
    });
    const problems = [];
    const noVerdict = document.getElementById("no-verdict");
    for (const body of noVerdict ? noVerdict.tBodies : []) {
      for (const row of body.rows) {
        const cells = row.cells;
        problems.push({
          account: cells[0].textContent, region: cells[1].textContent, rule: "", severity: "",
          compliance: "NO_VERDICT", resource: cells[2].textContent, arn: cells[2].title,
          annotation: cells[3].textContent,
        });
      }
    }
    const selects = Array.from(controls.querySelectorAll("select[name]"));
    const search = controls.querySelector("input[type=search]");

    function filters() {
      const chosen = {text: search.value.trim().toLowerCase()};
      for (const select of selects) chosen[select.name] = select.value;
      return chosen;
    }
    function apply() {
      const chosen = filters();
      for (const record of records) {
        const hide = !guardrails.matches(record, chosen);
        if (record.row.hidden !== hide) record.row.hidden = hide;
      }
      const tally = guardrails.counts(records, chosen);
      for (const element of document.querySelectorAll("[data-g]")) {
        const count = tally.get(element.dataset.g + "|" + element.dataset.c) || 0;
        element.textContent = String(count);
      }
      bodies.forEach((body, group) => { body.hidden = !tally.get(group + "|all"); });
    }
    function sortBy(header, column) {
      const descending = header.getAttribute("aria-sort") === "ascending";
      for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
      header.setAttribute("aria-sort", descending ? "descending" : "ascending");
      records.sort((a, b) => guardrails.compare(a, b, column, descending));
      for (const record of records) bodies[record.group].appendChild(record.row);
    }
    function visibleInOrder() {
      const shown = [];
      for (const body of bodies) {
        for (const row of body.rows) {
          const record = byRow.get(row);
          if (record && !row.hidden) shown.push(record);
        }
      }
      return shown;
    }
    function exportCsv() {
      const rows = [...visibleInOrder(), ...problems];
      const blob = new Blob([guardrails.csvText(rows)], {type: "text/csv"});
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = "lambda-guardrails.csv";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    }

    for (const header of table.tHead.rows[0].cells) {
      const column = header.dataset.sort;
      if (!column) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = header.textContent;
      button.addEventListener("click", () => sortBy(header, column));
      header.replaceChildren(button);
    }
    let timer = 0;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(apply, 150);
    });
    for (const select of selects) select.addEventListener("change", apply);
    document.getElementById("reset").addEventListener("click", () => {
      for (const select of selects) select.value = guardrails.ANY;
      search.value = "";
      apply();
    });
    document.getElementById("export").addEventListener("click", exportCsv);
    controls.hidden = false;
  })();
}
"""

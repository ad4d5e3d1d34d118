"""A JUnit XML report of a fault run: one test case per phase, failed when a must-be-zero
count is not zero or a check failed (scripts/lib/junit_summary.py sums it with the others)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Optional

from checks import COLUMNS, PhaseResult


def write_junit(path: str, suite: str, results: dict[str, PhaseResult], error: Optional[str]) -> None:
    cases = []
    for res in results.values():
        case = ET.Element("testcase", classname=suite, name=res.name)
        counts = ", ".join(f"{k} {res.counts[k]}" for k in COLUMNS)
        ET.SubElement(case, "system-out").text = counts
        if not res.ok:
            f = ET.SubElement(case, "failure", message=f"{res.name}: {counts}")
            f.text = "\n".join(res.failures + [f"e.g. {e}" for e in res.examples])
        cases.append(case)
    if error is not None or not cases:
        case = ET.Element("testcase", classname=suite, name="run")
        ET.SubElement(case, "error", message=error or "no phase ran")
        cases.append(case)
    failed = sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)
    root = ET.Element("testsuite", name=suite, tests=str(len(cases)), failures=str(failed))
    root.extend(cases)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

#!/usr/bin/python3
"""Sums JUnit XML files (ctest --output-junit, pytest --junitxml) into one line:
"N passed, N failed[, N skipped]". Extra failures (stages that produced no XML) are added.

    junit_summary.py EXTRA_FAILURES FILE...     prints the line; exit 0 iff nothing failed
"""
import sys
import xml.etree.ElementTree as ET


def count(path: str) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        status = case.get("status", "")
        if kinds & {"failure", "error"} or status == "fail":
            failed += 1
        elif "skipped" in kinds or status in ("notrun", "disabled", "skipped"):
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(argv: list[str]) -> int:
    passed, failed, skipped = 0, int(argv[1]), 0
    for path in argv[2:]:
        try:
            p, f, s = count(path)
        except (OSError, ET.ParseError) as e:
            print(f"junit_summary: {path}: {e}", file=sys.stderr)
            p, f, s = 0, 1, 0
        passed, failed, skipped = passed + p, failed + f, skipped + s
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

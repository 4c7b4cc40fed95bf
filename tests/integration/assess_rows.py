#!/usr/bin/python3
"""Prints "m365-direct assess --json" as lines a shell test can grep.

    assess_rows.py FILE

One line per row, "ROW host check result reason" (the check's blanks as
'_'), then "FIG host check name value" per figure, "EXTRA ms" (or
"EXTRA none"), and "SUMMARY pass warn fail info result".  Exits 1 when
FILE is not such an object.  /usr/bin/python3, standard library only.
"""

import json
import sys


def main():
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            o = json.load(f)
        rows, s = o["rows"], o["summary"]
    except (OSError, ValueError, KeyError, IndexError) as e:
        print("assess_rows.py: %s" % e)
        return 1
    for r in rows:
        check = r["check"].replace(" ", "_")
        print("ROW %s %s %s %s" % (r["host"], check, r["result"], r["reason"]))
        for name, value in r["figures"].items():
            print("FIG %s %s %s %.3f" % (r["host"], check, name, value))
    extra = o.get("control_extra_ms")
    print("EXTRA %s" % ("none" if extra is None else "%.3f" % extra))
    print("SUMMARY %d %d %d %d %s" % (s["pass"], s["warn"], s["fail"],
                                      s["info"], s["result"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

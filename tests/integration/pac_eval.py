#!/usr/bin/python3
# pac_eval.py - evaluates a PAC file with pacparser (python3-pacparser, a
# real PAC engine) for many hosts in one process: one host per line on
# stdin, "HOST<TAB>ANSWER" per line on stdout.  Used by export-pac.t.
#
#   pac_eval.py FILE.pac < hosts
#
# The functions that resolve names or read the machine's address are
# replaced by ones that throw, appended to the file, so a PAC that tries
# any DNS resolution fails here (exit 1, naming the host) instead of
# quietly asking the resolver of the machine running the tests.
# Runs with /usr/bin/python3: Debian's interpreter sees python3-pacparser.
import sys

import pacparser

TRAPS = ["dnsResolve", "dnsResolveEx", "isResolvable", "isResolvableEx",
         "isInNet", "isInNetEx", "myIpAddress", "myIpAddressEx"]


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: pac_eval.py FILE.pac < hosts\n")
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        script = f.read()
    for name in TRAPS:
        script += '\nfunction %s() { throw "%s called"; }\n' % (name, name)
    pacparser.init()
    pacparser.parse_pac_string(script)
    out = []
    for line in sys.stdin:
        host = line.rstrip("\n")
        url = "http://%s/" % (("[%s]" % host) if ":" in host and
                              not host.startswith("[") else host)
        try:
            answer = pacparser.find_proxy(url, host)
        except Exception as e:  # pacparser raises a bare URLError or Exception
            sys.stderr.write("pac_eval: %s: %s\n" % (host, e))
            return 1
        if answer is None:
            sys.stderr.write("pac_eval: %s: no answer\n" % host)
            return 1
        out.append("%s\t%s\n" % (host, answer))
    pacparser.cleanup()
    sys.stdout.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

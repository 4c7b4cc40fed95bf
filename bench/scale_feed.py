#!/usr/bin/env python3
"""scale_feed.py - make bench's scaling data (issue 12): the real endpoint
file plus K-1 copies of every set, so K times its patterns and prefixes.

    scale_feed.py K SRC OUT

Copy k (1..K-1) of a set gets a new id, the category Default and every name
moved under another registrable domain ("*.sharepoint.com" becomes
"*.sharepoint-k7.com": new suffixes, so the names' tree really grows) and
every prefix moved to other addresses (the first octet or group changed).
Copies may overlap the real prefixes: being Default (never direct, the
lowest category), they cannot change any verdict of the real data, so the
probes keep their answers at every size (worst_lookup checks them)."""
import json
import sys


def move_name(url, k):
    labels = url.split(".")
    # the label before the top-level domain; a name of one label keeps it
    i = len(labels) - 2 if len(labels) > 1 else 0
    labels[i] = "%s-k%d" % (labels[i], k)
    return ".".join(labels)


def move_prefix(cidr, k):
    addr, length = cidr.split("/")
    if ":" in addr:
        head, rest = addr.split(":", 1)
        return "%x:%s/%s" % ((int(head, 16) + 0x101 * k) % 0xe000 + 0x1000, rest, length)
    octets = addr.split(".")
    octets[0] = str((int(octets[0]) + 7 * k) % 223 + 1)
    return "%s/%s" % (".".join(octets), length)


def main():
    k_times, src, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sets = json.load(open(src))
    top = max(s["id"] for s in sets)
    res = list(sets)
    for k in range(1, k_times):
        for s in sets:
            c = dict(s)
            c["id"] = s["id"] + k * (top + 1)
            c["category"] = "Default"
            if "urls" in s:
                c["urls"] = [move_name(u, k) for u in s["urls"]]
            if "ips" in s:
                c["ips"] = [move_prefix(p, k) for p in s["ips"]]
            res.append(c)
    with open(out, "w") as f:
        json.dump(res, f, separators=(",", ":"))


main()

#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Measures the route folding rule (user/route_segment.c): how many random
strings of each alphabet and length fold, and how many words of a word
list do. The figures README.md states come from here.

    python3 scripts/route-fold-rates.py [N per cell] [/usr/share/dict/words]

Compiles route_segment.c with cc into a temporary shared object. The word
list (Debian's wamerican) is optional: without it that line is skipped.
"""

import base64
import ctypes
import os
import random
import string
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
A62 = string.ascii_letters + string.digits
ALPHABETS = {
    "base64": A62 + "+/",
    "base64url": A62 + "-_",
    "base62": A62,
    "base58": "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    "base36": string.ascii_lowercase + string.digits,
    "BASE36": string.ascii_uppercase + string.digits,
    "base32": string.ascii_uppercase + "234567",
    "hex": "0123456789abcdef",
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "letters": string.ascii_letters,
}
BANDS = [(8, 11), (12, 19), (20, 40)]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    words_path = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/dict/words"
    with tempfile.TemporaryDirectory() as tmp:
        so = os.path.join(tmp, "route_segment.so")
        subprocess.run(["cc", "-std=c11", "-O2", "-shared", "-fPIC", "-I", f"{ROOT}/user",
                        "-o", so, f"{ROOT}/user/route_segment.c"], check=True)
        lib = ctypes.CDLL(so)
    lib.route_segment__is_id.restype = ctypes.c_bool

    def folds(s):
        b = s.encode()
        return lib.route_segment__is_id(b, len(b))

    rng = random.Random(1)
    print("random strings folded (%d per cell; '/' sent as %%2F)" % n)
    for name, alphabet in ALPHABETS.items():
        cells = []
        for lo, hi in BANDS:
            hits = 0
            for _ in range(n):
                s = "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))
                hits += folds(s.replace("/", "%2F"))
            cells.append("%d-%d: %5.1f%%" % (lo, hi, 100.0 * hits / n))
        print("  %-10s %s" % (name, "  ".join(cells)))
    if os.path.exists(words_path):
        with open(words_path, encoding="utf-8", errors="replace") as f:
            words = [w.strip() for w in f if w.strip().isascii() and "'" not in w]
        folded = [w for w in words if folds(w)]
        print("words folded: %d of %d (%.3f%%): %s" % (len(folded), len(words),
              100.0 * len(folded) / len(words), " ".join(folded[:20])))
        # words run together, as in "userprofilesettings"
        common = sorted({w.lower() for w in words if 3 <= len(w) <= 9 and w.isalpha()})
        joined = ["".join(rng.sample(common, rng.randint(2, 4))) for _ in range(20000)]
        joined = [j for j in joined if len(j) <= 40]
        long_joined = [j for j in joined if len(j) >= 20]
        folded = [j for j in joined if folds(j)]
        print("words run together folded: %d of %d (%.3f%%), of 20+ letters %d of %d: %s" % (
              len(folded), len(joined), 100.0 * len(folded) / len(joined),
              sum(folds(j) for j in long_joined), len(long_joined), " ".join(folded[:8])))
    # base64 of random bytes, as a client would send it
    hits = sum(folds(base64.b64encode(os.urandom(24)).decode().replace("/", "%2F"))
               for _ in range(n))
    print("base64 of 24 random bytes: %5.1f%%" % (100.0 * hits / n))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The product's one policy for running out of memory (common/mem.h): its sources call
no allocator of the C library directly, so no call site can forget the check or
handle it another way. Lists each offending line and exits 1; exits 0 if none."""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))
FOLDERS = ("common", "controller", "node", "shell", "worker")
# Where the policy itself is written: mem.h wraps the allocators, process.c formats.
ALLOWED = {os.path.join("common", "mem.h"), os.path.join("common", "process.c")}
RAW = re.compile(r"(?<![A-Za-z0-9_])(malloc|calloc|realloc|strdup|strndup|asprintf|"
                 r"vasprintf|open_memstream)\s*\(")


def code(line):
    """The line without its // comment (none of the sources has // inside a string
    before a call)."""
    return line.split("//", 1)[0]


def main():
    found = 0
    for folder in FOLDERS:
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            path = os.path.join(folder, name)
            if not name.endswith((".c", ".h")) or path in ALLOWED:
                continue
            in_comment = False
            with open(os.path.join(ROOT, path), encoding="utf-8") as source:
                for number, line in enumerate(source, 1):
                    text = line
                    if in_comment:
                        if "*/" not in text:
                            continue
                        text, in_comment = text.split("*/", 1)[1], False
                    if "/*" in text and "*/" not in text.split("/*", 1)[1]:
                        text, in_comment = text.split("/*", 1)[0], True
                    if RAW.search(code(text)):
                        print("%s:%d: %s" % (path, number, line.strip()))
                        found += 1
    if found:
        print("%d raw allocation(s): use mem_alloc, mem_strdup, process_format, "
              "mem_stream (common/mem.h)" % found)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

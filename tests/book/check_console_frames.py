#!/usr/bin/env python3
"""tests/book/check_console_frames.py - the book's console frames are what weft prints.

    check_console_frames.py WEFT DET_PROGRAM PAGE.md...

The console and shared-state chapters show `weft console --snapshot` frames of the recording
that `weft explore --seed 1 --out out -- det_program two_lock` writes. A deterministic run is
stamped with virtual time, so those frames are the same on every run: this test makes the
recording in a scratch directory, runs every `$ weft console --snapshot ...` command found in
a ```console block of the pages, and compares its output with the lines shown under it.
TAP output, one test per frame.
"""
import os
import shlex
import subprocess
import sys
import tempfile


def frames(page):
    """(command, expected lines) for each console block that starts with a snapshot."""
    out, block = [], None
    with open(page, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if block is None:
                if line.strip() == "```console":
                    block = []
                continue
            if line.strip() == "```":
                if block and block[0].startswith("$ weft console --snapshot"):
                    out.append((block[0][2:], block[1:]))
                block = None
                continue
            block.append(line)
    return out


def main():
    if len(sys.argv) < 4:
        print("usage: check_console_frames.py WEFT DET_PROGRAM PAGE.md...", file=sys.stderr)
        return 2
    weft, program, pages = sys.argv[1], sys.argv[2], sys.argv[3:]
    weft = os.path.abspath(weft)
    with tempfile.TemporaryDirectory() as tmp:
        made = subprocess.run([weft, "explore", "--seed", "1", "--out", "out", "--",
                               os.path.abspath(program), "two_lock"],
                              cwd=tmp, capture_output=True, text=True)
        if not os.path.exists(os.path.join(tmp, "out", "det_program.shrunk.trace.db")):
            print("1..1\nnot ok 1 - weft explore made the recording the frames show")
            print("# " + (made.stdout + made.stderr).replace("\n", "\n# "))
            return 1
        todo = [(page, cmd, want) for page in pages for cmd, want in frames(page)]
        print(f"1..{len(todo)}")
        failed = 0
        for n, (page, cmd, want) in enumerate(todo, 1):
            args = shlex.split(cmd)
            got = subprocess.run([weft] + args[1:], cwd=tmp, capture_output=True,
                                 text=True).stdout.rstrip("\n").split("\n")
            name = f"{os.path.basename(page)}: {cmd}"
            if got == want:
                print(f"ok {n} - {name}")
                continue
            failed += 1
            print(f"not ok {n} - {name}")
            for i in range(max(len(got), len(want))):
                g = got[i] if i < len(got) else "<none>"
                w = want[i] if i < len(want) else "<none>"
                if g != w:
                    print(f"#   line {i + 1}: page has {w!r}")
                    print(f"#           weft prints {g!r}")
                    break
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

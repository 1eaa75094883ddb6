"""Check the built sdist and wheel in a folder: what a user downloads.

* the sdist carries what ``pip install -e ".[test]" && python -m pytest`` needs from a fresh
  unpack (the Cython sources, tests/ with its reference helpers, the example scripts the
  tests run) and no generated C;
* the wheel ships no generated C and its extension modules are stripped (no ``.symtab``).

Usage: python .ci/check_dist.py DIST_DIR
"""
import struct
import sys
import tarfile
import zipfile
from pathlib import Path


def elf_sections(data):
    """Names of the sections of a 64-bit little-endian ELF image."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    hdr = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdr[shstrndx][4]
    names = []
    for h in hdr:
        start = stroff + h[0]
        names.append(data[start:data.index(b"\0", start)].decode())
    return names


def main(dist):
    dist = Path(dist)
    problems = []
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if not sdists or not wheels:
        problems.append(f"expected an sdist and a wheel in {dist}")
    for sd in sdists:
        with tarfile.open(sd) as tf:
            names = [n.split("/", 1)[1] for n in tf.getnames() if "/" in n]
        for need in ("tests/conftest.py", "tests/reference_autoknots.py", "setup.py",
                     "numfit/_core/_autoknots.pyx", "MANIFEST.in"):
            if need not in names:
                problems.append(f"{sd.name}: {need} missing")
        if not any(n.startswith("docs/examples/") and n.endswith(".py") for n in names):
            problems.append(f"{sd.name}: docs/examples/*.py missing (tests/test_examples.py)")
        problems += [f"{sd.name}: generated file {n}" for n in names
                     if n.endswith((".c", ".so", ".pyc"))]
    for wh in wheels:
        with zipfile.ZipFile(wh) as zf:
            for n in zf.namelist():
                if n.endswith(".c"):
                    problems.append(f"{wh.name}: generated C source {n}")
                if n.endswith(".so"):
                    secs = elf_sections(zf.read(n))
                    if ".symtab" in secs or any(s.startswith(".debug") for s in secs):
                        problems.append(f"{wh.name}: {n} is not stripped")
    for p in problems:
        print("check_dist:", p)
    print(f"check_dist: {len(sdists)} sdist, {len(wheels)} wheel, "
          f"{'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

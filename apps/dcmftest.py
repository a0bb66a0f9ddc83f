"""dcmftest: test whether files use the DICOM Part 10 format (128-byte preamble + 'DICM')."""
from __future__ import annotations

import sys

from dcmpy import __version__

TOOL = "dcmftest"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        sys.stdout.write(f"$dcmpy: {TOOL} v{__version__} $\n\n"
                         f"{TOOL}: Test if file uses DICOM part 10 format\nusage: {TOOL} file...\n\n")
        return _exit(0, argv)
    from dcmpy.dcmdata.reader import is_dicom_file
    bad = 0
    out = []
    for name in args:
        ok = is_dicom_file(name)
        bad += not ok
        out.append(f"{'yes' if ok else 'no'}: {name}\n")
    sys.stdout.write("".join(out))
    # DCMTK returns the number of non-DICOM files; exit codes wrap at 256, so cap it
    return _exit(min(bad, 255), argv)


def _exit(code: int, argv: list[str] | None) -> int:
    if argv is None:
        sys.exit(code)
    return code


def entry() -> None:
    main()


if __name__ == "__main__":
    entry()

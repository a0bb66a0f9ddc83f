"""``python -m dcmpy <tool> [options]`` runs any of the apps (``python -m dcmpy dcmdump f.dcm``)."""
from __future__ import annotations

import importlib
import re
import sys


def main() -> None:
    if len(sys.argv) < 2 or not re.fullmatch(r"[a-z0-9]+", sys.argv[1]):
        sys.stderr.write("usage: python -m dcmpy <tool> [options...]   (e.g. dcmdump, dcmconv)\n")
        sys.exit(1)
    tool = sys.argv[1]
    try:
        module = importlib.import_module(f"dcmpy.apps.{tool}")
    except ModuleNotFoundError:
        sys.stderr.write(f"F: dcmpy: no such tool: {tool}\n")
        sys.exit(1)
    sys.argv = [tool, *sys.argv[2:]]
    module.entry()


if __name__ == "__main__":
    main()

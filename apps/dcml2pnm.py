"""dcml2pnm: dcm2pnm as DCMTK builds it with the JPEG-LS decoder (same options)."""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.dcm2pnm import build_app, main as render_main

TOOL = "dcml2pnm"


def main(argv: list[str] | None = None) -> int:
    return render_main(argv, build_app(TOOL))


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

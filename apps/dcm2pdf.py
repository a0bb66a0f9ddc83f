"""dcm2pdf: extract the PDF document of a DICOM Encapsulated PDF instance, byte for byte.

``extract_main`` serves dcm2cda and dcm2stl as well.
"""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._files import (READ_TS, add_correction_and_deflate, add_input_format,
                               add_odd_length, add_un_handling)

TOOL = "dcm2pdf"


def build_app(tool: str, kind: str) -> App:
    name = kind.upper()
    app = App(tool, f"Extract {name} file from DICOM encapsulated {name}", columns=(3, 20))
    app.param("dcmfile-in", "DICOM input filename")
    app.param(f"{kind}file-out", f"{name} output filename")
    app.group("input options:")
    add_input_format(app)
    add_odd_length(app)
    add_un_handling(app)
    add_correction_and_deflate(app)
    app.group("execution options:", columns=(5, 20))
    app.option("-x", "--exec", f"execute command c after {name} extraction",
               value="[c]ommand: string", dest="exec")
    return app


def extract_main(tool: str, kind: str, argv: list[str] | None = None) -> int:
    """Parse ``tool``'s command line, extract the document and run ``--exec`` if given."""
    opts = build_app(tool, kind).parse(argv)
    from dcmpy.dcmdata.encapdoc import InstanceError, extract_document
    from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
    source, target = opts.dcmfile_in, getattr(opts, f"{kind}file_out")
    read = ReadOptions(read_mode=opts.read_mode, transfer_syntax=READ_TS.get(opts.read_xfer),
                       ignore_meta_syntax=opts.read_xfer == "detect", cp246=opts.cp246,
                       assume_even_length=opts.odd_length_even, convert_un=opts.convert_un,
                       zlib_deflate=opts.zlib_input, data_correction=opts.data_correction)
    log.info("open input file %s", source)
    try:
        document = extract_document(dcmread(source, read), kind)
    except OSError as exc:
        log.fatal("%s: reading file: %s", exc.strerror or exc, source)
        return 1
    except DicomError as exc:
        log.fatal("%s: reading file: %s", exc, source)
        return 1
    except InstanceError as exc:
        log.fatal("%s: %s", exc, source)
        return 1
    if not _write(target, document):
        return 1
    log.info("conversion successful")
    if opts.exec:
        return _execute(opts.exec, target)
    return 0


def _write(path: str, data: bytes) -> bool:
    """Write atomically: a temporary file beside the target, renamed into place."""
    import tempfile
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".dcmpy-", dir=folder)
    except OSError:
        log.fatal("unable to create file %s", path)
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        os.unlink(tmp)
        log.fatal("unable to create file %s: %s", path, exc.strerror or exc)
        return False
    return True


def _execute(command: str, path: str) -> int:
    """Run ``--exec`` with ``#f`` replaced by the (shell-quoted) output file name."""
    import shlex
    import subprocess
    line = command.replace("#f", shlex.quote(path))
    log.info("executing command: %s", line)
    return 1 if subprocess.call(line, shell=True) < 0 else 0


def main(argv: list[str] | None = None) -> int:
    return extract_main(TOOL, "pdf", argv)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

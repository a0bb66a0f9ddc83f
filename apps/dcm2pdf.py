"""dcm2pdf: extract the PDF document of a DICOM Encapsulated PDF instance, byte for byte.

``extract_main`` serves dcm2cda and dcm2stl as well.
"""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, log, run

TOOL = "dcm2pdf"
_TS_BY_OPTION = {"little": "1.2.840.10008.1.2.1", "big": "1.2.840.10008.1.2.2",
                 "implicit": "1.2.840.10008.1.2"}


def build_app(tool: str, kind: str) -> App:
    name = kind.upper()
    app = App(tool, f"Extract {name} file from DICOM encapsulated {name}", columns=(3, 20))
    app.param("dcmfile-in", "DICOM input filename")
    app.param(f"{kind}file-out", f"{name} output filename")
    app.group("input options:")
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set (default)",
               dest="read_mode", const="auto", default="auto")
    app.option("+fo", "--read-file-only", "read file format only", dest="read_mode",
               const="file-only")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    app.subgroup("input transfer syntax:")
    app.option("-t=", "--read-xfer-auto", "use TS recognition (default)", dest="read_xfer",
               const="auto", default="auto")
    app.option("-td", "--read-xfer-detect", "ignore TS specified in the file meta header",
               dest="read_xfer", const="detect")
    app.option("-te", "--read-xfer-little", "read with explicit VR little endian TS",
               dest="read_xfer", const="little")
    app.option("-tb", "--read-xfer-big", "read with explicit VR big endian TS",
               dest="read_xfer", const="big")
    app.option("-ti", "--read-xfer-implicit", "read with implicit VR little endian TS",
               dest="read_xfer", const="implicit")
    app.subgroup("parsing of odd-length attributes:")
    app.option("+ao", "--accept-odd-length", "accept odd length attributes (default)",
               dest="assume_even", const=False, default=False)
    app.option("+ae", "--assume-even-length", "assume real length is one byte larger",
               dest="assume_even")
    app.subgroup("handling of undefined length UN elements:")
    app.option("+ui", "--enable-cp246", "read undefined len UN as implicit VR (default)",
               dest="cp246", default=True)
    app.option("-ui", "--disable-cp246", "read undefined len UN as explicit VR", dest="cp246",
               const=False)
    app.subgroup("handling of defined length UN elements:")
    app.option("-uc", "--retain-un", "retain elements as UN (default)", dest="convert_un",
               const=False, default=False)
    app.option("+uc", "--convert-un", "convert to real VR if known", dest="convert_un")
    app.subgroup("automatic data correction:")
    app.option("+dc", "--enable-correction", "enable automatic data correction (default)",
               dest="correction", default=True)
    app.option("-dc", "--disable-correction", "disable automatic data correction",
               dest="correction", const=False)
    app.subgroup("bitstream format of deflated input:")
    app.option("+bd", "--bitstream-deflated", "expect deflated bitstream (default)",
               dest="zlib_input", const=False, default=False)
    app.option("+bz", "--bitstream-zlib", "expect deflated zlib bitstream", dest="zlib_input")
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
    read = ReadOptions(read_mode=opts.read_mode, transfer_syntax=_TS_BY_OPTION.get(opts.read_xfer),
                       ignore_meta_syntax=opts.read_xfer == "detect", cp246=opts.cp246,
                       assume_even_length=opts.assume_even, convert_un=opts.convert_un,
                       zlib_deflate=opts.zlib_input, data_correction=opts.correction)
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

"""dcm2json: convert a DICOM file or data set to the DICOM JSON Model (PS3.18 Annex F).

Options and output as DCMTK 3.6.7's dcm2json, plus DCMTK 3.6.9's ``--is-ds-*`` choice and bulk
data files (``+b``). Exit codes as DCMTK: 20 cannot read the input, 40 cannot write the output,
80 character set conversion failed, 81 NaN/infinity without ``-ee``.
"""
from __future__ import annotations

import os
import sys

from dcmpy.apps._cmdline import (App, EXITCODE_CANNOT_READ_INPUT_FILE, EXITCODE_CANNOT_WRITE_OUTPUT_FILE,
                                 Int, Options, log, run)
from dcmpy.apps._files import READ_TS, add_input_format

TOOL = "dcm2json"
EXITCODE_CANNOT_CONVERT_TO_UNICODE = 80
EXITCODE_CANNOT_WRITE_VALID_JSON = 81


def add_read_options(app: App) -> None:
    """The 'input options' block dcm2json and dcm2xml share (file format, transfer syntax)."""
    app.group("input options:")
    add_input_format(app)


def read_input(opts: Options, tool: str):
    """The input file read as the options say, or None after logging DCMTK's error line."""
    from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
    read = ReadOptions(read_mode=opts.read_mode, transfer_syntax=READ_TS.get(opts.read_xfer),
                       ignore_meta_syntax=opts.read_xfer == "detect")
    name = opts.dcmfile_in
    try:
        if name == "-":
            return dcmread(sys.stdin.buffer.read(), read)
        return dcmread(name, read)
    except OSError as exc:
        log.error("%s: %s: reading file: %s", tool, exc.strerror or exc, name)
    except DicomError as exc:
        log.error("%s: %s: reading file: %s", tool, exc, name)
    return None


def write_output(name: str | None, data: bytes, tool: str) -> bool:
    """``data`` to stdout (name None) or atomically to a file; False after logging an error."""
    if name is None:
        sys.stdout.buffer.write(data)
        return True
    from dcmpy.dcmdata.writer import _write_atomic
    try:
        _write_atomic(name, [data])
    except OSError as exc:
        log.fatal("%s: %s: cannot create file: %s", tool, exc.strerror or exc, name)
        return False
    return True


def build_app() -> App:
    app = App(TOOL, "Convert DICOM file and data set to JSON", columns=(3, 20))
    app.param("dcmfile-in", 'DICOM input filename to be converted ("-" for stdin)')
    app.param("jsonfile-out", "JSON output filename (default: stdout)", optional=True)
    add_read_options(app)
    app.group("processing options:")
    app.subgroup("encoding of infinity and not-a-number:")
    app.option("-es", "--encode-strict", "report error for 'inf' and 'nan' (default)",
               dest="nonfinite", const=False)
    app.option("-ee", "--encode-extended", "permit 'inf' and 'nan' in JSON numbers",
               dest="nonfinite")
    app.subgroup("encoding of IS and DS (integer/decimal string) elements:")
    app.option("", "--is-ds-auto", "encode as number if valid, as string otherwise\n(default)",
               dest="ds_strings", const=False)
    app.option("", "--is-ds-string", "always encode as string (lossless)", dest="ds_strings")
    app.group("output options:")
    app.subgroup("output format:")
    app.option("+fc", "--formatted-code", "enable whitespace formatting (default)",
               dest="compact", const=False)
    app.option("-fc", "--compact-code", "print only required characters", dest="compact")
    app.option("+m", "--write-meta", "write data set with meta information\n"
               "(warning: not conforming to the DICOM standard)", dest="meta")
    app.subgroup("binary data:")
    app.option("-b", "--inline-binary", "write binary values as InlineBinary (default)",
               dest="bulk_dir", const=None)
    app.option("+b", "--bulk-data", "write binary values longer than the threshold to\n"
               "files in d, referenced by relative BulkDataURI",
               value="[d]irectory: string", dest="bulk_dir")
    app.option("+bt", "--bulk-threshold", "bulk data threshold in bytes (only with +b)",
               value="[n]umber: integer (0..4294967295, default: 1024)",
               type=Int(0, 0xFFFFFFFF), dest="bulk_threshold", default=1024)
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    from dcmpy.dcmdata.charconv import CharsetConversionError
    from dcmpy.dcmdata.jsonmodel import BulkDataStore, JsonOptions, NonFiniteError, prepare_charset, to_json

    ds = read_input(opts, TOOL)
    if ds is None:
        return EXITCODE_CANNOT_READ_INPUT_FILE
    try:
        prepare_charset(ds)
    except CharsetConversionError as exc:
        log.fatal("%s: converting file to UTF-8: %s", exc, opts.dcmfile_in)
        return EXITCODE_CANNOT_CONVERT_TO_UNICODE
    store = None
    if opts.bulk_dir is not None:
        if not os.path.isdir(opts.bulk_dir):
            log.fatal("%s: bulk data directory does not exist: %s", TOOL, opts.bulk_dir)
            return EXITCODE_CANNOT_WRITE_OUTPUT_FILE
        base = os.path.dirname(os.path.abspath(opts.jsonfile_out)) if opts.jsonfile_out else "."
        store = BulkDataStore(opts.bulk_dir, base=base)
    options = JsonOptions(meta=opts.meta, compact=opts.compact, nonfinite=opts.nonfinite,
                          numbers_as_strings=opts.ds_strings, bulk_store=store,
                          bulk_threshold=opts.bulk_threshold)
    try:
        text = to_json(ds, options)
    except NonFiniteError as exc:
        log.fatal("%s: %s", exc, opts.dcmfile_in)
        return EXITCODE_CANNOT_WRITE_VALID_JSON
    except OSError as exc:
        log.fatal("%s: writing bulk data: %s", exc.strerror or exc, opts.bulk_dir)
        return EXITCODE_CANNOT_WRITE_OUTPUT_FILE
    if not write_output(opts.jsonfile_out, text.encode("utf-8", "surrogateescape"), TOOL):
        return EXITCODE_CANNOT_WRITE_OUTPUT_FILE
    return 0


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

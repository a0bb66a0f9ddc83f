"""dump2dcm: convert a dcmdump text back into a DICOM file, as DCMTK's dump2dcm does.

Unlike DCMTK 3.6.7 (which returns 0 whatever happens), a dump with errors exits 1 and writes
nothing (with -E, the default); every error is one ``E:`` line naming the line of the dump.
"-" reads the dump from stdin or writes the file to stdout.
"""
from __future__ import annotations

import sys

from dcmpy.apps._files import WRITE_TS, add_output_encoding, add_read_meta, add_write_xfer
from dcmpy.apps._cmdline import App, Int, log, run

TOOL = "dump2dcm"
_EXITCODE_CANNOT_CONVERT = 2     # DCMTK's code when the data set cannot take the transfer syntax
_DEEP = 100                      # nesting beyond which the writer runs on a thread of its own


def build_app() -> App:
    app = App(TOOL, "Convert ASCII dump to DICOM file", columns=(3, 21))
    app.param("dumpfile-in", "dump input filename")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_read_meta(app)
    app.subgroup("file contents byte ordering:")
    app.option("+rl", "--read-file-little", "read OW data with little endian (default)",
               dest="big_endian_files", const=False, default=False)
    app.option("+rb", "--read-file-big", "read OW data from file with big endian",
               dest="big_endian_files")
    app.subgroup("other input options:")
    app.option("+l", "--line", "maximum line length m (default: 4096)",
               value="[m]ax-length: integer", type=Int(80), dest="max_line_length", default=4096)
    app.group("processing options:")
    app.subgroup("unique identifiers:")
    app.option("+Ug", "--generate-new-uids", "generate new Study/Series/SOP Instance UID",
               dest="new_uids")
    app.option("-Uo", "--dont-overwrite-uids", "do not overwrite existing UIDs (default)",
               dest="overwrite_uids", const=False)
    app.option("+Uo", "--overwrite-uids", "overwrite existing UIDs", dest="overwrite_uids")
    _output_options(app)
    return app


def _output_options(app: App) -> None:
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_mode",
               const="file", default="file")
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_mode", const="dataset")
    app.option("+Fu", "--update-meta-info", "update particular file meta information",
               dest="write_mode", const="update")
    add_write_xfer(app, little="write with explicit VR little endian")
    app.subgroup("error handling:")
    app.option("-E", "--stop-on-error", "do not write if dump is damaged (default)",
               dest="ignore_errors", const=False)
    app.option("+E", "--ignore-errors", "attempt to write even if dump is damaged",
               dest="ignore_errors")
    add_output_encoding(app, retain_note=False)
    app.subgroup("deflate compression level (only with --write-xfer-deflated):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    dataset_only = opts.write_mode == "dataset"
    app.check_conflict("--padding-retain", "--write-dataset",
                       dataset_only and opts.given("--padding-retain"))
    app.check_conflict("--padding-create", "--write-dataset",
                       dataset_only and isinstance(opts.padding, tuple))
    app.check_dependence("--compression-level", "--write-xfer-deflated",
                         opts.write_xfer == "deflated" or not opts.given("--compression-level"))
    from dcmpy.dcmdata.dumpparse import DumpError, DumpReadOptions, read_dump
    name = opts.dumpfile_in
    log.info("reading dump file: %s", name)
    read_opts = DumpReadOptions(read_meta=opts.read_meta, big_endian_files=opts.big_endian_files,
                                max_line_length=opts.max_line_length)
    try:
        ds = read_dump(sys.stdin.buffer if name == "-" else name, read_opts, name=name,
                       info=log.info)
    except FileNotFoundError:
        log.fatal("input file does not exist: %s", name)
        return 1
    except OSError as exc:
        log.fatal("cannot read input file: %s: %s", name, exc.strerror or exc)
        return 1
    except DumpError as exc:
        for line, message in exc.errors:
            log.error("%s: %s: %s (line %d)", TOOL, name, message, line)
        if exc.count > len(exc.errors):
            log.error("%s: %s: %d further errors not shown", TOOL, name,
                      exc.count - len(exc.errors))
        log.error("%d Errors found in %s", exc.count, name)
        if not opts.ignore_errors:
            return 1
        ds = exc.partial
    return _write(ds, opts)


def _write(ds, opts) -> int:
    """Write the data set as the output options say; 0, or DCMTK's error code after a message."""
    from dcmpy.dcmdata import xfer
    from dcmpy.dcmdata.dumpparse import complete_file_meta, generate_uids
    from dcmpy.dcmdata.element import Fragments
    from dcmpy.dcmdata.tag import PIXEL_DATA
    from dcmpy.dcmdata.writer import DicomWriteError, WriteOptions
    update = opts.write_mode == "update"
    if opts.new_uids:
        made = generate_uids(ds, bool(opts.overwrite_uids))
        for what in made:
            log.info("generating new %s", what)
        update = update or "SOP Instance UID" in made   # the meta header follows (DCMTK)
    log.info("writing DICOM file")
    ts_uid = _output_syntax(ds, opts.write_xfer)
    encapsulated = isinstance(getattr(ds.get(PIXEL_DATA), "value", None), Fragments)
    if encapsulated and not xfer.lookup(ts_uid).encapsulated:
        log.error("no conversion to transfer syntax %s possible!", xfer.lookup(ts_uid).name)
        return _EXITCODE_CANNOT_CONVERT
    dataset_only = opts.write_mode == "dataset"
    if dataset_only and encapsulated:
        log.warn("encapsulated pixel data require file format, ignoring --write-dataset")
        dataset_only = False
    if not dataset_only:
        complete_file_meta(ds, update=update)
    write = WriteOptions(
        transfer_syntax=ts_uid, write_meta=not dataset_only,
        update_meta=update, group_lengths=opts.group_lengths,
        explicit_lengths=opts.explicit_lengths, compression_level=opts.compression_level,
        new_vrs=opts.new_vrs, padding="off" if dataset_only else opts.padding)
    name = opts.dcmfile_out
    try:
        _run_deep(_depth(ds), _dcmwrite, name, ds, write)
    except DicomWriteError as exc:
        log.error("%s: writing file: %s", exc, name)
        return 1
    except OSError as exc:
        log.error("%s: writing file: %s", exc.strerror or exc, name)
        return 1
    log.info("dump successfully converted")
    return 0


def _output_syntax(ds, write_xfer: str | None) -> str:
    """The transfer syntax to write: the option's, or the dump's (+t=), else explicit little."""
    from dcmpy.dcmdata import xfer
    if write_xfer is not None:
        return WRITE_TS[write_xfer]
    if ds.transfer_syntax is None:
        log.warn("output transfer syntax unknown, assuming --write-xfer-little")
        return xfer.EXPLICIT_LE.uid
    return ds.transfer_syntax.uid


def _dcmwrite(name: str, ds, write) -> None:
    from dcmpy.dcmdata.writer import dcmwrite
    if name == "-":
        data = dcmwrite(None, ds, write)
        sys.stdout.buffer.write(data)
    else:
        dcmwrite(name, ds, write)


def _depth(ds) -> int:
    """How deeply the data set's sequences nest (without recursion)."""
    deepest, stack = 0, [(ds, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        for elem in item:
            if elem.vr == "SQ":
                stack.extend((child, level + 1) for child in elem.value)
    return deepest


def _run_deep(depth: int, func, *args) -> None:
    """Call ``func``: the writer recurses, so a deeply nested data set gets a thread with a
    large stack and a recursion limit that fits (a 5,000-level dump is legal input)."""
    if depth <= _DEEP:
        func(*args)
        return
    import threading
    errors: list[BaseException] = []

    def work() -> None:
        try:
            func(*args)
        except BaseException as exc:   # handed to the caller's thread
            errors.append(exc)

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, 4 * depth + 1000))
    threading.stack_size(min(1 << 30, (1 << 20) + depth * (32 << 10)))
    try:
        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if errors:
        raise errors[0]


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

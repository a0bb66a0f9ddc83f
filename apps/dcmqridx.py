"""dcmqridx: register DICOM files in a storage area's index, list it, or import DCMTK's index.dat.

As DCMTK's tool, the files are registered where they are (not copied) and the quota is not
applied; a file that cannot be registered gets an ``E:`` line and the others go on (exit 0, as
DCMTK). The index is ``<index-out>/index.sqlite`` unless ``--database`` names a PostgreSQL one.
"""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, log, run

TOOL = "dcmqridx"
EXITCODE_CANNOT_OPEN_INDEX = 1
# the keys DCMTK's 'dcmqridx -p' lists for each record, in its order
_PRINTED = (0x00100030, 0x00100040, 0x00100010, 0x00100020, 0x00100032, 0x00101000, 0x00101001,
            0x00102160, 0x00080020, 0x00080030, 0x00200010, 0x00081030, 0x00081060, 0x00080050,
            0x00080090, 0x0020000D, 0x00201070, 0x00081080, 0x00101010, 0x00101020, 0x00101030,
            0x00102180, 0x00200011, 0x0020000E, 0x00080060, 0x00200013, 0x00080018, 0x00080021,
            0x00080031, 0x0008103E, 0x00181030, 0x00081070, 0x00081050, 0x00700080, 0x00100021)


def build_app() -> App:
    app = App(TOOL, "Register a DICOM image file in an image database index file",
              columns=(2, 11), general_columns=(3, 11), general_heading="options:")
    app.param("index-out", "storage area for the index file (directory)")
    app.param("dcmfile-in", "DICOM image file to be registered in the index file",
              optional=True, multiple=True)
    app.option("-p", "--print", "list contents of database index file", dest="print_index")
    app.option("-n", "--not-new", "set instance reviewed status to 'not new'\n"
               "(accepted for compatibility: dcmpy keeps no reviewed status)", dest="not_new")
    app.group("dcmpy options:")
    app.option("+id", "--import-index-dat", "register the files named in the storage area's\n"
               "DCMTK index.dat (index-out/index.dat)", dest="import_dat")
    app.option("-db", "--database", "keep the index in PostgreSQL database u\n"
               "(default: index-out/index.sqlite)", value="[u]rl: string", dest="database")
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    from dcmpy.dcmqrdb.db import DatabaseError
    from dcmpy.dcmqrdb.index import Index
    area = opts.index_out
    if not os.path.isdir(area):
        log.error("%s: No such directory", area)
        return EXITCODE_CANNOT_OPEN_INDEX
    try:
        index = Index.open(opts.database or area, root=area)
    except DatabaseError as exc:
        log.error("%s", exc)
        return EXITCODE_CANNOT_OPEN_INDEX
    try:
        if opts.import_dat:
            _import(index, os.path.join(area, "index.dat"))
        for name in opts.dcmfile_in:
            _register(index, name)
        if opts.print_index:
            _print(index)
    finally:
        index.close()
    return 0


def _register(index, name: str) -> None:
    from dcmpy.dcmdata.reader import DicomError
    from dcmpy.dcmqrdb.record import RecordError
    if not os.access(name, os.R_OK) or os.path.isdir(name):
        log.error("cannot access: %s", name)
        return
    log.info("registering: %s", name)
    try:
        index.store(name)
    except (DicomError, RecordError, OSError) as exc:
        log.error("cannot load dicom file: %s (%s)", name, exc)


def _import(index, path: str) -> None:
    from dcmpy.dcmqrdb.importdat import IndexDatError, import_index_dat
    try:
        report = import_index_dat(path, index)
    except IndexDatError as exc:
        log.error("%s", exc)
        return
    for name in report.missing:
        log.error("cannot access: %s", name)
    for name, reason in report.failed:
        log.error("cannot load dicom file: %s (%s)", name, reason)
    for message in report.warnings:
        log.warn("%s", message)
    log.info("imported %d of the files named in %s", len(report.imported), path)


def _print(index) -> None:
    import sys
    from dcmpy.dcmdata.dictionary import get_dictionary
    out = ["-- DB Index File --"]
    for n, (uid, count, size, updated) in enumerate(index.studies()):
        out += ["*" * 54, f"STUDY DESCRIPTOR: {n}", f"  Study UID: {uid}", f"  StudySize: {size}",
                f"  LastRecDate: {updated:.6g}", f"  NumOfImages: {count}"]
    names = {tag: get_dictionary().find(tag).name for tag in _PRINTED}
    for n, (path, size, stored, charset, attrs) in enumerate(index.records()):
        out += ["*" * 55, f"RECORD NUMBER: {n}", f"  Filename: {path}", f"  ImageSize: {size}",
                f"  RecordedDate: {stored:.6g}"]
        for tag in _PRINTED:
            entry = attrs.get(f"{tag:08X}")
            value = entry[1] if entry and isinstance(entry[1], str) else ""
            out.append(f'    {names[tag]}: "{value}"')
        out.append(f'    SpecificCharacterSet: "{charset}"')
    sys.stdout.write("\n".join(out) + "\n")


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

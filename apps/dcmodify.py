"""dcmodify: modify DICOM files in place (insert, modify, erase by tag path; new UIDs)."""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._files import (READ_TS, add_correction_and_deflate, add_input_format,
                               add_odd_length, add_output_encoding, add_read_xfer, add_write_xfer)

TOOL = "dcmodify"
SEPARATOR = "------------------------------------"


def _op(kind: str):
    """The type of an operation option: its text, tagged with the operation (keeps the order)."""
    return lambda text: (kind, text)


def build_app() -> App:
    app = App(TOOL, "Modify DICOM files", columns=(4, 21))
    app.param("dcmfile-in", "DICOM input filename to be modified", multiple=True)
    _input_options(app)
    _processing_options(app)
    _output_options(app)
    return app


def _input_options(app: App) -> None:
    app.group("input options:")
    add_input_format(app, transfer_syntax=False)
    app.option("+fc", "--create-file", "create file format if file does not exist",
               dest="create_file")
    add_read_xfer(app)
    add_odd_length(app)
    add_correction_and_deflate(app)

def _processing_options(app: App) -> None:
    app.group("processing options:")
    app.subgroup("backup input files:")
    app.option("", "--backup", "backup files before modifying (default)", dest="backup",
               default=True)
    app.option("-nb", "--no-backup", "don't backup files (DANGEROUS)", dest="backup",
               const=False)
    ops = dict(dest="operations", append=True)
    app.subgroup("insert mode:")
    app.option("-i", "--insert", "insert (or overwrite) path at position t\nwith value v",
               value='"[t]ag-path=[v]alue"', type=_op("i"), **ops)
    app.option("-if", "--insert-from-file", "insert (or overwrite) path at position t\n"
               "with value from file f", value='"[t]ag-path=[f]ilename"', type=_op("if"), **ops)
    app.option("-nrc", "--no-reserv-check", "do not check private reservations\n"
               "when inserting private tags", dest="no_reservation_check")
    app.subgroup("modify mode:")
    app.option("-m", "--modify", "modify tag at position t to value v",
               value='"[t]ag-path=[v]alue"', type=_op("m"), **ops)
    app.option("-mf", "--modify-from-file", "modify tag at position t to value from file f",
               value='"[t]ag-path=[f]ilename"', type=_op("mf"), **ops)
    app.option("-ma", "--modify-all", "modify ALL matching tags t in file to value v",
               value='"[t]ag=[v]alue"', type=_op("ma"), **ops)
    app.subgroup("erase mode:")
    app.option("-e", "--erase", "erase tag/item at position t", value='"[t]ag-path"',
               type=_op("e"), **ops)
    app.option("-ea", "--erase-all", "erase ALL matching tags t in file", value='"[t]ag"',
               type=_op("ea"), **ops)
    app.option("-ep", "--erase-private", "erase ALL private data from file",
               const=("ep", ""), **ops)
    app.subgroup("unique identifier:")
    app.option("-gst", "--gen-stud-uid", "generate new Study Instance UID",
               const=("gst", ""), **ops)
    app.option("-gse", "--gen-ser-uid", "generate new Series Instance UID",
               const=("gse", ""), **ops)
    app.option("-gin", "--gen-inst-uid", "generate new SOP Instance UID",
               const=("gin", ""), **ops)
    app.option("-nmu", "--no-meta-uid", "do not update metaheader UIDs if related\n"
               "UIDs in the dataset are modified", dest="no_meta_uid")
    app.subgroup("error handling:")
    app.option("-ie", "--ignore-errors", "continue with file, if modify error occurs",
               dest="ignore_errors")
    app.option("-imt", "--ignore-missing-tags", "treat 'tag not found' as success\n"
               "when modifying or erasing in datasets", dest="ignore_missing")
    app.option("-iun", "--ignore-un-values", "do not try writing any values to elements\n"
               "having a VR of UN", dest="ignore_un")


def _output_options(app: App) -> None:
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_dataset",
               const=False, default=False)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_dataset")
    add_write_xfer(app, deflated=None)
    # DCMTK 3.6.7's help calls -p= the default, but it drops the padding unless -p= is given
    add_output_encoding(app, lengths=("+le", "-le"), padding_default="off")


class _Job:
    """One dcmodify run: the operations and options, applied file after file."""

    def __init__(self, opts) -> None:
        from dcmpy.dcmdata.reader import ReadOptions
        from dcmpy.dcmdata.writer import WriteOptions
        self.opts = opts
        self.read = ReadOptions(
            read_mode=opts.read_mode, transfer_syntax=READ_TS.get(opts.read_xfer),
            ignore_meta_syntax=opts.read_xfer == "detect", assume_even_length=opts.odd_length_even,
            data_correction=opts.data_correction, zlib_deflate=opts.zlib_input)
        self.write = WriteOptions(
            transfer_syntax=READ_TS.get(opts.write_xfer), write_meta=not opts.write_dataset,
            new_meta=True, group_lengths=opts.group_lengths,
            explicit_lengths=opts.explicit_lengths, new_vrs=opts.new_vrs,
            padding="off" if opts.write_dataset else opts.padding,
            correct_strings=opts.data_correction, update_meta=not opts.no_meta_uid)
        self.errors = 0

    def process(self, name: str) -> None:
        """Load, modify and save one file; counts the errors in ``self.errors``."""
        log.info("Processing file: %s", name)
        log.info("Loading file into dataset manager: %s", name)
        ds = self._load(name)
        if ds is None:
            self.errors += 1
            return
        log.info("Getting dataset from loaded file: %s", name)
        for kind, argument in self.opts.operations:
            self._apply(ds, name, kind, argument)
        # as DCMTK: after any error (in this file or an earlier one) nothing more is saved
        if self.errors and not self.opts.ignore_errors:
            return
        self._save(ds, name)

    def _load(self, name: str):
        from dcmpy.dcmdata.reader import DicomError, dcmread
        if self.opts.create_file and not os.path.lexists(name):
            from dcmpy.dcmdata import xfer
            from dcmpy.dcmdata.dataset import FileDataset
            return FileDataset(transfer_syntax=xfer.EXPLICIT_LE, filename=name)
        try:
            return dcmread(name, self.read)
        except OSError as exc:
            log.error("unable to load file %s: %s", name, exc.strerror or exc)
        except DicomError as exc:
            log.error("unable to load file %s: %s", name, exc)
        return None

    def _apply(self, ds, name: str, kind: str, argument: str) -> None:
        from dcmpy.dcmdata.modify import ModifyError, apply_operation
        from dcmpy.dcmdata.tagpath import TagPathError, split_assignment
        path, value = split_assignment(argument)
        log.info("Executing (option|path|value): %s|%s|%s", kind, path, value or "")
        o = self.opts
        try:
            apply_operation(ds, kind, argument, ignore_missing=o.ignore_missing,
                            ignore_un=o.ignore_un, check_reservation=not o.no_reservation_check,
                            update_meta=not o.no_meta_uid)
        except (ModifyError, TagPathError) as exc:
            log.error("modifying tag in file %s: %s", name, exc)
            self.errors += 1

    def _save(self, ds, name: str) -> None:
        from dcmpy.dcmdata.modify import BackupError, save_in_place
        from dcmpy.dcmdata.writer import DicomWriteError
        backup = self.opts.backup and os.path.lexists(name)
        if backup:
            log.info("Creating backup of input file: %s", name + ".bak")
        log.info("Saving current dataset to file: %s", name)
        try:
            save_in_place(ds, name, self.write, backup=backup)
        except BackupError as exc:
            log.error("unable to create backup file %s: %s", exc.filename, exc.strerror)
            self.errors += 1
        except DicomWriteError as exc:
            log.error("couldn't save file %s: %s", name, exc)
            self.errors += 1
        except OSError as exc:
            log.error("couldn't save file %s: %s", name, exc.strerror or exc)
            self.errors += 1


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    app.check_conflict("--write-dataset", "--create-file", opts.write_dataset and opts.create_file)
    job = _Job(opts)
    files = opts.dcmfile_in
    for n, name in enumerate(files):
        job.process(name)
        if n < len(files) - 1:
            log.info(SEPARATOR)
    if job.errors:
        log.info(SEPARATOR)
        log.error("There %s", "was 1 error" if job.errors == 1 else f"were {job.errors} errors")
    # DCMTK exits with the number of errors modulo 256 (so 256 errors look like success)
    return min(job.errors, 255)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

"""dcmanon: de-identify DICOM files (PS3.15 Basic Application Level Confidentiality Profile).

Not a DCMTK tool; it follows DCMTK's conventions: ``dcmanon [options] dcmfile-in... out-dir``.
"""
from __future__ import annotations

import os
import sys

from dcmpy.apps._cmdline import (EXITCODE_CANNOT_READ_INPUT_FILE, EXITCODE_CANNOT_WRITE_OUTPUT_FILE,
                                 EXITCODE_CANNOT_WRITE_REPORT_FILE, EXITCODE_INVALID_INPUT_FILE,
                                 EXITCODE_INVALID_OUTPUT_DIRECTORY, EXITCODE_NO_INPUT_FILES,
                                 EXITCODE_NO_VALID_INPUT_FILES, WARN, App, Int, log, run)
from dcmpy.apps._files import add_input_options, read_options_from

TOOL = "dcmanon"


def build_app() -> App:
    app = App(TOOL, "De-identify DICOM files (PS3.15 Annex E confidentiality profile)",
              columns=(3, 26))
    app.param("dcmfile-in", "DICOM input file or directory to be de-identified", multiple=True)
    app.param("out-dir", "output directory (unless given with --output-directory)", optional=True)
    add_input_options(app, scan_dirs=False, long_values=False)
    app.subgroup("input files:")
    app.option("-r", "--no-recurse", "do not recurse within directories (default)",
               dest="recurse", const=False)
    app.option("+r", "--recurse", "recurse within specified directories", dest="recurse")
    app.option("+sp", "--scan-pattern", "pattern for filename matching (wildcards)",
               value="[p]attern: string", dest="scan_pattern")
    app.group("de-identification options (PS3.15 Table E.1-1):")
    app.subgroup("retain:")
    app.option("+Ru", "--retain-uids", "Retain UIDs Option", dest="retain_uids")
    app.option("+Rv", "--retain-device-id", "Retain Device Identity Option", dest="retain_device_id")
    app.option("+Ri", "--retain-institution-id", "Retain Institution Identity Option",
               dest="retain_institution_id")
    app.option("+Rc", "--retain-patient-chars", "Retain Patient Characteristics Option",
               dest="retain_patient_chars")
    app.option("+Rp", "--retain-safe-private", "Retain Safe Private Option (with --safe-private)",
               dest="retain_safe_private")
    app.option("+Sp", "--safe-private", "file listing safe private attributes, one\n"
               "(gggg,\"CREATOR\",ee) a line", value="[f]ilename: string", dest="safe_private")
    app.subgroup("dates and times:")
    app.option("-Rd", "--remove-dates", "remove or replace dates (default)", dest="dates",
               const="remove", default="remove")
    app.option("+Rf", "--retain-dates", "Retain Longitudinal Temporal Information\n"
               "with Full Dates Option", dest="dates", const="full")
    app.option("+Rm", "--modified-dates", "Retain Longitudinal Temporal Information\n"
               "with Modified Dates Option (shifted by whole days)", dest="dates", const="modified")
    app.option("+Ds", "--date-shift", "shift dates by n days (default: per patient,\n"
               "derived from the key; only with --modified-dates)",
               value="[n]umber: integer", type=Int(-3660000, 3660000, signed=True), dest="date_shift")
    app.subgroup("clean:")
    app.option("+Cd", "--clean-descriptors", "Clean Descriptors Option", dest="clean_descriptors")
    app.option("+Cs", "--clean-structured-content", "Clean Structured Content Option",
               dest="clean_structured_content")
    app.option("+Cg", "--clean-graphics", "Clean Graphics Option", dest="clean_graphics")
    app.subgroup("patient identity:")
    app.option("+Pp", "--pseudonym", "Patient ID and Name: keyed pseudonym (default)",
               dest="pseudonym", default=True)
    app.option("-Pp", "--no-pseudonym", "Patient ID: dummy value, Patient's Name: empty",
               dest="pseudonym", const=False)
    app.subgroup("secret key (UIDs, pseudonyms, date shifts):")
    app.option("-k", "--key", "use the secret s", value="[s]ecret: string", dest="key")
    app.option("-kf", "--key-file", "read the key from file f (created if missing;\n"
               "default: " + _short_home(_default_key()) + ")",
               value="[f]ilename: string", dest="key_file")
    app.group("processing options:")
    app.option("-j", "--jobs", "use n worker processes (default: CPU count)",
               value="[n]umber: integer (1..256)", type=Int(1, 256), dest="jobs")
    app.group("output options:")
    app.option("-o", "--output-directory", "write output files to directory d",
               value="[d]irectory: string", dest="output_directory")
    app.option("-rn", "--keep-names", "keep the input's relative file names (default)",
               dest="rename", const=False, default=False)
    app.option("+rn", "--rename", "name files <study>/<series>/<instance>.dcm\n"
               "by their new UIDs", dest="rename")
    app.option("+rp", "--report", "write a report of every change to file f\n"
               "(JSON if f ends with .json, else CSV)", value="[f]ilename: string", dest="report")
    app.option("+rv", "--report-values", "include original values in the report\n"
               "(default: keyed hashes only)", dest="report_values")
    return app


def _default_key() -> str:
    from dcmpy.dcmdata.anonymize import default_key_file
    return default_key_file()


def _short_home(path: str) -> str:
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home and path.startswith(home + os.sep) else path


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    inputs = list(opts.dcmfile_in)
    out_dir = opts.output_directory
    if out_dir is None:
        if len(inputs) < 2:
            app.error("Missing parameter out-dir")
        out_dir = inputs.pop()
    app.check_dependence("--date-shift", "--modified-dates",
                         opts.date_shift is None or opts.dates == "modified")
    app.check_dependence("--report-values", "--report", not opts.report_values or bool(opts.report))
    app.check_conflict("--key", "--key-file", opts.key is not None and opts.key_file is not None)
    from dcmpy.dcmdata import anonymize as an
    options = _options(opts, an)
    if isinstance(options, int):
        return options
    key = _key(opts, an)
    if isinstance(key, int):
        return key
    jobs = _jobs(inputs, out_dir, opts)
    if isinstance(jobs, int):
        return jobs
    if not _prepare_output(out_dir):
        return EXITCODE_INVALID_OUTPUT_DIRECTORY
    progress = _Progress(len(jobs), quiet=log.level > WARN)  # hidden by -q and -ll error/fatal
    results = an.anonymize_files(jobs, out_dir, options, key, workers=opts.jobs or os.cpu_count() or 1,
                                 rename=opts.rename, read_options=read_options_from(opts),
                                 on_result=progress.done, changes=bool(opts.report),
                                 warnings=log.level <= WARN)
    progress.finish()
    code = _outcome(results, out_dir, opts.rename)
    if opts.report:
        try:
            an.write_report(opts.report, results, out_dir, an.Anonymizer(options, key),
                            with_values=bool(opts.report_values))
        except OSError as exc:
            log.fatal("%s: writing report: %s", exc.strerror or exc, opts.report)
            return EXITCODE_CANNOT_WRITE_REPORT_FILE
    return code


def _options(opts, an):
    safe = ()
    if opts.safe_private:
        try:
            with open(opts.safe_private, "rb") as f:
                safe = an.parse_safe_private(f.read().decode("latin-1"), opts.safe_private)
        except OSError as exc:
            log.fatal("%s: reading file: %s", exc.strerror or exc, opts.safe_private)
            return EXITCODE_CANNOT_READ_INPUT_FILE
        except ValueError as exc:
            log.fatal("%s", exc)
            return EXITCODE_INVALID_INPUT_FILE
    if opts.retain_safe_private and not safe:
        log.warn("--retain-safe-private without --safe-private: no private attribute is known "
                 "to be safe, all are removed")
    return an.AnonymizeOptions(
        retain_safe_private=bool(opts.retain_safe_private), retain_uids=bool(opts.retain_uids),
        retain_device_id=bool(opts.retain_device_id),
        retain_institution_id=bool(opts.retain_institution_id),
        retain_patient_chars=bool(opts.retain_patient_chars), dates=opts.dates,
        clean_descriptors=bool(opts.clean_descriptors),
        clean_structured_content=bool(opts.clean_structured_content),
        clean_graphics=bool(opts.clean_graphics), date_shift=opts.date_shift,
        pseudonym=bool(opts.pseudonym), safe_private=safe)


def _key(opts, an):
    if opts.key is not None:
        if not opts.key:
            log.fatal("the --key secret must not be empty")
            return 1
        return opts.key.encode("utf-8", "surrogateescape")
    path = opts.key_file or _default_key()
    try:
        return an.ensure_key_file(path)
    except an.KeyFileError as exc:
        log.fatal("%s", exc)
        return EXITCODE_CANNOT_READ_INPUT_FILE if "cannot" in str(exc) else EXITCODE_INVALID_INPUT_FILE


def _jobs(inputs: list[str], out_dir: str, opts) -> list[tuple[str, str]] | int:
    """(input file, output path relative to out_dir) for every input; an exit code on error."""
    import fnmatch
    jobs: list[tuple[str, str]] = []
    out_real = os.path.realpath(out_dir)
    for name in inputs:
        if os.path.isdir(name):
            root = os.path.realpath(name)
            if out_real == root or out_real.startswith(root + os.sep):
                log.fatal("output directory lies inside input directory: %s", name)
                return EXITCODE_INVALID_OUTPUT_DIRECTORY
            for folder, dirs, files in os.walk(name):
                dirs.sort()
                for f in sorted(files):
                    if opts.scan_pattern is None or fnmatch.fnmatch(f, opts.scan_pattern):
                        path = os.path.join(folder, f)
                        jobs.append((path, os.path.relpath(path, name)))
                if not opts.recurse:
                    break
        elif os.path.exists(name):
            jobs.append((name, os.path.basename(name)))
        else:
            log.error("No such file or directory: reading file: %s", name)
    if not jobs:
        log.fatal("no input files")
        return EXITCODE_NO_INPUT_FILES
    seen: dict[str, str] = {}
    for src, rel in jobs:
        if rel in seen and not opts.rename:
            log.fatal("two input files map to the same output file %s: %s and %s",
                      rel, seen[rel], src)
            return EXITCODE_INVALID_OUTPUT_DIRECTORY
        seen[rel] = src
    return jobs


def _prepare_output(out_dir: str) -> bool:
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        log.fatal("%s: cannot create output directory: %s", exc.strerror or exc, out_dir)
        return False
    if not os.access(out_dir, os.W_OK | os.X_OK):
        log.fatal("output directory is not writable: %s", out_dir)
        return False
    return True


def _outcome(results, out_dir: str, rename: bool) -> int:
    read_failed = write_failed = 0
    seen: dict[str, str] = {}
    for r in results:
        if r.error:
            write_failed += r.failed_write
            read_failed += not r.failed_write
        elif rename and r.dst in seen:
            log.warn("%s and %s have the same SOP Instance UID: %s written twice",
                     seen[r.dst], r.src, r.dst)
        if r.dst:
            seen[r.dst] = r.src
    if write_failed:
        return EXITCODE_CANNOT_WRITE_OUTPUT_FILE
    if read_failed:
        return EXITCODE_NO_VALID_INPUT_FILES if read_failed == len(results) \
            else EXITCODE_INVALID_INPUT_FILE
    return 0


class _Progress:
    """A bar on a terminal, else a count line now and then; nothing with -q."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.count, self.failed = total, 0, 0
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.step = max(1, total // 10)

    def done(self, result) -> None:
        self.count += 1
        self.failed += bool(result.error)
        if self.tty and not self.quiet and (result.error or result.warnings):
            sys.stderr.write("\r\x1b[K")         # the messages go above the bar
        for warning in result.warnings:
            log.warn("%s: %s", warning, result.src)
        if result.error:
            log.error("%s", result.error)
        if self.quiet:
            return
        if self.tty:
            width = 30
            filled = width * self.count // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                             f"{self.count}/{self.total} files")
            sys.stderr.flush()
        elif self.count % self.step == 0 or self.count == self.total:
            sys.stderr.write(f"I: {self.count}/{self.total} files\n")

    def finish(self) -> None:
        if self.quiet:
            return
        if self.tty:
            sys.stderr.write("\n")
        sys.stderr.write(f"I: {self.count - self.failed} of {self.total} files de-identified"
                         + (f", {self.failed} failed" if self.failed else "") + "\n")


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

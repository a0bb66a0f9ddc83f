"""dcmgpdir: create a general purpose DICOMDIR (DCMTK's dcmgpdir; dcmmkdir builds on it)."""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, Int, log, run

TOOL = "dcmgpdir"
COLUMNS = (4, 23)
_VERBS = {"replace": "creating", "append": "appending", "update": "updating"}

# dcmmkdir's profile options: (short, long, help, profile key or None if not supported here)
PROFILE_OPTIONS = [
    ("-Pgp", "--general-purpose", "General Purpose Interchange on CD-R or\n"
     "DVD-RAM Media (STD-GEN-CD/DVD-RAM, default)", "general"),
    ("-Pdv", "--general-dvd-jpeg", "General Purpose DVD Interchange with JPEG\n(STD-GEN-DVD-JPEG)",
     "dvd-jpeg"),
    ("-Pd2", "--general-dvd-j2k", "General Purpose DVD Interchange with JPEG\n2000 (STD-GEN-DVD-J2K)",
     "dvd-j2k"),
    ("-Pbd", "--general-bd-jpeg", "General Purpose BD Interchange with JPEG\n(STD-GEN-BD-JPEG)",
     "bd-jpeg"),
    ("-Pb2", "--general-bd-j2k", "General Purpose BD Interchange with JPEG\n2000 (STD-GEN-BD-J2K)",
     "bd-j2k"),
    ("-Pbm", "--general-bd-mpeg2-mpml", "General Purpose BD Interchange with MPEG2\n"
     "MP@ML (STD-GEN-BD-MPEG2-MPML)", None),
    ("-Pbh", "--general-bd-mpeg2-mphl", "General Purpose BD Interchange with MPEG2\n"
     "MP@HL (STD-GEN-BD-MPEG2-MPHL)", None),
    ("-Pba", "--general-bd-mpeg4-hp", "General Purpose BD Interchange with MPEG-4\n"
     "AVC/H.264 HiP@Level4.1\n(STD-GEN-BD-MPEG4-HPLV41)", None),
    ("-Pbb", "--general-bd-mpeg4-hpbd", "General Purpose BD Interchange with MPEG-4\n"
     "AVC/H.264 BD-Compatible HiP@Level4.1\n(STD-GEN-BD-MPEG4-HPLV41BD)", None),
    ("", "--general-bd-mpeg4-hp2d", "General Purpose BD Interchange with MPEG-4\n"
     "AVC/H.264 HiP@Level4.2 for 2D video\n(STD-GEN-BD-MPEG4-HPLV42-2D)", None),
    ("", "--general-bd-mpeg4-hp3d", "General Purpose BD Interchange with MPEG-4\n"
     "AVC/H.264 HiP@Level4.2 for 3D video\n(STD-GEN-BD-MPEG4-HPLV42-3D)", None),
    ("", "--general-bd-mpeg4-hpst", "General Purpose BD Interchange with MPEG-4\n"
     "AVC/H.264 Stereo HiP@Level4.2\n(STD-GEN-BD-MPEG4-SHPLV42)", None),
    ("-Pfl", "--usb-and-flash-jpeg", "General Purpose USB/Flash Memory Interchange\n"
     "with JPEG (STD-GEN-USB/MMC/CF/SD-JPEG)", "usb-jpeg"),
    ("-Pf2", "--usb-and-flash-j2k", "General Purpose USB/Flash Memory Interchange\n"
     "with JPEG 2000 (STD-GEN-USB/MMC/CF/SD-J2K)", "usb-j2k"),
    ("-Pmi", "--general-mime", "General Purpose MIME Interchange\n(STD-GEN-MIME)", "mime"),
    ("-Pmp", "--mpeg2-mpml-dvd", "DVD Interchange with MPEG2 Main Profile @\n"
     "Main Level (STD-DVD-MPEG2-MPML)", None),
    ("-Pbc", "--basic-cardiac", "Basic Cardiac X-Ray Angiographic Studies on\nCD-R Media (STD-XABC-CD)",
     None),
    ("-Pxa", "--xray-angiographic", "1024 X-Ray Angiographic Studies on CD-R Media\n(STD-XA1K-CD)", None),
    ("-Pxd", "--xray-angiographic-dvd", "1024 X-Ray Angiographic Studies on DVD Media\n(STD-XA1K-DVD)",
     None),
    ("-Pde", "--dental-radiograph", "Dental Radiograph Interchange (STD-DEN-CD)", None),
    ("-Pcm", "--ct-and-mr", "CT/MR Studies (STD-CTMR-xxxx)", None),
    ("-Pus", "--ultrasound-id-sf", "Ultrasound Single Frame for Image Display\n(STD-US-ID-SF-xxxx)", None),
    ("", "--ultrasound-sc-sf", "Ultrasound Single Frame with Spatial\nCalibration (STD-US-SC-SF-xxxx)",
     None),
    ("", "--ultrasound-cc-sf", "Ultrasound Single Frame with Combined\nCalibration (STD-US-CC-SF-xxxx)",
     None),
    ("-Pum", "--ultrasound-id-mf", "Ultrasound Single & Multi-Frame for Image\nDisplay (STD-US-ID-MF-xxxx)",
     None),
    ("", "--ultrasound-sc-mf", "Ultrasound Single & Multi-Frame with Spatial\n"
     "Calibration (STD-UD-SC-MF-xxxx)", None),
    ("", "--ultrasound-cc-mf", "Ultrasound Single & Multi-Frame with Combined\n"
     "Calibration (STD-UD-CC-MF-xxxx)", None),
    ("-Pec", "--12-lead-ecg", "12-lead ECG Interchange on Diskette\n(STD-WVFM-ECG-FD)", None),
    ("-Phd", "--hemodynamic-waveform", "Hemodynamic Waveform Interchange on Diskette\n(STD-WVFM-HD-FD)",
     None),
]


def build_app(tool: str = TOOL, description: str = "Create a general purpose DICOMDIR",
              mkdir: bool = False) -> App:
    app = App(tool, description, columns=COLUMNS)
    app.param("dcmfile-in", "ref. DICOM file (or directory to be scanned)", optional=True,
              multiple=True)
    app.group("input options:")
    app.subgroup("DICOMDIR identifiers:")
    app.option("+F", "--fileset-id", "use specific file-set ID\n"
               '(default: DCMTK_MEDIA_DEMO, "" for none)', value="[i]d: string",
               dest="fileset_id", default="DCMTK_MEDIA_DEMO")
    app.option("+R", "--descriptor", "add a file-set descriptor file ID\n"
               "(e.g. README, default: no descriptor)", value="[f]ilename: string")
    app.option("+C", "--char-set", "add a specific character set for descriptor\n"
               '(default: "ISO_IR 100" if descriptor present)', value="[c]harset: string",
               dest="charset")
    app.subgroup("reading:")
    app.option("+id", "--input-directory", "read referenced DICOM files from directory d\n"
               "(default for --recurse: current directory)", value="[d]irectory: string",
               dest="input_dir")
    app.option("-m", "--keep-filenames", "expect filenames to be in DICOM format (def.)",
               dest="map_filenames", const=False, default=False)
    app.option("+m", "--map-filenames", "map to DICOM filenames (lowercase->uppercase,\n"
               "and remove trailing period)", dest="map_filenames")
    app.option("-r", "--no-recurse", "do not recurse within directories (default)",
               dest="recurse", const=False, default=False)
    app.option("+r", "--recurse", "recurse within filesystem directories", dest="recurse")
    app.option("+p", "--pattern", "pattern for filename matching (wildcards)",
               value="[p]attern: string (only with --recurse)")
    app.group("processing options:")
    app.subgroup("consistency check:")
    app.option("-W", "--no-consistency-check", "do not check files for consistency",
               dest="consistency", const="none")
    app.option("+W", "--warn-inconsist-files", "warn about inconsistent files (default)",
               dest="consistency", const="warn", default="warn")
    app.option("-a", "--abort-inconsist-file", "abort on first inconsistent file",
               dest="consistency", const="abort")
    app.subgroup("type 1 attributes:")
    app.option("-I", "--strict", "exit with error if DICOMDIR type 1 attributes\n"
               "are missing in DICOM file (default)", dest="invent", const=False, default=False)
    app.option("+I", "--invent", "invent DICOMDIR type 1 attributes\nif missing in DICOM file",
               dest="invent")
    app.option("+Ipi", "--invent-patient-id", "invent new PatientID in case of inconsistent\n"
               "PatientName attributes", dest="invent_patient_id")
    app.subgroup("other checks:")
    app.option("+Nrs", "--allow-retired-sop", "allow retired SOP classes defined in previous\n"
               "editions of the DICOM standard", dest="retired_sop")
    app.option("-Nxc", "--no-xfer-check", "do not reject images with non-standard\n"
               "transfer syntax (just warn)", dest="no_xfer_check")
    if mkdir:
        app.option("-Nec", "--no-encoding-check", "do not reject images with non-standard\n"
                   "pixel encoding (just warn)", dest="no_encoding_check")
        app.option("-Nrc", "--no-resolution-check", "do not reject images with non-standard\n"
                   "spatial resolution (just warn)", dest="no_resolution_check")
        app.subgroup("icon images:")
        app.option("+X", "--add-icon-image", "add monochrome icon image on IMAGE level\n"
                   "(default for cardiac profiles)", dest="icons")
        app.option("-Xs", "--icon-image-size", "width and height of the icon image (in pixel)\n"
                   "(fixed: 128 for XA, 64 for CT/MR profile)", value="[s]ize: integer (1..128)",
                   type=Int(1, 128), dest="icon_size")
        app.option("-Xi", "--icon-file-prefix", "use PGM image 'prefix'+'dcmfile-in' as icon\n"
                   "(default: create icon from DICOM image)", value="[p]refix: string",
                   dest="icon_prefix")
        app.option("-Xd", "--default-icon", "use specified PGM image if icon cannot be\n"
                   "created automatically (default: black image)", value="[f]ilename: string",
                   dest="default_icon")
    app.group("output options:")
    app.subgroup("DICOMDIR file:")
    app.option("+D", "--output-file", "generate specific DICOMDIR file\n"
               "(default: DICOMDIR in current directory)", value="[f]ilename: string",
               dest="output", default="DICOMDIR")
    if mkdir:
        app.subgroup("profiles:")
        for short, long, text, key in PROFILE_OPTIONS:
            app.option(short, long, text, dest="profile", const=key or long,
                       default="general" if key == "general" else None)
    app.subgroup("writing:")
    app.option("-A", "--replace", "replace existing DICOMDIR (default)", dest="mode",
               const="replace", default="replace")
    app.option("+A", "--append", "append to existing DICOMDIR", dest="mode", const="append")
    app.option("+U", "--update", "update existing DICOMDIR", dest="mode", const="update")
    app.option("-w", "--discard", "do not write out DICOMDIR", dest="discard")
    app.subgroup("backup:")
    app.option("", "--create-backup", "create a backup of existing DICOMDIR (def.)", dest="backup",
               default=True)
    app.option("-nb", "--no-backup", "do not create a backup of existing DICOMDIR", dest="backup",
               const=False)
    app.subgroup("post-1993 value representations:")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    app.subgroup("group length encoding:")
    app.option("-g", "--group-length-remove", "write without group length elements (default)",
               dest="group_lengths", const=False, default=False)
    app.option("+g", "--group-length-create", "write with group length elements",
               dest="group_lengths")
    app.subgroup("length encoding in sequences and items:")
    app.option("+e", "--length-explicit", "write with explicit lengths (default)",
               dest="explicit_lengths", default=True)
    app.option("-e", "--length-undefined", "write with undefined lengths",
               dest="explicit_lengths", const=False)
    return app


# ---------------------------------------------------------------------------------------------
# input files


def input_files(opts) -> list[tuple[str, str]]:
    """(path to read, file ID as a '/'-separated relative name) for each input file, in DCMTK's
    order: the parameters as given, directories (with +r) expanded in directory order."""
    base = opts.input_dir or ""
    params = list(opts.dcmfile_in or [])
    if opts.recurse and not params:
        params = [""]
    found: list[tuple[str, str]] = []
    for param in params:
        path = os.path.join(base, param) if base else param
        if os.path.isdir(path or "."):
            if not opts.recurse:
                log.warn("ignoring directory because option --recurse is not set: %s", param)
                continue
            found.extend(_scan(path, param, opts.pattern))
        else:
            found.append((path, param))
    return found


def _scan(path: str, name: str, pattern: str | None) -> list[tuple[str, str]]:
    """Files below a directory in directory order (as readdir gives them), subdirectories
    expanded where they are met; a directory reached twice (a symbolic link loop) is read once."""
    import fnmatch
    found: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    stack = [iter([(path, name, True)])]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif item[2]:
            stack.append(iter(_entries(item[0], item[1], seen)))
        elif pattern is None or fnmatch.fnmatchcase(os.path.basename(item[0]), pattern):
            found.append(item[:2])
    return found


def _entries(folder: str, rel: str, seen: set) -> list[tuple[str, str, bool]]:
    """(path, relative name, is a directory) of a directory's entries; [] if already seen."""
    try:
        st = os.stat(folder or ".")
        if (st.st_dev, st.st_ino) in seen:
            return []
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder or ".") as it:
            entries = list(it)
    except OSError as exc:
        log.warn("cannot scan directory: %s: %s", folder or ".", exc.strerror or exc)
        return []
    return [(os.path.join(folder, e.name) if folder else e.name,
             f"{rel}/{e.name}" if rel else e.name, e.is_dir()) for e in entries]


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None, tool: str = TOOL, app: App | None = None) -> int:
    app = app or build_app()
    opts = app.parse(argv)
    app.check_dependence("--pattern", "--recurse", opts.pattern is None or opts.recurse)
    profile = getattr(opts, "profile", "general") or "general"
    from dcmpy.dcmdata.dicomdir_rules import PROFILES
    if profile not in PROFILES:
        log.fatal("%s: profile %s is not supported by dcmpy (only the general purpose profiles)",
                  tool, profile)
        return 1
    if getattr(opts, "icons", False) or getattr(opts, "icon_prefix", None) \
            or getattr(opts, "default_icon", None):
        log.fatal("%s: icon images are not supported by dcmpy", tool)
        return 1
    if opts.recurse:
        log.info("determining input files ...")
    files = input_files(opts)
    if not files:
        log.fatal("no input files: DICOMDIR not created")
        return 1
    return _build(opts, files, tool, profile)


def _build(opts, files: list[tuple[str, str]], tool: str, profile: str) -> int:
    from dcmpy.dcmdata.dicomdir_build import BuildOptions, DicomDirBuilder, DicomDirBuildError
    options = BuildOptions(
        profile=profile, fileset_id=opts.fileset_id, descriptor=opts.descriptor,
        descriptor_charset=opts.charset, map_filenames=opts.map_filenames,
        consistency=opts.consistency, invent=opts.invent, invent_patient_id=opts.invent_patient_id,
        retired_sop=opts.retired_sop, xfer_check=not opts.no_xfer_check, mode=opts.mode,
        group_lengths=opts.group_lengths, explicit_lengths=opts.explicit_lengths,
        new_vrs=opts.new_vrs)
    output = opts.output
    backup = _backup(output) if opts.backup and not opts.discard and os.path.isfile(output) else None
    builder = DicomDirBuilder(output, options, _report)
    try:
        builder.start()
        for path, name in files:
            builder.add_file(path, name)
            if builder.aborted:
                break
        if builder.bad_files and (builder.added or builder.aborted):
            log.warn("%d file(s) cannot be added to DICOMDIR: \n%s", len(builder.bad_files),
                     "\n".join("  " + f for f in builder.bad_files))
        if builder.aborted:
            raise DicomDirBuildError("Corrupted data")
        if not builder.added:
            log.error("no good files: DICOMDIR not created")
            return 1
        if not opts.discard:
            builder.write()
    except DicomDirBuildError as exc:
        if str(exc) != exc.reason:
            log.error("%s", exc)
        verb = "writing" if builder.writing else _VERBS[opts.mode]
        log.fatal("%s: error (%s) %s file: %s", tool, exc.reason, verb, output)
        return 1
    finally:
        if backup is not None:
            _remove_backup(backup, written=os.path.exists(output) and not opts.discard
                           and builder.added > 0 and not builder.aborted)
    return 0


def _remove_backup(backup: str, written: bool) -> None:
    """The backup goes once the DICOMDIR is written; if nothing was written the DICOMDIR was
    never touched, so the copy goes too (DCMTK leaves only the .BAK behind in that case)."""
    if written:
        log.info("deleting DICOMDIR backup: %s", backup)
    try:
        os.unlink(backup)
    except OSError as exc:
        log.warn("cannot delete DICOMDIR backup: %s: %s", backup, exc.strerror or exc)


def _backup(output: str) -> str | None:
    """--create-backup: copy the existing DICOMDIR to <output>.BAK (the write itself is atomic,
    so the copy is only removed again afterwards, as DCMTK does)."""
    import shutil
    backup = output + ".BAK"
    log.info("creating DICOMDIR backup: %s", backup)
    try:
        shutil.copyfile(output, backup)
    except OSError as exc:
        log.warn("cannot create DICOMDIR backup: %s: %s", backup, exc.strerror or exc)
        return None
    return backup


def _report(level: str, text: str) -> None:
    {"info": log.info, "warn": log.warn, "error": log.error}[level]("%s", text)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

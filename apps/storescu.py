"""storescu: DICOM storage (C-STORE) SCU, with DCMTK's options, proposals, log lines and exit
codes. Files are sent as their bytes (memory-mapped) when the accepted transfer syntax is their
own, converted between uncompressed syntaxes otherwise."""
from __future__ import annotations

import sys

from dcmpy.apps import _netopts as N
from dcmpy.apps import _tlsopts as T
from dcmpy.apps._cmdline import INFO, App, Int, log, run

TOOL = "storescu"


def build_app() -> App:
    app = App(TOOL, "DICOM storage (C-STORE) SCU", columns=(4, 19), libraries=T.libraries)
    app.param("peer", "hostname of DICOM peer")
    app.param("port", "tcp/ip port number of peer")
    app.param("dcmfile-in", "DICOM file or directory to be transmitted", multiple=True)
    app.option("+v", "--verbose-pc", "show presentation contexts in verbose mode", dest="verbose_pc")
    app.group("input options:")
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set (default)", dest="read_mode",
               const="auto", default="auto")
    app.option("+fo", "--read-file-only", "read file format only", dest="read_mode", const="file-only")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    app.subgroup("input files:")
    app.option("+sd", "--scan-directories", "scan directories for input files (dcmfile-in)",
               dest="scan_dirs")
    app.option("+sp", "--scan-pattern", "pattern for filename matching (wildcards)",
               value="[p]attern: string (only with --scan-directories)", dest="scan_pattern")
    app.option("-r", "--no-recurse", "do not recurse within directories (default)", dest="recurse",
               const=False)
    app.option("+r", "--recurse", "recurse within specified directories", dest="recurse")
    app.option("-rn", "--no-rename", "do not rename processed files (default)", dest="rename",
               const=False)
    app.option("+rn", "--rename", "append .done/.bad to processed files", dest="rename")
    app.group("network options:")
    N.add_ae_titles(app, "STORESCU")
    app.subgroup("association negotiation profile from configuration file:")
    app.option("-xf", "--config-file", "use profile p from config file f",
               value="[f]ilename, [p]rofile: string", nargs=2, dest="config_file")
    app.subgroup("proposed transmission transfer syntaxes (not with --config-file):", (4, 22))
    app.option("-x=", "--propose-uncompr", "propose all uncompressed TS, explicit VR\n"
               "with local byte ordering first (default)", dest="propose", const=None)
    app.option("-xe", "--propose-little", "propose all uncompressed TS, explicit VR\n"
               "little endian first", dest="propose", const=N.EXPLICIT_LE)
    app.option("-xb", "--propose-big", "propose all uncompressed TS, explicit VR\n"
               "big endian first", dest="propose", const=N.EXPLICIT_BE)
    app.option("-xi", "--propose-implicit", "propose implicit VR little endian TS only",
               dest="propose", const=N.IMPLICIT_LE)
    for letter, name, uid, scu_help, _ in N.TS_OPTIONS:
        tail = "" if letter in N.VIDEO else "\nand all uncompressed transfer syntaxes"
        app.option(f"-x{letter}", f"--propose-{name}", f"propose {scu_help}{tail}",
                   dest="propose", const=uid)
    app.option("-R", "--required", "propose only required presentation contexts\n"
               "(default: propose all supported)", dest="required")
    app.option("+C", "--combine", "combine proposed transfer syntaxes\n"
               "(default: separate pres. context for each TS)", dest="combine")
    app.subgroup("post-1993 value representations:")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    app.subgroup("deflate compression level (only with --propose-deflated or --config-file):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)
    app.subgroup("user identity negotiation:")
    app.option("-usr", "--user", "authenticate using user name u", value="[u]ser name: string",
               dest="user")
    app.option("-pwd", "--password", "authenticate using password p",
               value="[p]assword: string (only with --user)", dest="password")
    app.option("-epw", "--empty-password", "send empty password (only with --user)",
               dest="empty_password")
    app.option("-kt", "--kerberos", "read kerberos ticket from file f", value="[f]ilename: string",
               dest="kerberos")
    app.option("", "--saml", "read SAML request from file f", value="[f]ilename: string", dest="saml")
    app.option("", "--jwt", "read JWT data from file f", value="[f]ilename: string", dest="jwt")
    app.option("-rsp", "--pos-response", "expect positive response", dest="pos_response")
    app.subgroup("other network options:")
    N.add_timeouts(app)
    N.add_max_pdu(app, send=True)
    N.add_repeat_abort(app)
    app.option("-nh", "--no-halt", "do not halt if unsuccessful store encountered\n"
               "(default: do halt)", dest="no_halt")
    app.option("-up", "--uid-padding", "silently correct space-padded UIDs", dest="uid_padding")
    app.option("+II", "--invent-instance", "invent a new SOP instance UID for every image\nsent",
               dest="invent")
    app.option("+IR", "--invent-series", "invent a new series UID after n images\n"
               "have been sent (default: 100)", value="[n]umber: integer (implies --invent-instance)",
               type=Int(1), dest="invent_series", default=100)
    app.option("+IS", "--invent-study", "invent a new study UID after n series\n"
               "have been sent (default: 50)", value="[n]umber: integer (implies --invent-instance)",
               type=Int(1), dest="invent_study", default=50)
    app.option("+IP", "--invent-patient", "invent a new patient ID and name after n studies\n"
               "have been sent (default: 25)", value="[n]umber: integer (implies --invent-instance)",
               type=Int(1), dest="invent_patient", default=25)
    T.add_options(app)
    return app


def _identity(opts, app: App):
    from dcmpy.dcmnet.pdu import UserIdentity

    def read(path: str) -> bytes:
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            app.error(f"cannot read file {path}: {exc.strerror}")
    positive = bool(opts.pos_response)
    if opts.user is not None:
        if opts.password is not None or opts.empty_password:
            return UserIdentity(2, opts.user.encode(), (opts.password or "").encode(), positive)
        return UserIdentity(1, opts.user.encode(), b"", positive)
    for kind, path in ((3, opts.kerberos), (4, opts.saml), (5, opts.jwt)):
        if path is not None:
            return UserIdentity(kind, read(path), b"", positive)
    return None


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    tls = T.parse(app, opts)
    port = N.parse_port(app, opts.port)
    app.check_dependence("--scan-pattern", "--scan-directories", opts.scan_pattern is None or opts.scan_dirs)
    app.check_dependence("--password", "--user", opts.password is None or opts.user is not None)
    app.check_dependence("--empty-password", "--user", not opts.empty_password or opts.user is not None)
    options = send_options(opts, app)
    if isinstance(options, int):
        return options
    options.tls = T.context(tls)
    if isinstance(options.tls, int):
        return options.tls
    from dcmpy.apps._files import collect_input_files
    from dcmpy.dcmnet.sender import StoreSCU
    if opts.scan_dirs:
        log.info("determining input files ...")
    files = collect_input_files(opts, TOOL)
    if not files:
        log.fatal("no input files to be sent")   # e.g. only directories without +sd
        return 1
    progress = sys.stdout if log.enabled(INFO) else None
    return StoreSCU(opts.peer, port, options, log, progress).send(files)


def send_options(opts, app: App):
    """The library's SendOptions for the parsed command line (or an exit code)."""
    from dcmpy.dcmdata.reader import ReadOptions
    from dcmpy.dcmnet.sender import InventOptions, SendOptions
    profile = None
    if opts.config_file is not None:
        from dcmpy.dcmnet.assocprofile import AssociationProfiles, ProfileError
        path, name = opts.config_file
        try:
            profile = AssociationProfiles.load(path).profile(name)
        except (ProfileError, OSError) as exc:
            log.fatal("cannot use association profile %s from %s: %s", name, path, exc)
            return 1
    invent = None
    if opts.invent or any(opts.given(o) for o in ("--invent-series", "--invent-study", "--invent-patient")):
        invent = InventOptions(opts.invent_series, opts.invent_study, opts.invent_patient)
    return SendOptions(
        calling_ae=N.check_ae_title(app, "--aetitle", opts.aetitle),
        called_ae=N.check_ae_title(app, "--call", opts.call),
        propose=opts.propose, required_only=opts.required, combine=opts.combine,
        profile=profile, max_pdu=opts.max_pdu, max_send_pdu=opts.max_send_pdu,
        timeouts=N.timeouts_from(opts), repeat=opts.repeat, abort=opts.abort,
        halt=not opts.no_halt, rename=bool(opts.rename),
        read_options=ReadOptions(read_mode=opts.read_mode),
        user_identity=_identity(opts, app), invent=invent, verbose_pc=opts.verbose_pc)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

"""storescp: DICOM storage (C-STORE) SCP, with DCMTK's options, file names and log lines.

Every association runs in a thread of its own (DCMTK's default handles one at a time;
``--single-process`` and ``--fork`` are accepted and change nothing). Received data sets stream
to a temporary file and are renamed once complete; ``-xcr``/``-xcs`` commands run without a
shell (see ``dcmpy.dcmnet.execcmd``).
"""
from __future__ import annotations

import os
import sys

from dcmpy.apps import _netopts as N
from dcmpy.apps import _tlsopts as T
from dcmpy.apps._cmdline import INFO, App, Int, log, run

TOOL = "storescp"
_WRITE_TS = {"little": N.EXPLICIT_LE, "big": N.EXPLICIT_BE, "implicit": N.IMPLICIT_LE,
             "deflated": "1.2.840.10008.1.2.1.99"}


def build_app() -> App:
    app = App(TOOL, "DICOM storage (C-STORE) SCP", columns=(4, 21), help_if_no_args=True,
              libraries=T.libraries)
    app.param("port", "tcp/ip port number to listen on", optional=True)
    app.option("+v", "--verbose-pc", "show presentation contexts in verbose mode", dest="verbose_pc")
    app.group("multi-process options:", (6, 21))
    app.option("", "--single-process", "single process mode (default)", dest="fork", const=False)
    app.option("", "--fork", "fork child process for each association", dest="fork")
    app.group("network options:")
    app.subgroup("association negotiation profile from configuration file:")
    app.option("-xf", "--config-file", "use profile p from config file f",
               value="[f]ilename, [p]rofile: string", nargs=2, dest="config_file")
    app.subgroup("preferred network transfer syntaxes (not with --config-file):", (4, 21))
    app.option("+x=", "--prefer-uncompr", "prefer explicit VR local byte order (default)",
               dest="prefer", const=None)
    app.option("+xe", "--prefer-little", "prefer explicit VR little endian TS", dest="prefer",
               const=N.EXPLICIT_LE)
    app.option("+xb", "--prefer-big", "prefer explicit VR big endian TS", dest="prefer",
               const=N.EXPLICIT_BE)
    for letter, name, uid, _, scp_help in N.TS_OPTIONS:
        app.option(f"+x{letter}", f"--prefer-{name}", f"prefer {scp_help}", dest="prefer", const=uid)
    app.option("+xi", "--implicit", "accept implicit VR little endian TS only", dest="prefer",
               const=N.IMPLICIT_LE)
    app.option("+xa", "--accept-all", "accept all supported transfer syntaxes", dest="prefer",
               const="*")
    app.subgroup("network host access control (tcp wrapper):")
    app.option("-ac", "--access-full", "accept connections from any host (default)",
               dest="access_control", const=False)
    app.option("+ac", "--access-control", "enforce host access control rules", dest="access_control")
    app.subgroup("other network options:")
    app.option("-id", "--inetd", "run from inetd super server (not with --fork)", dest="inetd")
    N.add_timeouts(app, connect=False)
    app.option("-aet", "--aetitle", "set my AE title (default: STORESCP)",
               value="[a]etitle: string", dest="aetitle", default="STORESCP")
    N.add_max_pdu(app)
    app.option("-dhl", "--disable-host-lookup", "disable hostname lookup", dest="")
    app.option("", "--refuse", "refuse association", dest="refuse")
    app.option("", "--reject", "reject association if no implement. class UID", dest="reject")
    app.option("", "--ignore", "ignore store data, receive but do not store", dest="ignore")
    app.option("", "--sleep-after", "sleep s seconds after store (default: 0)",
               value="[s]econds: integer", type=Int(0), dest="sleep_after", default=0)
    app.option("", "--sleep-during", "sleep s seconds during store (default: 0)",
               value="[s]econds: integer", type=Int(0), dest="sleep_during", default=0)
    app.option("", "--abort-after", "abort association after receipt of C-STORE-RQ\n"
               "(but before sending response)", dest="abort_after")
    app.option("", "--abort-during", "abort association during receipt of C-STORE-RQ",
               dest="abort_during")
    app.option("-pm", "--promiscuous", "promiscuous mode, accept unknown SOP classes\n"
               "(not with --config-file)", dest="promiscuous")
    app.option("-up", "--uid-padding", "silently correct space-padded UIDs", dest="")
    app.option("", "--max-associations", "limit on simultaneous associations (default: 50)",
               value="[n]umber: integer", type=Int(1), dest="max_associations", default=50)
    T.add_options(app, scp=True)
    app.group("output options:")
    app.subgroup("general:")
    app.option("-od", "--output-directory", "write received objects to existing directory d",
               value='[d]irectory: string (default: ".")', dest="output_directory", default=".")
    app.subgroup("bit preserving mode:")
    app.option("-B", "--normal", "allow implicit format conversions (default)", dest="bit_preserving",
               const=False)
    app.option("+B", "--bit-preserving", "write data exactly as read", dest="bit_preserving")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_meta", default=True)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_meta", const=False)
    app.subgroup("output transfer syntax (not with --bit-preserving or compressed transmission):")
    app.option("+t=", "--write-xfer-same", "write with same TS as input (default)", dest="write_xfer",
               const=None)
    app.option("+te", "--write-xfer-little", "write with explicit VR little endian TS",
               dest="write_xfer", const="little")
    app.option("+tb", "--write-xfer-big", "write with explicit VR big endian TS", dest="write_xfer",
               const="big")
    app.option("+ti", "--write-xfer-implicit", "write with implicit VR little endian TS",
               dest="write_xfer", const="implicit")
    app.option("+td", "--write-xfer-deflated", "write with deflated expl. VR little endian TS",
               dest="write_xfer", const="deflated")
    app.subgroup("post-1993 value representations (not with --bit-preserving):")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    app.subgroup("group length encoding (not with --bit-preserving):")
    app.option("+g=", "--group-length-recalc", "recalculate group lengths if present (default)",
               dest="group_lengths", const="recalc", default="recalc")
    app.option("+g", "--group-length-create", "always write with group length elements",
               dest="group_lengths", const="add")
    app.option("-g", "--group-length-remove", "always write without group length elements",
               dest="group_lengths", const="remove")
    app.subgroup("length encoding in sequences and items (not with --bit-preserving):")
    app.option("+e", "--length-explicit", "write with explicit lengths (default)",
               dest="explicit_lengths", default=True)
    app.option("-e", "--length-undefined", "write with undefined lengths", dest="explicit_lengths",
               const=False)
    app.subgroup("data set trailing padding (not with --write-dataset or --bit-preserving):")
    app.option("-p", "--padding-off", "no padding (default)", dest="padding", const="off",
               default="off")
    app.option("+p", "--padding-create", "align file on multiple of f bytes and items\n"
               "on multiple of i bytes", value="[f]ile-pad [i]tem-pad: integer", nargs=2,
               type=(Int(0), Int(0)), dest="padding")
    app.subgroup("handling of defined length UN elements:")
    app.option("-uc", "--retain-un", "retain elements as UN (default)", dest="convert_un",
               const=False)
    app.option("+uc", "--convert-un", "convert to real VR if known", dest="convert_un")
    app.subgroup("deflate compression level (only with --write-xfer-deflated/same):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)
    app.subgroup("sorting into subdirectories (not with --bit-preserving):")
    app.option("-ss", "--sort-conc-studies", "sort studies using prefix p and a timestamp",
               value="[p]refix: string", dest="sort_conc")
    app.option("-su", "--sort-on-study-uid", "sort studies using prefix p and the Study\n"
               "Instance UID", value="[p]refix: string", dest="sort_study")
    app.option("-sp", "--sort-on-patientname", "sort studies using the Patient's Name and\n"
               "a timestamp", dest="sort_patient")
    app.subgroup("filename generation:")
    app.option("-uf", "--default-filenames", "generate filename from instance UID (default)",
               dest="naming", const="default", default="default")
    app.option("+uf", "--unique-filenames", "generate unique filenames", dest="naming",
               const="unique")
    app.option("-tn", "--timenames", "generate filename from creation time", dest="naming",
               const="time")
    app.option("-fe", "--filename-extension", "append e to all filenames",
               value="[e]xtension: string", dest="extension", default="")
    app.group("event options:", (6, 21))
    app.option("-xcr", "--exec-on-reception", "execute command c after having received and\n"
               "processed one C-STORE-RQ message", value="[c]ommand: string", dest="exec_reception")
    app.option("-xcs", "--exec-on-eostudy", "execute command c after having received and\n"
               "processed all C-STORE-RQ messages that belong\nto one study",
               value="[c]ommand: string", dest="exec_eostudy")
    app.option("-rns", "--rename-on-eostudy", "having received and processed all C-STORE-RQ\n"
               "messages that belong to one study, rename\noutput files according to certain pattern",
               dest="rename_eostudy")
    app.option("-tos", "--eostudy-timeout", "specifies a timeout of t seconds for\n"
               "end-of-study determination", value="[t]imeout: integer", type=Int(0),
               dest="eostudy_timeout")
    app.option("-xs", "--exec-sync", "execute command synchronously in foreground", dest="exec_sync")
    return app


def _sorting(opts) -> tuple[str | None, str]:
    """(sort mode, prefix) from -ss/-su/-sp (the last one given wins)."""
    chosen = None
    for arg in opts.argv:
        if arg in ("-ss", "--sort-conc-studies"):
            chosen = ("timestamp", opts.sort_conc or "")
        elif arg in ("-su", "--sort-on-study-uid"):
            chosen = ("study", opts.sort_study or "")
        elif arg in ("-sp", "--sort-on-patientname"):
            chosen = ("patient", "")
    return chosen or (None, "")


def _checks(app: App, opts, sort: str | None) -> None:
    """DCMTK's option dependencies."""
    app.check_dependence("--exec-on-eostudy", "--sort-conc-studies, --sort-on-study-uid or "
                         "--sort-on-patientname", opts.exec_eostudy is None or sort is not None)
    app.check_dependence("--rename-on-eostudy", "--sort-conc-studies, --sort-on-study-uid or "
                         "--sort-on-patientname", not opts.rename_eostudy or sort is not None)
    app.check_dependence("--eostudy-timeout", "--sort-conc-studies, --sort-on-study-uid, "
                         "--sort-on-patientname, --exec-on-eostudy or --rename-on-eostudy",
                         opts.eostudy_timeout is None or sort is not None)
    app.check_conflict("--inetd", "--fork", bool(opts.inetd and opts.fork))
    app.check_conflict("--promiscuous", "--config-file", bool(opts.promiscuous and opts.config_file))
    if opts.port is None and not opts.inetd:
        app.error("Missing parameter port")


def receive_options(opts, app: App):
    """The library's ReceiveOptions for the parsed command line (or an exit code)."""
    from dcmpy.dcmnet.receiver import ReceiveOptions
    from dcmpy.dcmdata.writer import WriteOptions
    sort, prefix = _sorting(opts)
    _checks(app, opts, sort)
    profile = None
    if opts.config_file is not None:
        from dcmpy.dcmnet.assocprofile import AssociationProfiles, ProfileError
        path, name = opts.config_file
        try:
            profile = AssociationProfiles.load(path).profile(name)
            profile.check_scp()
        except (ProfileError, OSError) as exc:
            log.fatal("cannot use association profile %s from %s: %s", name, path, exc)
            return 1
    if not os.path.isdir(opts.output_directory):
        log.fatal("specified output directory does not exist")
        return 1
    if not os.access(opts.output_directory, os.W_OK):
        log.fatal("specified output directory is not writeable")
        return 1
    for template in (opts.exec_reception, opts.exec_eostudy):
        if template is not None:
            from dcmpy.dcmnet.execcmd import parse_template
            try:
                parse_template(template)
            except ValueError as exc:
                app.error(str(exc))
    write = None
    if opts.write_xfer is not None or opts.group_lengths != "recalc" or not opts.explicit_lengths \
            or opts.padding != "off" or not opts.new_vrs:
        write = WriteOptions(transfer_syntax=_WRITE_TS.get(opts.write_xfer),
                             write_meta=opts.write_meta, group_lengths=opts.group_lengths,
                             explicit_lengths=opts.explicit_lengths, new_vrs=opts.new_vrs,
                             padding=opts.padding, compression_level=opts.compression_level)
    return ReceiveOptions(
        ae_title=N.check_ae_title(app, "--aetitle", opts.aetitle), output_dir=opts.output_directory,
        transfer_syntaxes=_accepted_syntaxes(opts.prefer), promiscuous=bool(opts.promiscuous),
        profile=profile, max_pdu=opts.max_pdu, timeouts=N.timeouts_from(opts),
        max_associations=opts.max_associations, refuse=bool(opts.refuse),
        reject_without_implementation_uid=bool(opts.reject), ignore=bool(opts.ignore),
        write_meta=opts.write_meta, write_options=write, naming=opts.naming,
        extension=opts.extension, sort=sort, sort_prefix=prefix,
        exec_on_reception=opts.exec_reception, exec_on_eostudy=opts.exec_eostudy,
        exec_sync=bool(opts.exec_sync), rename_on_eostudy=bool(opts.rename_eostudy),
        eostudy_timeout=opts.eostudy_timeout, sleep_after=opts.sleep_after,
        sleep_during=opts.sleep_during, abort_after=bool(opts.abort_after),
        abort_during=bool(opts.abort_during))


# +xa: DCMTK's list in its order (measured on 3.6.7); after the uncompressed ones, the other
# encapsulated syntaxes DCMTK refuses (JPEG processes 3-29 but 14 SV1, HTJ2K, JPEG XL, ...)
ACCEPT_ALL_FIRST = ["1.2.840.10008.1.2.4." + n for n in ("91", "90", "51", "50", "70", "81", "80")] + \
    ["1.2.840.10008.1.2.5"] + ["1.2.840.10008.1.2.4.1" + n for n in ("00", "01", "02", "03", "04",
                                                                   "05", "06", "07", "08")] + \
    ["1.2.840.10008.1.2.1.99"]


def _other_encapsulated() -> list[str]:
    from dcmpy.dcmdata.xfer import BY_UID
    return [uid for uid, ts in BY_UID.items() if ts.encapsulated and uid not in ACCEPT_ALL_FIRST]


def _accepted_syntaxes(prefer: str | None) -> list[str]:
    """The transfer syntaxes storescp accepts, in its order of preference, for +x?."""
    local = N.EXPLICIT_LE if sys.byteorder == "little" else N.EXPLICIT_BE
    uncompressed = [local] + [ts for ts in (N.EXPLICIT_LE, N.EXPLICIT_BE) if ts != local] + [N.IMPLICIT_LE]
    if prefer is None:
        return uncompressed
    if prefer == N.IMPLICIT_LE:
        return [N.IMPLICIT_LE]
    if prefer == "*":
        return ACCEPT_ALL_FIRST + uncompressed + _other_encapsulated()
    if prefer in (N.EXPLICIT_LE, N.EXPLICIT_BE):
        return [prefer] + [ts for ts in uncompressed if ts != prefer]
    return [prefer] + uncompressed


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    tls = T.parse(app, opts, scp=True)
    port = N.parse_port(app, opts.port) if opts.port is not None else None
    options = receive_options(opts, app)
    if isinstance(options, int):
        return options
    options.tls = T.context(tls)
    if isinstance(options.tls, int):
        return options.tls
    from dcmpy.dcmnet.receiver import StoreSCP
    scp = StoreSCP(options, log, sys.stdout if log.enabled(INFO) else None)
    if opts.inetd:
        import socket
        scp.ae.handle(socket.socket(fileno=0))
        return 0
    try:
        scp.ae.bind(port)
    except OSError as exc:
        log.error("cannot create network: 0006:031c TCP Initialization Error: %s",
                  os.strerror(exc.errno) if exc.errno else exc)
        return 1
    scp.serve(port)
    return 0


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

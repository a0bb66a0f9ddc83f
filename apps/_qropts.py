"""What findscu, movescu and getscu share: their option blocks (DCMTK's wording) and turning
query files and ``-k`` keys into identifiers."""
from __future__ import annotations

import os

from dcmpy.apps import _netopts as N
from dcmpy.apps._cmdline import App, Int, log

DEFLATED = "1.2.840.10008.1.2.1.99"
MODEL_HELP = {"worklist": "use modality worklist information model", "patient":
              "use patient root information model", "study": "use study root information model",
              "psonly": "use patient/study only information model"}
MODEL_OPTIONS = {"worklist": ("-W", "--worklist"), "patient": ("-P", "--patient"),
                 "study": ("-S", "--study"), "psonly": ("-O", "--psonly")}


def add_params(app: App) -> None:
    app.param("peer", "hostname of DICOM peer")
    app.param("port", "tcp/ip port number of peer")
    app.param("dcmfile-in", "DICOM query file(s)", optional=True, multiple=True)


def add_keys(app: App, value: str) -> None:
    app.subgroup("override matching keys:")
    app.option("-k", "--key", "override matching key", value=value, dest="keys", append=True)


def add_models(app: App, heading: str, models: list[str], default: str) -> None:
    app.subgroup(heading)
    for model in models:
        short, long = MODEL_OPTIONS[model]
        suffix = (" (def.)" if model == "worklist" else " (default)") if model == default else ""
        app.option(short, long, MODEL_HELP[model] + suffix, dest="model", const=model,
                   default=default)


def add_propose(app: App, heading: str) -> None:
    """-x= -xe -xb -xd -xi: the transfer syntaxes proposed for the query/retrieve context."""
    app.subgroup(heading)
    app.option("-x=", "--propose-uncompr", "propose all uncompressed TS, explicit VR\n"
               "with local byte ordering first (default)", dest="propose", const=None)
    app.option("-xe", "--propose-little", "propose all uncompressed TS, explicit VR\n"
               "little endian first", dest="propose", const=N.EXPLICIT_LE)
    app.option("-xb", "--propose-big", "propose all uncompressed TS, explicit VR\n"
               "big endian first", dest="propose", const=N.EXPLICIT_BE)
    app.option("-xd", "--propose-deflated", "propose deflated explicit VR little endian TS\n"
               "and all uncompressed transfer syntaxes", dest="propose", const=DEFLATED)
    app.option("-xi", "--propose-implicit", "propose implicit VR little endian TS only",
               dest="propose", const=N.IMPLICIT_LE)


def add_prefer(app: App, heading: str, accept_all: bool) -> None:
    """+x?: the storage transfer syntaxes for the retrieved objects."""
    app.subgroup(heading)
    app.option("+x=", "--prefer-uncompr", "prefer explicit VR local byte order (default)",
               dest="prefer", const=None)
    app.option("+xe", "--prefer-little", "prefer explicit VR little endian TS", dest="prefer",
               const=N.EXPLICIT_LE)
    app.option("+xb", "--prefer-big", "prefer explicit VR big endian TS", dest="prefer",
               const=N.EXPLICIT_BE)
    for letter, name, uid, _, scp_help in N.TS_OPTIONS:
        text = scp_help.replace("expl.", "explicit")      # storescp abbreviates, these do not
        app.option(f"+x{letter}", f"--prefer-{name}", f"prefer {text}", dest="prefer", const=uid)
    app.option("+xi", "--implicit", "accept implicit VR little endian TS only", dest="prefer",
               const=N.IMPLICIT_LE)
    if accept_all:
        app.option("+xa", "--accept-all", "accept all supported transfer syntaxes", dest="prefer",
                   const="*")


def add_network_tail(app: App, socket_timeout: bool) -> None:
    app.subgroup("other network options:")
    app.option("-to", "--timeout", "timeout for connection requests",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="timeout")
    if socket_timeout:
        app.option("-ts", "--socket-timeout", "timeout for network socket (0 for none)",
                   value="[s]econds: integer (default: 60)", type=Int(0), dest="socket_timeout",
                   default=60)
    app.option("-ta", "--acse-timeout", "timeout for ACSE messages",
               value="[s]econds: integer (default: 30)", type=Int(1), dest="acse_timeout", default=30)
    app.option("-td", "--dimse-timeout", "timeout for DIMSE messages",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="dimse_timeout")
    N.add_max_pdu(app)


def add_cancel(app: App) -> None:
    app.option("", "--cancel", "cancel after n responses (default: never)",
               value="[n]umber: integer", type=Int(0), dest="cancel")


def proposed(propose: str | None) -> list[str]:
    """The transfer syntaxes -x? proposes, in DCMTK's order."""
    from dcmpy.dcmnet.qrscu import UNCOMPRESSED
    if propose == N.IMPLICIT_LE:
        return [N.IMPLICIT_LE]
    if propose in (N.EXPLICIT_LE, N.EXPLICIT_BE):
        return [propose] + [ts for ts in UNCOMPRESSED if ts != propose]
    return ([DEFLATED] if propose == DEFLATED else []) + list(UNCOMPRESSED)


def preferred(prefer: str | None) -> list[str]:
    """+x? as a list of storage transfer syntaxes (getscu proposes them, in this order)."""
    from dcmpy.dcmnet.qrscu import UNCOMPRESSED
    if prefer == N.IMPLICIT_LE:
        return [N.IMPLICIT_LE]
    if prefer in (N.EXPLICIT_LE, N.EXPLICIT_BE):
        return [prefer] + [ts for ts in UNCOMPRESSED if ts != prefer]
    return ([prefer] if prefer else []) + list(UNCOMPRESSED)


def check_files(app: App, opts) -> None:
    """DCMTK's checks of the query files and keys on the command line."""
    for path in opts.dcmfile_in:
        if not os.access(path, os.R_OK) or os.path.isdir(path):
            app.error(f"cannot access file: {path}")
    if not opts.dcmfile_in and not opts.keys:
        app.error("either query file or override keys (or both) must be specified")


def queries(opts) -> list | None:
    """The identifiers: each query file with the keys applied, or the keys alone. None after
    logging the one-line reason when a file or key cannot be used."""
    from dcmpy.dcmnet.qrscu import QueryError, build_query, read_query_file
    try:
        if not opts.dcmfile_in:
            return [build_query(opts.keys)]
        return [read_query_file(path, opts.keys) for path in opts.dcmfile_in]
    except QueryError as exc:
        log.fatal("%s", exc)
        return None


def common(app: App, opts, options_class, **extra):
    """The library options every Q/R SCU takes from the command line."""
    from dcmpy.dcmdata.writer import WriteOptions
    write = WriteOptions(new_vrs=getattr(opts, "new_vrs", True),
                         compression_level=getattr(opts, "compression_level", 6))
    return options_class(
        model=opts.model, calling_ae=N.check_ae_title(app, "--aetitle", opts.aetitle),
        called_ae=N.check_ae_title(app, "--call", opts.call),
        transfer_syntaxes=proposed(opts.propose), max_pdu=opts.max_pdu,
        timeouts=N.timeouts_from(opts), repeat=opts.repeat, abort=bool(opts.abort),
        cancel_after=getattr(opts, "cancel", None), write_options=write, **extra)


def output_dir_ok(directory: str) -> bool:
    """DCMTK's checks of -od (fatal line when it cannot be used)."""
    if not os.path.isdir(directory):
        log.fatal("specified output directory does not exist")
        return False
    if not os.access(directory, os.W_OK):
        log.fatal("specified output directory is not writeable")
        return False
    return True


def raw_stderr() -> None:
    """Logged identifiers carry their values' bytes unconverted (as surrogates), like DCMTK's."""
    import sys
    try:
        sys.stderr.reconfigure(errors="surrogateescape")
    except AttributeError:          # not a text stream we can reconfigure
        pass

"""dcmrecv: simple DICOM storage SCP (receiver), with DCMTK's options, file and folder names,
log lines and exit codes, built on :class:`dcmpy.dcmnet.receiver.StoreSCP`.

Without ``-xf`` only the Verification SOP Class is accepted (as DCMTK); an association that
proposes nothing acceptable is rejected. Objects are stored in the transfer syntax they arrived
in; as DCMTK, the normal mode writes sequences and items with undefined length, +B writes the
data set exactly as received. As a library::

    from dcmpy.apps.dcmrecv import Receiver, ReceiverOptions
    Receiver(ReceiverOptions(output_dir="in", profile=profile)).serve(104)
"""
from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from dcmpy.apps import _netopts as N
from dcmpy.apps import _tlsopts as T
from dcmpy.apps._cmdline import (EXITCODE_CANNOT_START_SCP_AND_LISTEN,
                                 EXITCODE_CANNOT_CREATE_TRANSPORT_LAYER,
                                 EXITCODE_INVALID_ASSOCIATION_CONFIG,
                                 EXITCODE_INVALID_OUTPUT_DIRECTORY, App, Int, log, run)
from dcmpy.dcmnet.receiver import ReceiveOptions, StoreSCP

TOOL = "dcmrecv"
VERIFICATION = "1.2.840.10008.1.1"


@dataclass
class ReceiverOptions:
    """dcmrecv's options as a library object."""
    ae_title: str = "DCMRECV"
    output_dir: str = "."
    profile: Any = None                  # an assocprofile.Profile (-xf); None: Verification only
    naming: str = "default"              # +fd 'default', +fu 'unique', +fsu 'short', +fst 'time'
    extension: str = ""
    series_date_subdir: bool = False     # +ssd
    ignore: bool = False
    bit_preserving: bool = False         # +B: the data set exactly as received
    max_pdu: int = 16384
    timeouts: Any = None
    host_lookup: bool = True             # -dhl clears it
    tls: Any = None                      # an ssl.SSLContext (dcmnet.tls)


class Receiver(StoreSCP):
    """dcmrecv as a library class: storescp's receiving with dcmrecv's names and log lines."""

    def __init__(self, options: ReceiverOptions, logger: Any = log) -> None:
        self.recv_opts = options
        self._planned = threading.local()       # +B: the name given when the request came
        base = ReceiveOptions(ae_title=options.ae_title, output_dir=options.output_dir,
                              profile=options.profile, max_pdu=options.max_pdu,
                              ignore=options.ignore, tls=options.tls,
                              **({"timeouts": options.timeouts} if options.timeouts else {}))
        super().__init__(base, logger, None)
        self.ae.hooks.clear()
        self.ae.hook("received-from", self._received)
        self.ae.hook("failed", lambda exc: logger.error("Receiving Association failed: %s", exc))
        self.ae.hook("accepted", self._accepted)
        self.ae.hook("released", lambda assoc: logger.info("Received Association Release Request"))
        self.ae.hook("aborted", self._aborted)
        self._refuse_empty(self.ae.policy)

    def _policy(self):
        policy = super()._policy()
        if self.opts.profile is None:
            policy.contexts.clear()
            policy.add(VERIFICATION, [N.IMPLICIT_LE])
        return policy

    def _refuse_empty(self, policy: Any) -> None:
        """An association with no acceptable presentation context is rejected, as DCMTK does."""
        from dcmpy.dcmnet import pdu as P
        negotiate = policy.negotiate

        def answer(rq: Any) -> Any:
            result = negotiate(rq)
            if isinstance(result, P.AssociateAC) and not any(pc.result == 0 for pc in result.contexts):
                self.log.info("No Acceptable Presentation Contexts")
                self.log.info("Refusing Association (no acceptable presentation contexts)")
                return P.AssociateRJ(1, 1, 1)
            return result
        policy.negotiate = answer

    # -- log lines -------------------------------------------------------------------------------
    def _received(self, rq: Any, address: str) -> None:
        host = address
        if self.recv_opts.host_lookup and address:
            try:
                host = socket.gethostbyaddr(address)[0]
            except (OSError, UnicodeError):
                pass
        self.log.info("Association Received %s: %s -> %s", host, rq.calling_ae, rq.called_ae)

    def _accepted(self, assoc: Any) -> None:
        self.log.info("Association Acknowledged (Max Send PDV: %d)", assoc.max_send_pdv)

    def _aborted(self, assoc: Any, exc: BaseException) -> None:
        from dcmpy.dcmnet.association import AssociationAborted
        if isinstance(exc, AssociationAborted):
            self.log.info("Received Association Abort Request")
        else:
            self.log.error("%s", exc)

    def _echo(self, req: Any) -> int:
        self.log.info("Received C-ECHO Request (MsgID %d)", req.message.MessageID)
        self.log.info("Sending C-ECHO Response (Success)")
        return 0

    def _sink(self, msg: Any, assoc: Any) -> Any:
        from dcmpy.dcmnet import storage as S
        self._planned.path = None
        if self.recv_opts.bit_preserving and not self.opts.ignore:
            # +B: the file is named when the request arrives (DCMTK warns about it then)
            name = file_name(self.recv_opts.naming, msg.AffectedSOPClassUID or "",
                             msg.AffectedSOPInstanceUID or "", self.recv_opts.extension,
                             self.opts.output_dir)
            try:
                self._planned.path = S.inside(self.opts.output_dir, name)
            except ValueError:
                pass
            else:
                if os.path.exists(self._planned.path):
                    self.log.warn("file already exists, overwriting: %s", self._planned.path)
        self.log.info("Received C-STORE Request (MsgID %d)", msg.MessageID)
        if self.opts.ignore:
            return S.NullSink()
        try:
            return S.FileSink(self.opts.output_dir, msg, assoc.contexts[msg.context_id].transfer_syntax,
                              assoc.rq.calling_ae)
        except OSError as exc:
            return S.FailedSink(exc)

    def _store(self, req: Any) -> Any:
        from dcmpy.dcmnet.status import dcmtk_text
        result = super()._store(req)
        status = result if isinstance(result, int) else result.status
        self.log.info("Sending C-STORE Response (%s)", dcmtk_text(status, "C-STORE"))
        return result

    # -- names -----------------------------------------------------------------------------------
    def _place(self, received: Any, head: Any) -> str:
        from dcmpy.dcmnet import storage as S
        path = self._planned.path
        if path is not None:
            received.move_to(path)
            self.log.info("Stored received object to file: %s", path)
            return path
        directory = self.opts.output_dir
        if self.recv_opts.series_date_subdir:
            directory = os.path.join(directory, *_date_folders(head))
            os.makedirs(directory, exist_ok=True)
        name = file_name(self.recv_opts.naming, received.sop_class, received.sop_instance,
                         self.recv_opts.extension, directory)
        path = S.inside(directory, name)
        if os.path.exists(path):
            self.log.warn("file already exists, overwriting: %s", path)
        if self.recv_opts.bit_preserving:
            received.move_to(path)
        else:        # DCMTK's normal mode: sequences and items with undefined length
            from dcmpy.dcmdata.reader import dcmread
            from dcmpy.dcmdata.writer import WriteOptions, dcmwrite
            try:
                dcmwrite(path, dcmread(received.temp_path), WriteOptions(explicit_lengths=False))
            finally:
                received.cleanup()
        self.log.info("Stored received object to file: %s", path)
        return path


def _date_folders(head: Any) -> list[str]:
    """+ssd: ``data/YYYY/MM/DD`` from a valid Series Date, else ``undef/YYYYMMDD`` (today)."""
    elem = head.get(0x00080021)
    value = str(elem.value).strip() if elem is not None and elem.value else ""
    if len(value) == 8 and value.isdigit():
        try:
            time.strptime(value, "%Y%m%d")
            return ["data", value[:4], value[4:6], value[6:]]
        except ValueError:
            pass
    return ["undef", time.strftime("%Y%m%d")]


def file_name(naming: str, sop_class: str, sop_instance: str, extension: str, directory: str) -> str:
    """dcmrecv's names: ``<MOD>.<UID>`` (+fd), ``<MOD>.X.<new UID>`` (+fu), ``<MOD>_<16 hex
    digits>`` never overwriting (+fsu), ``<YYYYMMDDHHMMSS>.<microseconds>.<MOD>`` (+fst)."""
    from dcmpy.dcmnet import storage as S
    prefix = S.modality_prefix(sop_class)
    if naming == "unique":
        from dcmpy.dcmdata.uid import generate_uid
        return S.safe_component(f"{prefix}.X.{generate_uid()}{extension}")
    if naming == "short":
        while True:
            name = S.safe_component(f"{prefix}_{secrets.token_hex(8)}{extension}")
            if not os.path.exists(os.path.join(directory, name)):
                return name
    if naming == "time":
        now = time.time()
        stamp = time.strftime("%Y%m%d%H%M%S", time.localtime(now)) + f".{int(now % 1 * 1e6):06d}"
        return S.safe_component(f"{stamp}.{prefix}{extension}")
    return S.safe_component(f"{prefix}.{sop_instance}{extension}")


# ---------------------------------------------------------------------------------------------
# the command line


def build_app() -> App:
    app = App(TOOL, "Simple DICOM storage SCP (receiver)", columns=(4, 21), libraries=T.libraries)
    app.param("port", "tcp/ip port number to listen on")
    app.option("+v", "--verbose-pc", "show presentation contexts in verbose mode", dest="verbose_pc")
    app.group("network options:")
    app.subgroup("association negotiation profile from configuration file:")
    app.option("-xf", "--config-file", "use profile p from configuration file f",
               value="[f]ilename, [p]rofile: string", nargs=2, dest="config_file")
    app.subgroup("application entity title:")
    app.option("-aet", "--aetitle", "set my AE title (default: DCMRECV)", value="[a]etitle: string",
               dest="aetitle", default="DCMRECV")
    app.option("-uca", "--use-called-aetitle", "always respond with called AE title", dest="")
    app.subgroup("other network options:")
    app.option("-ta", "--acse-timeout", "timeout for ACSE messages",
               value="[s]econds: integer (default: 30)", type=Int(1), dest="acse_timeout", default=30)
    app.option("-td", "--dimse-timeout", "timeout for DIMSE messages",
               value="[s]econds: integer (default: unlimited)", type=Int(1), dest="dimse_timeout")
    N.add_max_pdu(app)
    app.option("-dhl", "--disable-host-lookup", "disable hostname lookup", dest="no_lookup")
    T.add_options(app, scp=True)
    app.group("output options:")
    app.subgroup("general:")
    app.option("-od", "--output-directory", "write received objects to existing directory d",
               value='[d]irectory: string (default: ".")', dest="output_directory", default=".")
    app.subgroup("subdirectory generation:")
    app.option("-s", "--no-subdir", "do not generate any subdirectories (default)", dest="subdir",
               const=False)
    app.option("+ssd", "--series-date-subdir", "generate subdirectories from series date",
               dest="subdir")
    app.subgroup("filename generation:")
    app.option("+fd", "--default-filenames", "generate filename from instance UID (default)",
               dest="naming", const="default", default="default")
    app.option("+fu", "--unique-filenames", "generate unique filename based on new UID",
               dest="naming", const="unique")
    app.option("+fsu", "--short-unique-names", "generate short pseudo-random unique filename",
               dest="naming", const="short")
    app.option("+fst", "--system-time-names", "generate filename from current system time",
               dest="naming", const="time")
    app.option("-fe", "--filename-extension", "append e to all generated filenames",
               value="[e]xtension: string (default: none)", dest="extension", default="")
    app.subgroup("storage mode:")
    app.option("-B", "--normal", "allow implicit format conversions (default)", dest="bit_preserving",
               const=False)
    app.option("+B", "--bit-preserving", "write dataset exactly as received", dest="bit_preserving")
    app.option("", "--ignore", "ignore dataset, receive but do not store it", dest="ignore")
    return app


def _profile(path: str, name: str) -> Any:
    """The -xf profile, or an exit code after DCMTK's lines."""
    from dcmpy.dcmnet.assocprofile import AssociationProfiles, ProfileError
    try:
        if not os.access(path, os.R_OK) or os.path.isdir(path):
            raise ProfileError(path, None, f"unable to open configuration file: {path}")
        profiles = AssociationProfiles.load(path)
    except ProfileError as exc:
        log.error("Unable to parse association configuration file: %s", exc)
        log.fatal("cannot load association configuration: %s", exc.reason)
        return EXITCODE_INVALID_ASSOCIATION_CONFIG
    try:
        profile = profiles.profile(name)
        profile.check_scp()
    except ProfileError as exc:
        log.error('No association profile named "%s" in association configuration, did you '
                  "forget to add presentation contexts?", name)
        log.debug("%s", exc)
        log.fatal("cannot load association configuration: Invalid or non-existing SCP "
                  "Association Profile")
        return EXITCODE_INVALID_ASSOCIATION_CONFIG
    return profile


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    tls = T.parse(app, opts, scp=True)
    port = N.parse_port(app, opts.port)
    app.check_conflict("--bit-preserving", "--series-date-subdir",
                       bool(opts.bit_preserving and opts.subdir))
    aet = N.check_ae_title(app, "--aetitle", opts.aetitle)
    log.info("configuring service class provider ...")
    profile = None
    if opts.config_file is not None:
        profile = _profile(*opts.config_file)
        if isinstance(profile, int):
            return profile
    else:
        log.warn("no configuration file specified, SCP will only support the Verification SOP Class")
    if not os.path.isdir(opts.output_directory):
        log.fatal("cannot specify output directory: Directory does not exist")
        return EXITCODE_INVALID_OUTPUT_DIRECTORY
    if not os.access(opts.output_directory, os.W_OK):
        log.fatal("cannot specify output directory: Directory is not writable")
        return EXITCODE_INVALID_OUTPUT_DIRECTORY
    context = T.context(tls, EXITCODE_CANNOT_CREATE_TRANSPORT_LAYER)
    if isinstance(context, int):
        return context
    options = ReceiverOptions(ae_title=aet, output_dir=opts.output_directory, profile=profile,
                              naming=opts.naming, extension=opts.extension,
                              series_date_subdir=bool(opts.subdir), ignore=bool(opts.ignore),
                              bit_preserving=bool(opts.bit_preserving),
                              max_pdu=opts.max_pdu, timeouts=N.timeouts_from(opts),
                              host_lookup=not opts.no_lookup, tls=context)
    receiver = Receiver(options)
    log.info("starting service class provider and listening ...")
    try:
        receiver.ae.bind(port)
    except OSError as exc:
        log.fatal("cannot start SCP and listen on port %d: TCP Initialization Error: %s", port,
                  os.strerror(exc.errno) if exc.errno else exc)
        return EXITCODE_CANNOT_START_SCP_AND_LISTEN
    receiver.serve(port)
    return 0


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()

"""DCMTK's ``dcmqrscp.cfg``: global parameters, HostTable, VendorTable and AETable.

Read as DCMTK's ``DcmQueryRetrieveConfig`` reads it: one entry per line, the first word is the
(case-sensitive) keyword, ``#`` in column 1 starts a comment, words are separated by blanks,
``=`` and ``,``, and a word may be quoted with ``"``, ``'``, ``(`` or ``)`` (any of them closes).
Example::

    NetworkTCPPort  = 104
    HostTable BEGIN
    acme1 = (ACME1, acmehost1, 5678)
    acme  = acme1
    HostTable END
    AETable BEGIN
    ACME_STORE  /var/lib/dcmtk/db/ACME_STORE  RW  (9, 1024mb)  acme
    AETable END

Where DCMTK silently accepts a line it cannot use (an access mode other than R/RW/W, a quota
size without its ``b``/``kb``/``mb``/``gb`` unit, a port that is not a number, an AE title
longer than 16 characters, a second entry for the same AE title, an unterminated quote, which
crashes DCMTK 3.6.7) we raise :class:`ConfigError` naming the file, the line and the reason.

dcmpy extensions (DCMTK rejects them as unknown keywords): ``IndexDatabase`` (a PostgreSQL URL
for an index shared by several archive processes) and ``QuotaPolicy`` (``delete``, DCMTK's
behaviour and the default, or ``reject``: refuse the new object with status A700).
"""
from __future__ import annotations

import socket
from dataclasses import dataclass, field

__all__ = ["ConfigError", "Peer", "Quota", "AEEntry", "ArchiveConfig", "CharsetOptions",
           "EXITCODE_CONFIG_ERROR"]

EXITCODE_CONFIG_ERROR = 10          # what dcmqrscp returns for a bad configuration file
_QUOTES = "\"'()"
_GAPS = " \t\r\n=,"
_IGNORED = frozenset({"ApplicationTitle", "ApplicationContext", "ImplementationClass",
                      "ImplementationVersion", "NetworkType", "Display", "DisplayPort"})
_UNITS = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}
_CHARSET_FLAGS = frozenset({"fallback", "override", "transliterate", "discard"})


class ConfigError(ValueError):
    """A configuration file that cannot be used: ``file, line n: reason``."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Peer:
    """A remote application entity: AE title, host name (or address) and port."""
    aetitle: str
    hostname: str
    port: int


@dataclass(frozen=True, slots=True)
class Quota:
    max_studies: int
    max_bytes_per_study: int


@dataclass(frozen=True, slots=True)
class AEEntry:
    """One AETable row: a local AE title served from its storage area."""
    aetitle: str
    storage_area: str
    access: str                       # 'R', 'RW' or 'W'
    quota: Quota
    peers: tuple[Peer, ...] | None    # None: ANY peer
    line: int = 0

    @property
    def readable(self) -> bool:
        return "R" in self.access

    @property
    def writable(self) -> bool:
        return "W" in self.access


@dataclass(frozen=True, slots=True)
class CharsetOptions:
    """``SpecificCharacterSet = "ISO_IR 192", override, ...`` (DCMTK 3.6.3+)."""
    charset: str | None = None        # the fallback/override character set (None: as stored)
    override: bool = False            # convert even when the request names a character set
    transliterate: bool = False
    discard: bool = False


@dataclass(slots=True)
class ArchiveConfig:
    """Everything in a ``dcmqrscp.cfg``; defaults are DCMTK's."""
    file: str = ""
    network_tcp_port: int = 104
    max_pdu_size: int = 16384
    max_associations: int = 16
    user_name: str = ""
    group_name: str = ""
    charset: CharsetOptions = field(default_factory=CharsetOptions)
    hosts: dict[str, tuple[Peer, ...]] = field(default_factory=dict)
    vendors: dict[str, tuple[Peer, ...]] = field(default_factory=dict)
    aes: dict[str, AEEntry] = field(default_factory=dict)
    index_database: str | None = None     # dcmpy: PostgreSQL URL shared by archive processes
    quota_policy: str = "delete"          # dcmpy: 'delete' (DCMTK) or 'reject'

    @classmethod
    def load(cls, path: str) -> ArchiveConfig:
        """Read a configuration file; ConfigError if it cannot be read or used."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            raise ConfigError(path, None, f"unable to open configuration file: "
                                          f"{exc.strerror or exc}") from None
        return cls.parse(data.decode("latin-1"), path)

    @classmethod
    def parse(cls, text: str, file: str = "<string>") -> ArchiveConfig:
        cfg = cls(file=file)
        _Parser(cfg, text.splitlines()).run()
        return cfg

    # -- the questions an SCP asks -----------------------------------------------------------
    def ae(self, aetitle: str) -> AEEntry | None:
        """The AETable entry of a local (called) AE title, compared as DCMTK does (exactly)."""
        return self.aes.get(aetitle.strip())

    def peer_allowed(self, called: str, calling: str, host: str) -> bool:
        """May ``calling`` on ``host`` talk to ``called``? (DCMTK's peerInAETitle.)

        The AE titles must be equal; the host name is compared without regard to case, and
        (unlike DCMTK, which needs names) a configured name also matches the address it resolves to.
        """
        entry = self.ae(called)
        if entry is None:
            return False
        if entry.peers is None:
            return True
        return any(p.aetitle == calling.strip() and _same_host(p.hostname, host)
                   for p in entry.peers)

    def move_destination(self, aetitle: str) -> Peer | None:
        """Where C-MOVE sends to ``aetitle``: the HostTable first, then the AETable peers."""
        aetitle = aetitle.strip()
        for group in (*self.hosts.values(), *(e.peers or () for e in self.aes.values())):
            for peer in group:
                if peer.aetitle == aetitle:
                    return peer
        return None

    def vendor_for(self, aetitle: str) -> str | None:
        """The VendorTable name whose peers include ``aetitle`` (for -ZV)."""
        for vendor, peers in self.vendors.items():
            if any(p.aetitle == aetitle.strip() for p in peers):
                return vendor
        return None


def _same_host(configured: str, actual: str) -> bool:
    if configured.lower() == actual.lower():
        return True
    try:
        infos = socket.getaddrinfo(configured, None)
    except (OSError, UnicodeError):
        return False
    return any(info[4][0] == actual for info in infos)


def tokenize(text: str, file: str, line: int) -> list[tuple[str, bool]]:
    """Words of a value list as (text, quoted); gaps are blanks, '=' and ','."""
    words = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _GAPS:
            i += 1
        elif ch in _QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in _QUOTES), -1)
            if end < 0:
                raise ConfigError(file, line, f"unterminated quote {ch!r} in {text.strip()!r}")
            words.append((text[i + 1:end], True))
            i = end + 1
        else:
            j = i
            while j < n and text[j] not in _GAPS and text[j] not in _QUOTES:
                j += 1
            words.append((text[i:j], False))
            i = j
    return words


class _Parser:
    """One pass over the lines; tables read their lines up to their END."""

    def __init__(self, cfg: ArchiveConfig, lines: list[str]) -> None:
        self.cfg, self.lines, self.pos = cfg, lines, 0

    def error(self, reason: str, line: int | None = None) -> ConfigError:
        return ConfigError(self.cfg.file, self.pos if line is None else line, reason)

    def next_line(self) -> str | None:
        """The next meaningful line, stripped, or None at the end."""
        while self.pos < len(self.lines):
            line = self.lines[self.pos].strip()
            self.pos += 1
            if line and not line.startswith("#"):
                return line
        return None

    def run(self) -> None:
        while (line := self.next_line()) is not None:
            keyword, _, rest = line.replace("\t", " ").partition(" ")
            words = tokenize(rest, self.cfg.file, self.pos)
            if keyword in _IGNORED:
                continue
            handler = _GLOBALS.get(keyword)
            if handler is not None:
                handler(self, words)
            elif keyword in _TABLES:
                self.table(keyword, words)
            else:
                raise self.error(f'unknown mnemonic "{keyword}"')

    # -- global parameters ---------------------------------------------------------------------
    def value(self, words: list[tuple[str, bool]], keyword: str) -> str:
        if not words:
            raise self.error(f"{keyword} without a value")
        if len(words) > 1:
            raise self.error(f"{keyword} takes one value, found {len(words)}")
        return words[0][0]

    def integer(self, words, keyword: str, lo: int, hi: int) -> int:
        text = self.value(words, keyword)
        if not text.isdigit() or not lo <= int(text) <= hi:
            raise self.error(f"{keyword} must be an integer in {lo}..{hi}, not {text!r}")
        return int(text)

    def port(self, words) -> None:
        self.cfg.network_tcp_port = self.integer(words, "NetworkTCPPort", 1, 65535)

    def max_pdu(self, words) -> None:
        self.cfg.max_pdu_size = self.integer(words, "MaxPDUSize", 4096, 131072)

    def max_assoc(self, words) -> None:
        self.cfg.max_associations = self.integer(words, "MaxAssociations", 1, 100000)

    def user(self, words) -> None:
        self.cfg.user_name = self.value(words, "UserName")

    def group(self, words) -> None:
        self.cfg.group_name = self.value(words, "GroupName")

    def index_database(self, words) -> None:
        url = self.value(words, "IndexDatabase")
        if not url.startswith(("postgresql://", "postgres://")):
            raise self.error(f"IndexDatabase must be a postgresql:// URL, not {url!r}")
        self.cfg.index_database = url

    def quota_policy(self, words) -> None:
        policy = self.value(words, "QuotaPolicy").lower()
        if policy not in ("delete", "reject"):
            raise self.error(f"QuotaPolicy must be 'delete' or 'reject', not {policy!r}")
        self.cfg.quota_policy = policy

    def charset(self, words) -> None:
        from dcmpy.dcmdata.charset import python_codec
        flags, terms = set(), []
        for text, _ in words:
            if text.lower() in _CHARSET_FLAGS:
                flags.add(text.lower())
            elif text in ("", "ISO_IR 6") or python_codec(text) is not None:
                terms.append(text)
            else:
                raise self.error(f"unknown character set {text!r} in SpecificCharacterSet")
        if len(terms) > 1:
            raise self.error("SpecificCharacterSet names more than one character set")
        self.cfg.charset = CharsetOptions(terms[0] if terms else None, "override" in flags,
                                          "transliterate" in flags, "discard" in flags)

    # -- tables --------------------------------------------------------------------------------
    def table(self, name: str, words) -> None:
        status = words[0][0] if words else ""
        if status == "END":
            raise self.error(f'no "{name} BEGIN" before END')
        if status != "BEGIN":
            raise self.error(f'unknown {name} status "{status}"')
        begin = self.pos
        while (line := self.next_line()) is not None:
            words = tokenize(line, self.cfg.file, self.pos)
            if words[0] == (name, False):
                status = words[1][0] if len(words) > 1 else ""
                if status == "END":
                    return
                raise self.error(f'illegal {name} status "{status}"')
            _TABLES[name](self, words[0][0], words[1:])
        raise self.error(f'no "{name} END" for this {name} BEGIN', begin)

    def peer_list(self, words, what: str) -> tuple[Peer, ...]:
        peers: list[Peer] = []
        for text, quoted in words:
            if quoted and "," in text:
                peers.append(self.peer(text))
            elif text in self.cfg.hosts:
                peers.extend(self.cfg.hosts[text])
            elif not self.cfg.hosts:
                raise self.error(f'no symbolic names defined (HostTable), cannot resolve "{text}"')
            else:
                raise self.error(f'symbolic name "{text}" not defined')
        if not peers:
            raise self.error(f"{what} without peers")
        return tuple(peers)

    def peer(self, text: str) -> Peer:
        parts = [w for w, _ in tokenize(text, self.cfg.file, self.pos)]
        if len(parts) != 3:
            raise self.error(f"peer ({text}) must be (AETitle, HostName, PortNumber)")
        ae, host, port = parts
        self.check_aetitle(ae)
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            raise self.error(f"port of peer ({text}) must be an integer in 1..65535, not {port!r}")
        return Peer(ae, host, int(port))

    def check_aetitle(self, ae: str) -> None:
        if not 0 < len(ae) <= 16 or "\\" in ae or not ae.isprintable():
            raise self.error(f"invalid AE title {ae!r} (1 to 16 printable characters, no '\\')")

    def host_entry(self, symbol: str, words) -> None:
        if symbol in self.cfg.hosts:
            raise self.error(f'symbolic name "{symbol}" defined twice')
        self.cfg.hosts[symbol] = self.peer_list(words, f'symbolic name "{symbol}"')

    def vendor_entry(self, vendor: str, words) -> None:
        self.cfg.vendors[vendor] = self.peer_list(words, f'vendor "{vendor}"')

    def ae_entry(self, aetitle: str, words) -> None:
        self.check_aetitle(aetitle)
        if aetitle in self.cfg.aes:
            raise self.error(f'AE title "{aetitle}" defined twice (first on line '
                             f'{self.cfg.aes[aetitle].line})')
        if len(words) < 4:
            raise self.error(f'AETable entry for "{aetitle}" needs StorageArea Access '
                             '(maxStudies, maxBytesPerStudy) Peers')
        area, access = words[0][0], words[1][0]
        if access not in ("R", "RW", "W"):
            raise self.error(f'access of "{aetitle}" must be R, RW or W, not {access!r}')
        quota = self.quota(words[2])
        peers = None if words[3][0] == "ANY" else self.peer_list(words[3:], f'AE title "{aetitle}"')
        self.cfg.aes[aetitle] = AEEntry(aetitle, area, access, quota, peers, self.pos)

    def quota(self, word: tuple[str, bool]) -> Quota:
        text, quoted = word
        parts = [w for w, _ in tokenize(text, self.cfg.file, self.pos)]
        if not quoted or len(parts) != 2:
            raise self.error(f"quota must be (maxStudies, maxBytesPerStudy), not {text!r}")
        studies, size = parts
        if not studies.isdigit() or int(studies) < 1:
            raise self.error(f"maxStudies must be a positive integer, not {studies!r}")
        low = size.lower()
        unit = next((u for u in ("kb", "mb", "gb", "b") if low.endswith(u)), None)
        number = low[:-len(unit)] if unit else ""
        if unit is None or not number.isdigit() or int(number) < 1:
            raise self.error(f"maxBytesPerStudy must be a positive number with unit b, kb, mb or "
                             f"gb, not {size!r}")
        return Quota(int(studies), int(number) * _UNITS[unit])


_GLOBALS = {
    "NetworkTCPPort": _Parser.port, "MaxPDUSize": _Parser.max_pdu,
    "MaxAssociations": _Parser.max_assoc, "UserName": _Parser.user, "GroupName": _Parser.group,
    "SpecificCharacterSet": _Parser.charset, "IndexDatabase": _Parser.index_database,
    "QuotaPolicy": _Parser.quota_policy,
}
_TABLES = {"HostTable": _Parser.host_entry, "VendorTable": _Parser.vendor_entry,
           "AETable": _Parser.ae_entry}

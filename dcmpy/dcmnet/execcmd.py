"""Commands run on events (storescp ``-xcr``/``-xcs``) without any shell injection.

DCMTK pastes the placeholder values into a string for ``system()``; a UID, AE title or patient
name with shell syntax in it then runs as a command (CVE-2026-5663). Here the template is split
into words once, at start-up, with shell quoting rules (``shlex``); placeholders are replaced
inside the words and the words are executed directly, never by a shell. Received values are
also reduced to ``A-Za-z0-9 -.:@_`` (what DCMTK's fix keeps), so that even a template that calls
``sh -c '... #f ...'`` itself cannot be made to run anything else. ``#p`` (the output path,
the operator's own) is passed as it is.
"""
from __future__ import annotations

import re
import shlex
import subprocess
from typing import Any

_PLACEHOLDER = re.compile(r"#[pfacr]")
_UNSAFE = re.compile(r"[^A-Za-z0-9 \-.:@_]")


def parse_template(template: str) -> list[str]:
    """The template's words; ValueError (naming the problem) if its quoting is unbalanced."""
    try:
        words = shlex.split(template)
    except ValueError as exc:
        raise ValueError(f"cannot parse command '{template}': {exc}") from None
    if not words:
        raise ValueError("empty command")
    return words


def sanitize(value: str) -> str:
    """A received value reduced to ``A-Za-z0-9 -.:@_`` (anything else becomes ``_``)."""
    return _UNSAFE.sub("_", value)


def substitute(words: list[str], values: dict[str, str]) -> list[str]:
    """Replace ``#p #f #a #c #r`` in each word (values for keys 'p', 'f', 'a', 'c', 'r');
    every value except 'p' is sanitized first. Placeholders without a value stay as they are."""
    clean = {k: v if k == "p" else sanitize(v) for k, v in values.items()}

    def repl(m: re.Match) -> str:
        key = m.group(0)[1]
        return clean.get(key, m.group(0))
    return [_PLACEHOLDER.sub(repl, w) for w in words]


class Runner:
    """Starts commands in the background (or waits for them with ``sync``) and reaps them."""

    def __init__(self, log: Any, sync: bool = False) -> None:
        self.log = log
        self.sync = sync
        self._running: list[subprocess.Popen] = []

    def run(self, argv: list[str]) -> None:
        self.reap()
        self.log.debug("executing command: %s", " ".join(shlex.quote(a) for a in argv))
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
        except OSError as exc:
            self.log.error("cannot execute command '%s': %s", argv[0], exc.strerror or exc)
            return
        if self.sync:
            proc.wait()
        else:
            self._running.append(proc)

    def reap(self) -> None:
        self._running = [p for p in self._running if p.poll() is None]

    def wait(self, timeout: float | None = None) -> None:
        for proc in self._running:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self.reap()

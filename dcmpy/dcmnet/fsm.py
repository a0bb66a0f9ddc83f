"""The DICOM upper-layer state machine (PS3.8 section 9.2), written as the standard's tables.

``TRANSITIONS`` is Table 9-10 (event x state -> action); ``ACTIONS`` is Tables 9-6 to 9-9
(what each action does and the state it leads to). :class:`StateMachine` looks an event up and
calls the action's method on its owner (``AE_1`` ... ``AA_8``); an action whose next state
depends on a condition (AE-6, AR-8) returns that state. The ARTIM timer is a deadline that the
owner's reads honour in Sta2 and Sta13.
"""
from __future__ import annotations

import time
from typing import Any

STATES = {
    "Sta1": "Idle",
    "Sta2": "Transport connection open (Awaiting A-ASSOCIATE-RQ PDU)",
    "Sta3": "Awaiting local A-ASSOCIATE response primitive",
    "Sta4": "Awaiting transport connection opening to complete",
    "Sta5": "Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU",
    "Sta6": "Association established and ready for data transfer",
    "Sta7": "Awaiting A-RELEASE-RP PDU",
    "Sta8": "Awaiting local A-RELEASE response primitive",
    "Sta9": "Release collision requestor side; awaiting A-RELEASE response",
    "Sta10": "Release collision acceptor side; awaiting A-RELEASE-RP PDU",
    "Sta11": "Release collision requestor side; awaiting A-RELEASE-RP PDU",
    "Sta12": "Release collision acceptor side; awaiting A-RELEASE response primitive",
    "Sta13": "Awaiting Transport Connection Close Indication",
}

EVENTS = {
    "Evt1": "A-ASSOCIATE Request (local user)",
    "Evt2": "Transport Connect Confirm (local transport service)",
    "Evt3": "A-ASSOCIATE-AC PDU (received on transport connection)",
    "Evt4": "A-ASSOCIATE-RJ PDU (received on transport connection)",
    "Evt5": "Transport Connection Indication (local transport service)",
    "Evt6": "A-ASSOCIATE-RQ PDU (received on transport connection)",
    "Evt7": "A-ASSOCIATE response primitive (accept)",
    "Evt8": "A-ASSOCIATE response primitive (reject)",
    "Evt9": "P-DATA request primitive",
    "Evt10": "P-DATA-TF PDU",
    "Evt11": "A-RELEASE Request primitive",
    "Evt12": "A-RELEASE-RQ PDU (received on open transport connection)",
    "Evt13": "A-RELEASE-RP PDU (received on transport connection)",
    "Evt14": "A-RELEASE response primitive",
    "Evt15": "A-ABORT Request primitive",
    "Evt16": "A-ABORT PDU (received on open transport connection)",
    "Evt17": "Transport connection closed indication (local transport service)",
    "Evt18": "ARTIM timer expired (Association reject/release timer)",
    "Evt19": "Unrecognized or invalid PDU received",
}

# action -> (next state or None when the action decides, description)
ACTIONS = {
    "AE-1": ("Sta4", "Issue TRANSPORT CONNECT request primitive to local transport service"),
    "AE-2": ("Sta5", "Send A-ASSOCIATE-RQ-PDU"),
    "AE-3": ("Sta6", "Issue A-ASSOCIATE confirmation (accept) primitive"),
    "AE-4": ("Sta1", "Issue A-ASSOCIATE confirmation (reject) primitive and close transport "
                     "connection"),
    "AE-5": ("Sta2", "Issue Transport connection response primitive; start ARTIM timer"),
    "AE-6": (None, "Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue "
                   "A-ASSOCIATE indication primitive (Sta3), otherwise issue A-ASSOCIATE-RJ-PDU "
                   "and start ARTIM timer (Sta13)"),
    "AE-7": ("Sta6", "Send A-ASSOCIATE-AC PDU"),
    "AE-8": ("Sta13", "Send A-ASSOCIATE-RJ PDU and start ARTIM timer"),
    "DT-1": ("Sta6", "Send P-DATA-TF PDU"),
    "DT-2": ("Sta6", "Send P-DATA indication primitive"),
    "AR-1": ("Sta7", "Send A-RELEASE-RQ PDU"),
    "AR-2": ("Sta8", "Issue A-RELEASE indication primitive"),
    "AR-3": ("Sta1", "Issue A-RELEASE confirmation primitive, and close transport connection"),
    "AR-4": ("Sta13", "Issue A-RELEASE-RP PDU and start ARTIM timer"),
    "AR-5": ("Sta1", "Stop ARTIM timer"),
    "AR-6": ("Sta7", "Issue P-DATA indication"),
    "AR-7": ("Sta8", "Issue P-DATA-TF PDU"),
    "AR-8": (None, "Issue A-RELEASE indication (release collision): requestor Sta9, "
                   "acceptor Sta10"),
    "AR-9": ("Sta11", "Send A-RELEASE-RP PDU"),
    "AR-10": ("Sta12", "Issue A-RELEASE confirmation primitive"),
    "AA-1": ("Sta13", "Send A-ABORT PDU (service-user source) and start (or restart) ARTIM timer"),
    "AA-2": ("Sta1", "Stop ARTIM timer if running. Close transport connection"),
    "AA-3": ("Sta1", "Issue A-ABORT (service-user) or A-P-ABORT (service-provider) indication "
                     "and close transport connection"),
    "AA-4": ("Sta1", "Issue A-P-ABORT indication primitive"),
    "AA-5": ("Sta1", "Stop ARTIM timer"),
    "AA-6": ("Sta13", "Ignore PDU"),
    "AA-7": ("Sta13", "Send A-ABORT PDU"),
    "AA-8": ("Sta13", "Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, "
                      "and start ARTIM timer"),
}


def _row(**cells: str) -> dict[str, str]:
    """One event's row: Sta<n>=action; ``rest`` fills Sta6..Sta12 where the table repeats."""
    rest = cells.pop("rest", None)
    row = {f"Sta{k[3:]}": v for k, v in cells.items()}
    if rest:
        for n in range(6, 13):
            row.setdefault(f"Sta{n}", rest)
    return row


# Table 9-10: DICOM Upper Layer Protocol State Transition Table
TRANSITIONS: dict[str, dict[str, str]] = {
    "Evt1": _row(Sta1="AE-1"),
    "Evt2": _row(Sta4="AE-2"),
    "Evt3": _row(Sta2="AA-1", Sta3="AA-8", Sta5="AE-3", Sta13="AA-6", rest="AA-8"),
    "Evt4": _row(Sta2="AA-1", Sta3="AA-8", Sta5="AE-4", Sta13="AA-6", rest="AA-8"),
    "Evt5": _row(Sta1="AE-5"),
    "Evt6": _row(Sta2="AE-6", Sta3="AA-8", Sta5="AA-8", Sta13="AA-7", rest="AA-8"),
    "Evt7": _row(Sta3="AE-7"),
    "Evt8": _row(Sta3="AE-8"),
    "Evt9": _row(Sta6="DT-1", Sta8="AR-7"),
    "Evt10": _row(Sta2="AA-1", Sta3="AA-8", Sta5="AA-8", Sta6="DT-2", Sta7="AR-6", Sta13="AA-6",
                  rest="AA-8"),
    "Evt11": _row(Sta6="AR-1"),
    "Evt12": _row(Sta2="AA-1", Sta3="AA-8", Sta5="AA-8", Sta6="AR-2", Sta7="AR-8", Sta13="AA-6",
                  rest="AA-8"),
    "Evt13": _row(Sta2="AA-1", Sta3="AA-8", Sta5="AA-8", Sta7="AR-3", Sta10="AR-10",
                  Sta11="AR-3", Sta13="AA-6", rest="AA-8"),
    "Evt14": _row(Sta8="AR-4", Sta9="AR-9", Sta12="AR-4"),
    "Evt15": _row(Sta3="AA-1", Sta4="AA-2", Sta5="AA-1", rest="AA-1"),
    "Evt16": _row(Sta2="AA-2", Sta3="AA-3", Sta5="AA-3", Sta13="AA-2", rest="AA-3"),
    "Evt17": _row(Sta2="AA-5", Sta3="AA-4", Sta4="AA-4", Sta5="AA-4", Sta13="AR-5", rest="AA-4"),
    "Evt18": _row(Sta2="AA-2", Sta13="AA-2"),
    "Evt19": _row(Sta2="AA-1", Sta3="AA-8", Sta5="AA-8", Sta13="AA-7", rest="AA-8"),
}

# the event a received PDU raises, by PDU type
PDU_EVENTS = {1: "Evt6", 2: "Evt3", 3: "Evt4", 4: "Evt10", 5: "Evt12", 6: "Evt13", 7: "Evt16"}


class StateError(Exception):
    """A local primitive that the current state does not allow (a programming error)."""


class StateMachine:
    """Current state, the ARTIM deadline, and dispatch of events to the owner's actions."""

    __slots__ = ("owner", "state", "artim_timeout", "artim_deadline", "trace")

    def __init__(self, owner: Any, artim_timeout: float = 30.0) -> None:
        self.owner = owner
        self.state = "Sta1"
        self.artim_timeout = artim_timeout
        self.artim_deadline: float | None = None
        self.trace: list[tuple[str, str, str]] | None = None

    def event(self, event: str, *args: Any) -> Any:
        """Run the action for ``event`` in the current state; returns what the action returns."""
        action = TRANSITIONS[event].get(self.state)
        if action is None:
            raise StateError(f"{EVENTS[event]} ({event}) is not valid in state {self.state} "
                             f"({STATES[self.state]})")
        if self.trace is not None:
            self.trace.append((self.state, event, action))
        fixed, _ = ACTIONS[action]
        result = getattr(self.owner, action.replace("-", "_"))(*args)
        self.state = fixed if fixed is not None else result
        return result

    def allows(self, event: str) -> bool:
        return self.state in TRANSITIONS[event]

    # -- ARTIM ---------------------------------------------------------------------------------
    def start_artim(self) -> None:
        self.artim_deadline = time.monotonic() + self.artim_timeout

    def stop_artim(self) -> None:
        self.artim_deadline = None

    def artim_remaining(self) -> float | None:
        """Seconds until ARTIM expires (0 when expired), None when it is not running."""
        if self.artim_deadline is None:
            return None
        return max(0.0, self.artim_deadline - time.monotonic())

"""dcmnet: DICOM networking (PS3.7, PS3.8): PDUs, the upper-layer state machine, associations,
DIMSE messages, and the SCU and SCP frameworks behind echoscu, storescu, storescp and termscu.

    from dcmpy.dcmnet import associate, VERIFICATION, IMPLICIT_LE
    with associate("localhost", 11112, [(VERIFICATION, [IMPLICIT_LE])]) as assoc:
        print(hex(assoc.send_c_echo().Status))
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "Association": "association", "Timeouts": "association", "AssociationError": "association",
    "AssociationRejected": "association", "AssociationAborted": "association",
    "ConnectionLost": "association", "NetworkTimeout": "association",
    "ProtocolError": "association", "Released": "association",
    "Message": "dimse", "DimseError": "dimse",
    "AcceptorPolicy": "negotiation", "VERIFICATION": "negotiation", "IMPLICIT_LE": "negotiation",
    "EXPLICIT_LE": "negotiation", "EXPLICIT_BE": "negotiation", "UNCOMPRESSED": "negotiation",
    "associate": "scu", "build_request": "scu", "open_for_store": "scu", "StoreObject": "scu",
    "AE": "scp", "Request": "scp", "Response": "scp",
    "StoreSCU": "sender", "SendOptions": "sender", "StoreSCP": "receiver",
    "ReceiveOptions": "receiver",
    "FindSCU": "qrscu", "MoveSCU": "qrscu", "GetSCU": "qrscu", "FindOptions": "qrscu",
    "MoveOptions": "qrscu", "GetOptions": "qrscu", "build_query": "qrscu", "c_find": "qrscu",
    "c_move": "qrscu", "c_get": "qrscu", "StoreOptions": "qrstore",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dcmpy.dcmnet' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

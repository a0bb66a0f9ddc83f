"""Query/Retrieve information models, levels and which level each attribute belongs to (PS3.4 C.6).

Levels are indexes: ``PATIENT`` 0, ``STUDY`` 1, ``SERIES`` 2, ``IMAGE`` 3. An attribute belongs
to the level of the module that holds it (patient, study, series) and everything else to the
instance level. DCMTK's dcmqrscp matches and returns only the keys in ``DCMTK_KEYS``; we keep
and answer every attribute of every level (except group 0002, private tags and bulk binary
values), plus the computed ``NumberOf...Related...``, ``ModalitiesInStudy`` and
``SOPClassesInStudy`` keys.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PATIENT", "STUDY", "SERIES", "IMAGE", "LEVEL_NAMES", "Model", "MODELS", "model_for",
           "level_of", "level_named", "UNIQUE_KEYS", "COMPUTED", "DCMTK_KEYS", "QueryError"]

PATIENT, STUDY, SERIES, IMAGE = range(4)
LEVEL_NAMES = ("PATIENT", "STUDY", "SERIES", "IMAGE")
QUERY_RETRIEVE_LEVEL = 0x00080052
SPECIFIC_CHARACTER_SET = 0x00080005
RETRIEVE_AE_TITLE = 0x00080054
INSTANCE_AVAILABILITY = 0x00080056

UNIQUE_KEYS = (0x00100020, 0x0020000D, 0x0020000E, 0x00080018)


class QueryError(ValueError):
    """An identifier the archive cannot answer; ``status`` is the DIMSE status to send."""

    def __init__(self, message: str, status: int = 0xA900) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Model:
    """A Query/Retrieve information model: its SOP classes and its top and bottom levels."""
    name: str
    find: str
    move: str
    get: str
    top: int
    bottom: int

    def check_level(self, level: int) -> None:
        if not self.top <= level <= self.bottom:
            raise QueryError(f"Query/Retrieve Level {LEVEL_NAMES[level]} is not part of the "
                             f"{self.name} information model")


MODELS = {
    "patient": Model("Patient Root", "1.2.840.10008.5.1.4.1.2.1.1", "1.2.840.10008.5.1.4.1.2.1.2",
                     "1.2.840.10008.5.1.4.1.2.1.3", PATIENT, IMAGE),
    "study": Model("Study Root", "1.2.840.10008.5.1.4.1.2.2.1", "1.2.840.10008.5.1.4.1.2.2.2",
                   "1.2.840.10008.5.1.4.1.2.2.3", STUDY, IMAGE),
    "psonly": Model("Patient/Study Only", "1.2.840.10008.5.1.4.1.2.3.1",
                    "1.2.840.10008.5.1.4.1.2.3.2", "1.2.840.10008.5.1.4.1.2.3.3", PATIENT, STUDY),
}


def model_for(name_or_uid: str | Model) -> Model:
    """A model by key ('patient', 'study', 'psonly') or by any of its FIND/MOVE/GET SOP class UIDs."""
    if isinstance(name_or_uid, Model):
        return name_or_uid
    model = MODELS.get(name_or_uid)
    if model is None:
        model = next((m for m in MODELS.values() if name_or_uid in (m.find, m.move, m.get)), None)
    if model is None:
        raise QueryError(f"unknown Query/Retrieve information model {name_or_uid!r}", 0xA900)
    return model


def level_named(text: object) -> int:
    """The level of a Query/Retrieve Level value ('STUDY' -> 1)."""
    name = str(text or "").strip()
    if name not in LEVEL_NAMES:
        raise QueryError(f"invalid Query/Retrieve Level {name!r}" if name else
                         "missing Query/Retrieve Level (0008,0052)")
    return LEVEL_NAMES.index(name)


# Patient Study module: in group 0010, but study-level attributes
_PATIENT_STUDY = frozenset({0x00101010, 0x00101020, 0x00101021, 0x00101022, 0x00101023,
                            0x00101024, 0x00102180, 0x001021A0, 0x001021B0, 0x001021C0,
                            0x001021D0, 0x00102203})
_STUDY = frozenset({
    0x00080020, 0x00080030, 0x00080050, 0x00080051, 0x00080090, 0x00080096, 0x00081030,
    0x00081032, 0x00081048, 0x00081049, 0x00081060, 0x00081062, 0x00081080, 0x00081084,
    0x00081110, 0x0020000D, 0x00200010, 0x00201070, 0x00321032, 0x00321033, 0x00321060,
    0x00321064, 0x00324000,
})
_SERIES = frozenset({
    0x00080021, 0x00080031, 0x00080060, 0x00080064, 0x00080070, 0x00080080, 0x00080081,
    0x00081010, 0x0008103E, 0x00081040, 0x00081050, 0x00081052, 0x00081070, 0x00081072,
    0x00081090, 0x00081111, 0x00180015, 0x00181000, 0x00181020, 0x00181030, 0x00185100,
    0x0020000E, 0x00200011, 0x00200060, 0x00400244, 0x00400245, 0x00400253, 0x00400254,
    0x00400260, 0x00400275,
})

# keys computed from the index, at the level whose responses may carry them
COMPUTED = {
    0x00201200: PATIENT,  # NumberOfPatientRelatedStudies
    0x00201202: PATIENT,  # NumberOfPatientRelatedSeries
    0x00201204: PATIENT,  # NumberOfPatientRelatedInstances
    0x00080061: STUDY,    # ModalitiesInStudy
    0x00080062: STUDY,    # SOPClassesInStudy
    0x00201206: STUDY,    # NumberOfStudyRelatedSeries
    0x00201208: STUDY,    # NumberOfStudyRelatedInstances
    0x00201209: SERIES,   # NumberOfSeriesRelatedInstances
    RETRIEVE_AE_TITLE: IMAGE,
    INSTANCE_AVAILABILITY: IMAGE,
}


def level_of(tag: int) -> int:
    """The level an attribute belongs to (computed keys: the level they describe)."""
    if tag in COMPUTED:
        return COMPUTED[tag]
    if tag in _STUDY or tag in _PATIENT_STUDY or (tag >> 16) == 0x0038:
        return STUDY
    if (tag >> 16) == 0x0010:
        return PATIENT
    if tag in _SERIES:
        return SERIES
    return IMAGE


# the keys DCMTK 3.6.7's dcmqrscp supports (its TbFindAttr), by level
DCMTK_KEYS = {
    PATIENT: (0x00100030, 0x00100040, 0x00100010, 0x00100020, 0x00100032, 0x00101000, 0x00101001,
              0x00102160, 0x00104000, 0x00100021),
    STUDY: (0x00080020, 0x00080030, 0x00200010, 0x00080050, 0x00080090, 0x00081030, 0x00081060,
            0x0020000D, 0x00201070, 0x00081080, 0x00101010, 0x00101020, 0x00101030, 0x00102180,
            0x001021B0),
    SERIES: (0x00200011, 0x0020000E, 0x00080060),
    IMAGE: (0x00200013, 0x00080018),
}

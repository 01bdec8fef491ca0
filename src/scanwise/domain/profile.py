"""What is known about the patient, and what is being asked.

Both are plain typed records. Every fact that came from text keeps the words it came
from in ``evidence`` (keyed by field name, or ``field:code`` for list entries), so a
person can check it. A field that is ``None`` is unknown, never a silent default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Stage groups and receptor statuses are staging's types; the profile uses the same ones.
from scanwise.domain.staging.parsing import Receptor as Receptor
from scanwise.domain.staging.tables import STAGE_GROUPS as STAGE_GROUPS
from scanwise.domain.staging.tables import StageGroup as StageGroup

Phase = Literal[
    "screening",
    "diagnostic_workup",
    "new_diagnosis",
    "neoadjuvant",
    "surveillance",
    "suspected_recurrence",
]
# "axilla" is the regional-node part of locoregional evaluation; a variant written for
# locoregional evaluation also covers a question about the axilla, not the reverse.
Purpose = Literal["locoregional", "axilla", "distant"]
Sex = Literal["female", "male"]
Gender = Literal["transfeminine", "transmasculine"]
Population = Literal["female", "male", "transfeminine", "transmasculine"]
Histology = Literal["ductal", "lobular", "mixed", "dcis", "other"]
Subtype = Literal["er_pos_her2_neg", "her2_pos", "triple_negative", "er_neg_pr_pos_her2_neg"]
Laterality = Literal["left", "right", "bilateral"]
Surgery = Literal[
    "lumpectomy",
    "mastectomy",
    "bilateral_mastectomy",
    "prophylactic_mastectomy",
    "reduction_mammoplasty",
]
Reconstruction = Literal["none", "autologous", "implant"]
ImplantType = Literal["saline", "silicone"]
Risk = Literal["average", "intermediate", "high"]
NodalStatus = Literal["negative", "positive"]
NeoadjuvantState = Literal["planned", "ongoing", "completed"]
LabState = Literal["normal", "abnormal"]
# A stage written without its letter ("stage II") stands for all of its sub-groups.
StatedStage = StageGroup | Literal["I", "II", "III"]
STAGE_SUBGROUPS: dict[str, tuple[StageGroup, ...]] = {
    "I": ("IA", "IB"),
    "II": ("IIA", "IIB"),
    "III": ("IIIA", "IIIB", "IIIC"),
}
INVASIVE: frozenset[str] = frozenset({"ductal", "lobular", "mixed", "other"})


class Evidence(BaseModel):
    """Where a fact came from: the words as written, and where they stand."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: int | None = None  # character offsets into the source text
    end: int | None = None
    source: str = "text"  # "text", a file name, or a FHIR resource id
    page: int | None = None  # the page, for text read from a PDF


def her2_from_tests(ihc: str | None, ish: str | None) -> tuple[Receptor | None, str | None]:
    """HER2 status from an IHC score and an ISH result, with a note on how it was decided.

    IHC 0/1+ is negative and 3+ positive; 2+ is equivocal until ISH decides. With no IHC score,
    ISH decides. Where a clear IHC score and the ISH result point opposite ways the status is
    left unknown for the care team: that discordance is the pathologist's call, not ours.
    """
    if ihc in (None, "2+"):
        if ish:
            note = "HER2 status follows the ISH result" + (" (IHC 2+ is equivocal)" if ihc else "")
            return ("positive" if ish == "amplified" else "negative"), note
        return ("equivocal", "IHC 2+ is equivocal: an ISH result decides") if ihc else (None, None)
    by_ihc: Receptor = "positive" if ihc == "3+" else "negative"
    if ish and (ish == "amplified") != (by_ihc == "positive"):
        return None, (f"HER2 IHC {ihc} and ISH '{ish}' disagree: the HER2 status is left unknown "
                      "for the care team to confirm")
    return by_ihc, None


class PatientProfile(BaseModel):
    """Facts about one patient. ``None`` means unknown."""

    model_config = ConfigDict(extra="forbid")

    age: int | None = Field(default=None, ge=0, le=120)
    sex: Sex | None = None  # sex assigned at birth
    gender: Gender | None = None  # set only for transgender patients
    pregnant: bool | None = None
    lactating: bool | None = None
    hormone_use_years: float | None = Field(default=None, ge=0)
    risk: Risk | None = None  # lifetime breast-cancer risk category
    laterality: Laterality | None = None
    histology: Histology | None = None
    tumor_size_mm: float | None = Field(default=None, ge=0)
    grade: int | None = Field(default=None, ge=1, le=3)
    er: Receptor | None = None
    pr: Receptor | None = None
    her2: Receptor | None = None
    her2_ihc: Literal["0", "1+", "2+", "3+"] | None = None
    her2_ish: Literal["amplified", "not amplified"] | None = None
    her2_ish_ratio: float | None = Field(default=None, ge=0)  # HER2/CEP17 signal ratio
    er_percent: float | None = Field(default=None, ge=0, le=100)  # share of tumor cells staining
    pr_percent: float | None = Field(default=None, ge=0, le=100)
    ki67_percent: float | None = Field(default=None, ge=0, le=100)
    t: str | None = None  # with prefix as written: "cT3", "pT1c", "ypT0"
    n: str | None = None  # "cN1", "pN0(sn)"
    m: str | None = None  # "cM0", "M1"
    stage: StatedStage | None = None  # stated clinical stage group
    nodal_status: NodalStatus | None = None  # clinical axillary status
    nodes_positive: int | None = Field(default=None, ge=0)
    nodes_examined: int | None = Field(default=None, ge=0)
    asymptomatic: bool | None = None  # the text says there are no symptoms
    symptoms: list[str] = []  # vocabulary codes present (symptoms, signs)
    denied_symptoms: list[str] = []  # vocabulary codes explicitly absent
    findings: list[str] = []  # imaging or exam findings (vocabulary codes)
    labs: dict[str, LabState] = {}  # e.g. {"alp": "normal", "lft": "normal"}
    family_history: list[str] = []  # kept apart: a relative's cancer is not the patient's
    # A parent, sibling or child had breast or ovarian cancer: risk above average, how far unsaid.
    first_degree_relative: bool | None = None
    cancer_history: bool | None = None  # personal history of breast cancer
    other_cancer: str | None = None  # a non-breast primary the text is about
    surgery: Surgery | None = None
    reconstruction: Reconstruction | None = None
    implant: ImplantType | None = None
    implant_years: float | None = Field(default=None, ge=0)
    neoadjuvant: NeoadjuvantState | None = None
    months_since_treatment: float | None = Field(default=None, ge=0)
    evidence: dict[str, list[Evidence]] = {}

    @property
    def population(self) -> Population | None:
        if self.gender is not None:
            return self.gender
        return self.sex

    @property
    def subtype(self) -> Subtype | None:
        """Receptor subtype as guidelines split it; None while a deciding marker is unknown."""
        if self.her2 == "positive":
            return "her2_pos"
        if self.her2 != "negative":
            return None  # unknown, or equivocal pending ISH
        if self.er == "positive":
            return "er_pos_her2_neg"
        if self.er == "negative" and self.pr == "negative":
            return "triple_negative"
        if self.er == "negative" and self.pr == "positive":
            return "er_neg_pr_pos_her2_neg"
        return None

    def present(self, code: str) -> bool:
        """A symptom or finding is present, or a lab with this code is abnormal."""
        return code in self.symptoms or code in self.findings or self.labs.get(code) == "abnormal"

    def denied(self, code: str) -> bool:
        """A symptom is explicitly absent, or a lab with this code is normal."""
        return code in self.denied_symptoms or self.labs.get(code) == "normal"

    def cite(self, field: str) -> str | None:
        """The words a fact came from, for explanations."""
        ev = self.evidence.get(field)
        return ev[0].text if ev else None


class Indication(BaseModel):
    """What is being asked: the clinical phase, the purpose and the studies named."""

    model_config = ConfigDict(extra="forbid")

    text: str = ""
    phase: Phase | None = None
    purpose: Purpose | None = None
    asked_procedures: list[str] = []  # vocabulary codes of studies named in the question
    in_scope: bool = True
    scope_note: str | None = None  # why it is out of scope
    assumptions: list[str] = []  # what was inferred rather than stated, said out loud
    evidence: dict[str, list[Evidence]] = {}
    # Clinical-looking words the reader could not place in any fact: shown, never dropped.
    unread: list[Evidence] = []

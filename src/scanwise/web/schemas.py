"""Request and response bodies of the API. Responses reuse the core's models (Assessment,
Answer, StageResult, PatientProfile), so the API returns exactly what the CLI prints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scanwise.domain.answers import MAX_QUESTION_CHARS, Answer
from scanwise.domain.profile import Evidence, Indication, LabState, PatientProfile
from scanwise.domain.staging import StageResult

# The readers refuse longer text themselves; the schema says so up front.
MAX_TEXT_CHARS = 20_000


MAX_LIST_ITEMS = 50  # codes in one list of a profile (the vocabulary has fewer than 200)
MAX_SHORT_TEXT = 200  # one value of a structured field (a label, a code, a TNM category)


def _no_nul(value: Any) -> Any:
    """Refuse NUL anywhere in a value (it ends strings in C libraries and logs)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("contains a NUL character")
    elif isinstance(value, list | tuple):
        for item in value:
            _no_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    elif isinstance(value, BaseModel):
        _no_nul(value.model_dump())
    return value


class _Request(BaseModel):
    # An unknown field is an error, not something quietly ignored; numbers must be finite.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    _nul = field_validator("*", mode="after")(classmethod(lambda cls, v: _no_nul(v)))


def _number(low: float, high: float, what: str) -> Any:
    # strict: a JSON true is not a number, "18" is not a number
    return Field(default=None, ge=low, le=high, strict=True, allow_inf_nan=False, description=what)


def _codes(what: str) -> Any:
    return Field(default=[], max_length=MAX_LIST_ITEMS, description=what)


class ProfileInput(PatientProfile):
    """A patient profile as the API takes it: the engine's profile with every number finite,
    typed and in its clinical range, every list and text bounded, no NUL anywhere."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=MAX_SHORT_TEXT)

    age: int | None = _number(0, 120, "Years.")
    hormone_use_years: float | None = _number(0, 80, "Years of hormone therapy use.")
    tumor_size_mm: float | None = _number(0, 500, "Largest invasive tumour size, mm.")
    grade: int | None = _number(1, 3, "Histologic grade 1-3.")
    her2_ish_ratio: float | None = _number(0, 100, "HER2/CEP17 signal ratio.")
    er_percent: float | None = _number(0, 100, "Share of tumour cells staining for ER, %.")
    pr_percent: float | None = _number(0, 100, "Share staining for PR, %.")
    ki67_percent: float | None = _number(0, 100, "Ki-67 index, %.")
    t: str | None = Field(default=None, max_length=40, examples=["cT2"])
    n: str | None = Field(default=None, max_length=40, examples=["cN0"])
    m: str | None = Field(default=None, max_length=40, examples=["cM0"])
    nodes_positive: int | None = _number(0, 100, "Positive lymph nodes.")
    nodes_examined: int | None = _number(0, 100, "Lymph nodes examined.")
    symptoms: list[str] = _codes("Vocabulary codes of symptoms and signs present.")
    denied_symptoms: list[str] = _codes("Vocabulary codes explicitly absent.")
    findings: list[str] = _codes("Vocabulary codes of imaging or exam findings.")
    family_history: list[str] = _codes("Relatives' cancers (kept apart from the patient's).")
    labs: dict[str, LabState] = Field(default={}, max_length=MAX_LIST_ITEMS)
    other_cancer: str | None = Field(default=None, max_length=60)
    implant_years: float | None = _number(0, 80, "Years since implant placement.")
    months_since_treatment: float | None = _number(0, 1200, "Months since treatment ended.")
    evidence: dict[str, list[Evidence]] = Field(default={}, max_length=MAX_LIST_ITEMS)

    _nul = field_validator("*", mode="after")(classmethod(lambda cls, v: _no_nul(v)))


class IndicationInput(Indication):
    """What is asked, as the API takes it: bounded and without NUL."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=MAX_TEXT_CHARS)

    asked_procedures: list[str] = _codes("Vocabulary codes of studies named in the question.")
    assumptions: list[str] = Field(default=[], max_length=MAX_LIST_ITEMS)
    evidence: dict[str, list[Evidence]] = Field(default={}, max_length=MAX_LIST_ITEMS)

    _nul = field_validator("*", mode="after")(classmethod(lambda cls, v: _no_nul(v)))


class RecommendRequest(_Request):
    """A clinical scenario in free text, or a structured profile (with an optional indication)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "58-year-old woman, 1.8 cm grade 2 IDC, no palpable nodes, normal LFTs and ALP, "
                 "clinical stage I. Is PET/CT needed for distant staging?"},
        {"profile": {"age": 58, "sex": "female", "histology": "ductal", "tumor_size_mm": 18,
                     "grade": 2, "stage": "I", "nodal_status": "negative"},
         "indication": {"phase": "new_diagnosis", "purpose": "distant"}},
    ]})

    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS,
                             description="The scenario in free text, as for `scanwise recommend`.")
    profile: ProfileInput | None = None
    indication: IndicationInput | None = Field(
        default=None, description="What is asked; only with `profile`. Default: nothing stated.")
    include_retired: bool = Field(default=False,
                                  description="Also match retired guideline topics (reference only).")

    @model_validator(mode="after")
    def _one_input(self) -> RecommendRequest:
        if (self.text is None) == (self.profile is None):
            raise ValueError("give either `text` or `profile`, not both and not neither")
        if self.indication is not None and self.profile is None:
            raise ValueError("`indication` goes with `profile`; with `text` it is read from the text")
        return self


class AskContext(_Request):
    """The patient's situation: free text, or a profile (for example from /api/extract)."""

    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    profile: ProfileInput | None = None
    indication: IndicationInput | None = None

    @model_validator(mode="after")
    def _one_input(self) -> AskContext:
        if self.text is not None and self.profile is not None:
            raise ValueError("give the context as `text` or as `profile`, not both")
        if self.text is None and self.profile is None:
            raise ValueError("an empty context: give `text` or `profile`, or leave `context` out")
        if self.indication is not None and self.profile is None:
            raise ValueError("`indication` goes with `profile`; with `text` it is read from the text")
        return self


class AskRequest(_Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"question": "What is the difference between a CT scan and a PET scan for HER2-positive "
                     "breast cancer?"},
        {"question": "Do I need a PET scan?",
         "context": {"text": "I am 58, just diagnosed, stage I, ER positive HER2 negative."}},
    ]})

    question: str = Field(max_length=MAX_QUESTION_CHARS)
    context: AskContext | None = None


class ExtractTextRequest(_Request):
    text: str = Field(max_length=MAX_TEXT_CHARS * 10, description="A report or note as plain text.")


class StageRequest(_Request):
    """The fields of `scanwise stage`: TNM, grade, receptors, Oncotype DX."""

    t: str | None = Field(default=None, max_length=40, examples=["T1c"])
    n: str | None = Field(default=None, max_length=40, examples=["N0"])
    m: str | None = Field(default=None, max_length=40, examples=["M0"])
    grade: int | str | None = Field(default=None, examples=[2])
    er: str | None = Field(default=None, max_length=40, examples=["positive"])
    pr: str | None = Field(default=None, max_length=40, examples=["positive"])
    her2: str | None = Field(default=None, max_length=40, examples=["negative"])
    oncotype: int | None = Field(default=None, description="Oncotype DX recurrence score (0-100).")


class StageResponse(StageResult):
    """`scanwise stage --json`: every field plus the explanation line."""

    explanation: str


class SaveProfileRequest(_Request):
    """Keep a profile. Nothing is stored unless this is sent; record text only if included."""

    profile: ProfileInput
    indication: IndicationInput | None = None
    label: str | None = Field(default=None, max_length=200)
    record_text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS * 10,
                                    description="The record text, only if the user chose to keep it.")


class Health(BaseModel):
    status: Literal["ok"]
    kb_version: str
    database: Literal["ok", "unavailable"]
    #: Worker processes ready to read and assess (fewer while one is being replaced).
    workers: int = 0


class AskResponse(Answer):
    """The answer, and questions worth asking next (the same JSON as `scanwise ask --json`)."""

    follow_ups: list[str] = Field(default=[], description="Questions worth asking next, each one "
                                  "the answer engine reads as intended.")

"""Request and response bodies of the API. Responses reuse the core's models (Assessment,
Answer, StageResult, PatientProfile), so the API returns exactly what the CLI prints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanwise.domain.answers import Answer
from scanwise.domain.profile import Indication, PatientProfile
from scanwise.domain.staging import StageResult

# The readers refuse longer text themselves; the schema says so up front.
MAX_TEXT_CHARS = 20_000
MAX_QUESTION_CHARS = 2_000


class _Request(BaseModel):
    # An unknown field is an error, not something quietly ignored.
    model_config = ConfigDict(extra="forbid")


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
    profile: PatientProfile | None = None
    indication: Indication | None = Field(
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
    profile: PatientProfile | None = None
    indication: Indication | None = None

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

    profile: PatientProfile
    indication: Indication | None = None
    label: str | None = Field(default=None, max_length=200)
    record_text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS * 10,
                                    description="The record text, only if the user chose to keep it.")


class Health(BaseModel):
    status: Literal["ok"]
    kb_version: str
    database: Literal["ok", "unavailable"]


class AskResponse(Answer):
    """The answer, and questions worth asking next (the same JSON as `scanwise ask --json`)."""

    follow_ups: list[str] = Field(default=[], description="Questions worth asking next, each one "
                                  "the answer engine reads as intended.")

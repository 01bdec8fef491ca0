"""Read a clinical scenario written in free text into a PatientProfile and an Indication.

Handles one-liners and short notes as clinicians write them ("61F, cT3N1 ER+/HER2- IDC,
no bone pain, staging?") and plain questions from patients. Structured tokens (age, size,
TNM, stage, receptors, grade) are read with patterns; symptoms, findings, labs and studies
come from the knowledge base's vocabulary through medspaCy, whose ConText keeps a denied
symptom from counting as a symptom and a relative's cancer from counting as the patient's.
Those readers live in ``nlp.extract``, shared with the record reader; this module adds what
only a question has: the phase, the purpose and the scope. Every fact keeps the words it
came from. What is inferred rather than stated is listed in ``Indication.assumptions``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from scanwise.domain.kb import KnowledgeBase, phrase_regex
from scanwise.domain.profile import Evidence, Indication, PatientProfile
from scanwise.domain.staging.parsing import without_prefix
from scanwise.nlp.clinical import BREAST_CANCER, CUE, Mention, mentions
from scanwise.nlp.extract import (
    ASKED_FOR_SOMEONE,
    ASYMPTOMATIC,
    DENIED_JUST_BEFORE,
    NEGATED_BEFORE,
    NEOADJ,
    PROXY_AGE,
    Reading,
    nodal_status,
    read_demographics,
    read_history,
    read_mentions,
    read_tumor,
    rx,
    unread_cues,
)
from scanwise.nlp.normalize import CleanText
from scanwise.nlp.rules import alternatives, expand, load_rules, person_words, situation_cues


class UnusableText(ValueError):
    """The input cannot be read at all (empty, or not text)."""


MAX_CHARS = 20_000

# The phase and purpose cues and the words of the situation are data (reading.yaml
# ``situation``), compiled and checked on load; the neoadjuvant phase uses the reader's own
# wording for chemotherapy before surgery.
_PHASES, _PURPOSE_CUES, _WORDS = situation_cues()
_PHASE_CUES: list[tuple[str, re.Pattern[str]]] = [(name, NEOADJ if p is None else p) for name, p in _PHASES]
_SCREENING_CUE = dict(_PHASE_CUES)["screening"]
# Operations and treatments done for a cancer, even where the word "cancer" is missing.
_TREATED_FOR_CANCER = _WORDS["treated_for_cancer"]
# After the operation, before radiotherapy or with margins to clear: not yet follow-up.
_TREATMENT_PENDING = _WORDS["treatment_pending"]
_INJURY_ELSEWHERE = _WORDS["injury_elsewhere"]
_ANIMAL = _WORDS["animal"]
_ROUTINE = _WORDS["routine"]
_STAGING_WORD = _WORDS["staging_word"]
_OTHER_ORGAN = _WORDS["other_organ"]
_TREATMENT_QUESTION = _WORDS["treatment_question"]
_IMAGING_WORD = _WORDS["imaging_word"]
_BREAST_CONTEXT = _WORDS["breast_context"]

_SHARED_MARKER = _WORDS["shared_marker"]
# The words of who the text is about and of history (reading.yaml ``fact_words``).
_FACT_WORDS = load_rules().fact_words
_AXILLARY_SIGNS = {"axillary_lump", "axillary_lump_bilateral", "suspicious_axillary_node",
                   "suspicious_axillary_node_other_imaging", "axillary_adenopathy"}
_LOCAL_SIGNS = {"lump_at_scar", "palpable_mass", "skin_changes", "axillary_lump", "nipple_retraction",
                "nipple_discharge_pathologic", "breast_pain_focal"}
_SYSTEMIC_SIGNS = {"bone_pain", "neurologic_symptoms", "cough", "dyspnea", "chest_pain", "abdominal_pain",
                   "jaundice", "weight_loss", "alp", "lft", "tumor_markers", "calcium"}
_DIAGNOSTIC_SIGNS = {"palpable_mass", "breast_pain_focal", "breast_pain_diffuse", "breast_pain",
                     "nipple_discharge_pathologic", "nipple_discharge_physiologic", "nipple_discharge",
                     "nipple_retraction", "skin_changes", "axillary_lump", "axillary_lump_bilateral",
                     "gynecomastia", "implant_rupture_suspected", "late_seroma", "axillary_adenopathy",
                     "birads_1", "birads_2", "birads_3", "birads_4", "birads_5", "suspicious_axillary_node",
                     "suspicious_axillary_node_other_imaging", "lump_at_scar", "imaging_indeterminate"}
# A negative or benign study by itself is routine: it makes a work-up only beside another sign.
# The studies a request for screening names (reading.yaml ``situation.screening_studies``).
_SCREENING_STUDIES = set(load_rules().situation.screening_studies)
_QUIET_RESULTS = {"birads_1", "birads_2"}


def _phase(r: Reading, ind: dict[str, Any], profile_facts: dict[str, Any], signs: Iterable[str],
           has_breast_cancer: bool) -> None:
    text = r.text
    signs = set(signs)
    if signs & _DIAGNOSTIC_SIGNS <= _QUIET_RESULTS:
        signs -= _QUIET_RESULTS  # "my mammograms have always been normal; how often?" is screening
    hits: dict[str, re.Match[str]] = {}
    for phase, pattern in _PHASE_CUES:
        # the first cue not just after a denial ("surgery first, no chemo first")
        if m := next((m for m in pattern.finditer(text)
                      if not DENIED_JUST_BEFORE.search(text, max(0, m.start() - 30), m.start())), None):
            hits[phase] = m
    treated = has_breast_cancer or _treated_for_cancer(text)
    # Both breasts are often removed with no cancer (risk-reducing, top surgery): that is a
    # history of cancer only when a treatment for one is named ("bilat mastectomy for ca").
    history = profile_facts.get("cancer_history") or profile_facts.get("surgery") in (
        "lumpectomy", "mastectomy") and treated or profile_facts.get("surgery") == "bilateral_mastectomy" \
        and _treated_for_cancer(text)
    tumor_described = any(k in profile_facts for k in ("t", "tumor_size_mm", "histology", "stage", "er", "her2"))
    neo = profile_facts.get("neoadjuvant")

    def choose(phase: str, m: re.Match[str] | None, why: str | None = None) -> None:
        ind["phase"] = phase
        if m is not None:
            r.set("phase", phase, m.start(), m.end())
        if why:
            r.assumptions.append(why)

    if "suspected_recurrence" in hits and (history or has_breast_cancer or profile_facts.get("surgery")):
        choose("suspected_recurrence", hits["suspected_recurrence"])
    elif history and (signs & (_LOCAL_SIGNS | _SYSTEMIC_SIGNS)):
        shown = ", ".join(sorted(signs & (_LOCAL_SIGNS | _SYSTEMIC_SIGNS))).replace("_", " ")
        choose("suspected_recurrence", None,
               f"read as a suspected recurrence: {shown} after treatment for breast cancer")
    elif ("neoadjuvant" in hits or neo in ("ongoing", "completed")) and neo != "planned":
        choose("neoadjuvant", hits.get("neoadjuvant"))
    elif profile_facts.get("surgery") and (pending := _TREATMENT_PENDING.search(text)):
        # After the operation, before radiotherapy or with margins to clear: not yet follow-up
        # but a post-operative work-up.
        choose("diagnostic_workup", None, f'treatment is not finished ("{pending.group(0)}"): read as '
                                          "a post-operative work-up, not routine follow-up")
    elif "surveillance" in hits and (history or has_breast_cancer):
        choose("surveillance", hits["surveillance"])
    elif history and not tumor_described_now(text):
        m = hits.get("surveillance") or hits.get("screening") or _ROUTINE.search(text)
        choose("surveillance", m, None if m else
               "read as routine follow-up: a treated breast cancer and no new problem is described")
    elif ("new_diagnosis" in hits and (has_breast_cancer or tumor_described)) or neo == "planned":
        choose("new_diagnosis", hits.get("new_diagnosis") or hits.get("neoadjuvant"))
    elif has_breast_cancer and tumor_described:
        choose("new_diagnosis", None,
               "read as a new diagnosis: a breast cancer is described with no treatment history")
    elif "implant" in r.evidence and not has_breast_cancer and not signs & _DIAGNOSTIC_SIGNS \
            and profile_facts.get("reconstruction") is None:
        choose("screening", hits.get("screening"), None if "screening" in hits else
               "read as a routine check of breast implants: no problem with them is described")
    elif profile_facts.get("surgery") == "prophylactic_mastectomy" and not has_breast_cancer \
            and not signs & _DIAGNOSTIC_SIGNS:
        choose("screening", hits.get("screening"), None if "screening" in hits else
               "read as screening: imaging after a risk-reducing mastectomy with no problem described")
    elif signs & _DIAGNOSTIC_SIGNS:
        shown = ", ".join(sorted(signs & _DIAGNOSTIC_SIGNS)).replace("_", " ")
        choose("diagnostic_workup", None, f"read as a diagnostic work-up of: {shown}")
    elif "screening" in hits:
        choose("screening", hits["screening"])
    elif "surveillance" in hits and (profile_facts.get("surgery") or treated):
        choose("surveillance", hits["surveillance"])
    elif "surveillance" in hits:  # "my yearly mammogram", "how often": with no cancer, that is screening
        choose("screening", hits["surveillance"],
               "read as screening: regular imaging is asked about and no breast cancer is described")
    elif set(ind.get("asked_procedures") or ()) & _SCREENING_STUDIES and not treated \
            and not profile_facts.get("surgery") and not profile_facts.get("other_cancer"):
        # "Average risk. Mammo?": a breast screening study asked for, and no problem, cancer or
        # operation described.
        choose("screening", None, "read as screening: a mammogram is asked for and no problem, "
                                  "cancer or operation is described")


def _treated_for_cancer(text: str) -> bool:
    """A breast-cancer treatment is named as done: not denied ("never had ... radiation"), and not
    radiation to the chest for another illness, which is a risk factor ("prior chest radiation")."""
    for m in _TREATED_FOR_CANCER.finditer(text):
        before = text[max(0, m.start() - 30):m.start()]
        if NEGATED_BEFORE.search(before) or re.search(r"\b(chest|mantle)\s+$", before, re.IGNORECASE):
            continue
        return True
    return False


def tumor_described_now(text: str) -> bool:
    """A current tumor is being described (new primary), not only a past one."""
    return bool(_WORDS["tumor_described_now"].search(text))


def _asked_on_behalf(text: str) -> bool:
    """The question is asked for someone else ("what scan does she need?"); with no question
    mark, a reported question anywhere counts ("She's asking if she still needs mammograms")."""
    if "?" not in text:
        return bool(ASKED_FOR_SOMEONE.search(text))
    q_start, q_end = _question_span(text)
    return bool(ASKED_FOR_SOMEONE.search(text, q_start, q_end))


def _question_span(text: str) -> tuple[int, int]:
    """Where the question is: the sentence ending in the last "?", else the whole text."""
    q = text.rfind("?")
    if q < 0:
        return 0, len(text)
    start = max(text.rfind(".", 0, q), text.rfind("\n", 0, q), text.rfind("?", 0, q)) + 1
    return start, q + 1


def _purpose(r: Reading, ind: dict[str, Any], asked: list[str], kb: KnowledgeBase,
             signs: Iterable[str]) -> None:
    text, phase = r.text, ind.get("phase")
    signs = set(signs)
    if phase in ("diagnostic_workup", "neoadjuvant") and signs & _AXILLARY_SIGNS and \
            not any(p.search(text) for _, p in _PURPOSE_CUES[:1]):
        ind["purpose"] = "axilla"
        r.assumptions.append("purpose read as the axilla: the problem is in the armpit")
        return
    if phase in (None, "screening", "diagnostic_workup"):
        return

    def choose(purpose: str, m: re.Match[str] | None = None, why: str | None = None) -> None:
        ind["purpose"] = purpose
        if m is not None:
            r.set("purpose", purpose, m.start(), m.end())
        if why:
            r.assumptions.append(why)

    # Words of purpose decide, those in the question first ("...axillary nodes. PET/CT?").
    q_start, q_end = _question_span(text)
    for span in ((q_start, q_end), (0, len(text))):
        found = {}
        for purpose, pattern in _PURPOSE_CUES:
            if m := pattern.search(text, *span):
                found[purpose] = m
        # The axilla's words all name a study of it ("axillary imaging"), the breast's often
        # where the disease is ("local recurrence in the lumpectomy bed"): with both, the
        # study asked for decides.
        if set(found) == {"axilla", "locoregional"}:
            del found["locoregional"]
        if len(found) == 1:
            purpose, m = next(iter(found.items()))
            choose(purpose, m)
            return
        if len(found) > 1:
            break
    # Then the studies asked about; an axillary study is the most specific.
    by_study = {kb.terms[c].purpose for c in asked if c in kb.terms and kb.terms[c].purpose}
    if "axilla" in by_study or len(by_study) == 1:
        purpose = "axilla" if "axilla" in by_study else str(by_study.pop())
        named = [kb.terms[c].label for c in asked if kb.terms[c].purpose == purpose]
        choose(purpose, None, f"purpose read as {purpose} from the study asked about "
                              f"({', '.join(named)})")
        if ev := r.evidence.get("asked_procedures"):
            r.evidence["purpose"] = ev[:1]
        return
    local, systemic = signs & _LOCAL_SIGNS, signs & _SYSTEMIC_SIGNS
    if systemic and not local:
        choose("distant", None, "purpose read as distant: the signs point beyond the breast ("
               + ", ".join(sorted(systemic)).replace("_", " ") + ")")
        return
    if local and not systemic and phase == "suspected_recurrence":
        choose("locoregional", None, "purpose read as locoregional: the signs are local ("
               + ", ".join(sorted(local)).replace("_", " ") + ")")
        return
    if phase == "new_diagnosis" and (m := _STAGING_WORD.search(text)):
        choose("distant", m, '"staging" read as staging for distant spread; say "locoregional" '
                             'or "axilla" for the breast or the armpit nodes')
        return
    if phase == "new_diagnosis" and not by_study and (axillary := signs & _AXILLARY_SIGNS):
        choose("axilla", None, "purpose read as the axilla: the finding is in the armpit ("
               + ", ".join(sorted(axillary)).replace("_", " ") + ")")
        return
    if len(by_study) > 1:
        r.assumptions.append("studies for different purposes are asked about; say whether the "
                             "imaging is for the breast, the axilla or distant spread")


# A phase said in words of follow-up after treatment ("annual surveillance for local recurrence").
_FOLLOW_UP_WORD = _FACT_WORDS["follow_up"].compiled()
_SCREENING_AFTER = rx(r"\s*(?:cancer\s+)?screening\b")
# Said as the patient's history, just before the cancer's name ("hx cervical ca", "treated for").
_HISTORY_BEFORE = rx(r"\b" + _FACT_WORDS["history_before"].alternation() + r"\s+(?:\w+\s+)?$")


def _scope(r: Reading, ind: dict[str, Any], found: list[Mention],
           recorded_cancer: bool = False, findings: Iterable[str] = ()) -> None:
    text = r.text
    patient_breast_cancer = recorded_cancer or any(
        mt.code == BREAST_CANCER and mt.status == "present" for mt in found)
    other_all = [mt for mt in found if mt.organ not in (None, "breast") and mt.experiencer == "patient"]
    # With a screening question, another organ's past cancer ("hx cervical ca tx 2010, screening?") is
    # a risk factor, not the subject; "history of ovarian carcinoma, CA-125 rising" is about it.
    asks_screening = bool(_SCREENING_CUE.search(text))
    other = [mt for mt in other_all if not (asks_screening and mt.historical and _HISTORY_BEFORE.search(
        text, max(0, mt.start - 25), mt.start))]
    # scanwise is about the breast: a screening question with no other organ named (but in a
    # past cancer) is a breast-screening question ("55F, average risk, what screening?").
    # An organ word inside a breast fact read ("skin dimpling" is the breast's skin), or only
    # inside a denied or someone else's cancer ("no family history of breast or ovarian
    # cancer"), names no other organ.
    not_an_organ = [(mt.start, mt.end) for mt in found
                    if (mt.organ and (mt.negated or mt.experiencer != "patient"))
                    or (not mt.organ and not mt.code.startswith(CUE))]

    def organ_words(start: int = 0, end: int = len(text)) -> list[re.Match[str]]:
        return [m for m in _OTHER_ORGAN.finditer(text, start, end)
                if not any(s <= m.start() < e for s, e in not_an_organ)]

    screening_question = asks_screening and (not organ_words() or bool(other_all) and not other)
    # Receptor and gene words ("HER2 3+", "BRCA1+") are tested in other cancers too: beside
    # another organ's cancer they do not make the text about the breast.
    # Beside another organ ("lung mass ... No breast symptoms"), a breast word only denied does
    # not make the text about the breast.
    other_organ = bool(other) or bool(organ_words())
    breast_words = [m for m in _BREAST_CONTEXT.finditer(text)
                    if not (other and _SHARED_MARKER.fullmatch(m.group(0)))
                    and not (other_organ and NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()]))]
    # a sign read, or a study's finding ("a node ... looks suspicious")
    signs = any(mt.code in _DIAGNOSTIC_SIGNS and mt.status == "present" for mt in found) or \
        bool(set(findings) & _DIAGNOSTIC_SIGNS - _QUIET_RESULTS)
    breast_context = bool(breast_words) or screening_question or signs
    # only when the text opens with the animal: "we also have the dog's vet appointment" is not
    first_sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if animal := _ANIMAL.search(first_sentence):
        ind["in_scope"] = False
        ind["scope_note"] = (f'This is about an animal ("{animal.group(0)}"). scanwise covers imaging for '
                             "people's breast cancer and breast symptoms; ask a veterinarian.")
        return
    # "ovarian cancer screening": screening for another organ's cancer is that organ's question.
    screened = next((mt for mt in other_all if _SCREENING_AFTER.match(text, mt.end)), None)
    if screened is not None and not r.evidence.get("asked_procedures"):
        site = screened.code.split(":", 1)[1]
        ind["in_scope"] = False
        ind["scope_note"] = (f'This asks about screening for {screened.text} ({site}), not the breast. '
                             "scanwise covers imaging for breast cancer and breast symptoms only.")
        return
    if other and not patient_breast_cancer and not breast_context:
        site = other[0].code.split(":", 1)[1]
        ind["in_scope"] = False
        ind["scope_note"] = (f'This text is about {other[0].text} ({site}), not breast cancer. scanwise '
                             "covers imaging for breast cancer and breast symptoms only, so it gives no "
                             "recommendation here.")
        r.set("other_cancer", other[0].text, other[0].start, other[0].end)
        return
    # A size alone may be any nodule's ("7 mm nodule"); a stage or receptor is a cancer's.
    tumour_told = [k for k in ("stage", "t", "n", "er", "her2") if k in r.facts]
    if not breast_context and not patient_breast_cancer and not other_organ and (NEOADJ.search(text) or tumour_told):
        # Chemotherapy before surgery, or a tumour's stage or size, with no organ named: in a
        # breast-imaging tool that is read as breast cancer, and said, rather than turned away.
        what = "the treatment described" if NEOADJ.search(text) else "the tumour described"
        r.assumptions.append(f"no organ is named: {what} is read as a breast cancer")
    elif not breast_context and not patient_breast_cancer:
        ind["in_scope"] = False
        ind["scope_note"] = ("This text does not describe a breast imaging question. scanwise covers "
                             "imaging for breast cancer and breast symptoms: describe the patient, the "
                             "situation and the study in question.")
        return
    if (injury := _INJURY_ELSEWHERE.search(text)) and not signs and not r.evidence.get("asked_procedures"):
        ind["in_scope"] = False
        ind["scope_note"] = (f'This is about an injury ("{injury.group(0)}"), not the breast. scanwise '
                             "covers imaging for breast cancer and breast symptoms only; a past breast "
                             "cancer does not make another complaint a breast question.")
        return
    q_start, q_end = _question_span(text)
    question = text[q_start:q_end] if "?" in text else ""
    asked_here = any(q_start <= (ev.start or 0) < q_end for ev in r.evidence.get("asked_procedures", []))
    if question and _TREATMENT_QUESTION.search(question) and not _IMAGING_WORD.search(question) \
            and not asked_here:
        ind["in_scope"] = False
        ind["scope_note"] = ("This asks about treatment, not imaging. scanwise answers which imaging "
                             "test, if any, fits a situation; ask the care team about treatment choices.")
    elif question and organ_words(q_start, q_end) and not _BREAST_CONTEXT.search(question) \
            and not patient_breast_cancer and not signs:
        # "liver metastases" of a breast cancer stay in scope, and so does a breast or armpit
        # sign seen on another organ's scan ("a CT for my lungs showed a big node under my arm")
        ind["in_scope"] = False
        ind["scope_note"] = ("This asks about another organ, not the breast. scanwise covers imaging for "
                             "breast cancer and breast symptoms only.")


_RECORD_LISTS = {"symptoms": "symptoms", "denied_symptoms": "denied", "findings": "findings"}


def _add_known(r: Reading, heard: dict[str, Any], known: PatientProfile) -> set[str]:
    """Facts from the patient's records fill what the question leaves unsaid.

    Where the question and the records disagree the fact is left unknown and the reason is
    said; a T, N or M category given with a different prefix keeps the records' (staged) one.
    """
    lists = set(_RECORD_LISTS) | {"family_history", "labs"}
    filled: set[str] = set()
    for key, value in known.model_dump(exclude={"evidence", *lists}).items():
        if value is None:
            continue
        said = r.facts.get(key)
        if key not in r.facts or (key in ("t", "n", "m") and without_prefix(str(said)) ==
                                  without_prefix(str(value))):
            r.facts[key] = value
            r.evidence[key] = list(known.evidence.get(key, []))
            filled.add(key)
        elif said != value:
            del r.facts[key]
            r.evidence.pop(key, None)
            r.assumptions.append(f"{key.replace('_', ' ')}: the question says {said} but the records say "
                                 f"{value}; left unknown until checked")
    for key, cite in _RECORD_LISTS.items():
        for code in getattr(known, key):
            if code not in heard[key]:
                heard[key].append(code)
                r.evidence[f"{cite}:{code}"] = list(known.evidence.get(f"{key}:{code}", []))
    heard["family_history"] += [f for f in known.family_history if f not in heard["family_history"]]
    for code, state in known.labs.items():
        heard["labs"].setdefault(code, state)
    heard["denied_symptoms"] = [c for c in heard["denied_symptoms"] if c not in heard["symptoms"]]
    return filled


def read_scenario(text: str, kb: KnowledgeBase,
                  known: PatientProfile | None = None) -> tuple[PatientProfile, Indication]:
    """Read free text into a profile and an indication. Raises UnusableText for empty input.

    ``known`` is a profile read from the patient's records: its facts fill what the text does
    not say, and the text may then be only the question (or empty).
    """
    if not isinstance(text, str) or (not text.strip() and known is None):
        raise UnusableText("the text is empty: describe the patient and the question")
    if len(text) > MAX_CHARS:
        raise UnusableText(f"the text is {len(text):,} characters; the limit is {MAX_CHARS:,}")
    if "\x00" in text:
        raise UnusableText("the input contains binary data, not text")
    original = text
    # Shorthand and lay wording are read as what they mean (reading.yaml); evidence is mapped
    # back to the words as written at the end.
    expanded = expand(text)
    text = expanded.text
    r = Reading(text)
    read_demographics(r)
    read_tumor(r)
    read_history(r)
    r.first("asymptomatic", ASYMPTOMATIC, True)
    subject = _told_of_relative(r)  # a relative the whole text is about, who is then the patient
    found = _posed_case(r, _asked_for(r, _nobody_in_family(r, _relatives_cancer(r, mentions(text, kb))), subject))
    _someone_elses_treatment(r, subject)
    _someone_elses_risk(r)
    _whose(r, found)
    found = _lump_site(r, found)
    heard = read_mentions(r, kb, found)
    _implant_change(r, found, heard)
    _pain_place(r, found, heard)
    _discharge_kind(r, found, heard)
    nodal_status(r, heard["symptoms"])
    from_record = _add_known(r, heard, known) if known is not None else set()
    has_bc = any(mt.code == BREAST_CANCER and mt.status == "present" for mt in found) or any(
        k in r.facts for k in ("histology", "t", "stage", "er", "her2"))
    if hist := next((mt for mt in found if mt.code == BREAST_CANCER and mt.historical
                     and mt.status == "present"), None):
        r.set("cancer_history", True, hist.start, hist.end)
    elif denied := next((mt for mt in found if mt.code == BREAST_CANCER and mt.status == "denied"), None):
        r.set("cancer_history", False, denied.start, denied.end, overwrite=True)  # "I never had cancer"
        if r.facts.get("surgery") == "bilateral_mastectomy" and r.facts.get("risk") == "high":
            r.set("surgery", "prophylactic_mastectomy", *_span(r, "surgery"), overwrite=True)
            r.assumptions.append("both breasts removed with no breast cancer and a high risk: read as "
                                 "risk-reducing (prophylactic) mastectomy")
    elif r.facts.get("surgery") == "bilateral_mastectomy" and r.facts.get("risk") == "high" \
            and not any(mt.code == BREAST_CANCER and mt.experiencer == "patient" for mt in found) \
            and not _treated_for_cancer(text) and "cancer_history" not in r.facts:
        r.set("surgery", "prophylactic_mastectomy", *_span(r, "surgery"), overwrite=True)
        r.assumptions.append("both breasts removed at high risk and no breast cancer of the patient's "
                             "mentioned: read as risk-reducing (prophylactic) mastectomy")
    elif "cancer_history" in r.facts and NEGATED_BEFORE.search(
            text[max(0, (r.evidence["cancer_history"][0].start or 0) - 30):r.evidence["cancer_history"][0].start]):
        del r.facts["cancer_history"]  # "no personal history of breast cancer"
    ind: dict[str, Any] = {"text": original, "in_scope": True, "asked_procedures": heard["asked"]}
    _scope(r, ind, found, recorded_cancer=known is not None and has_bc, findings=heard["findings"])
    signs = heard["symptoms"] + heard["findings"] + [k for k, v in heard["labs"].items() if v == "abnormal"]
    if ind["in_scope"]:
        # A pathology report names the operation that removed this cancer: by itself that is not
        # a history of treated cancer, so the phase is read as if the surgery were unsaid.
        phase_facts = {k: v for k, v in r.facts.items() if not (k == "surgery" and k in from_record)}
        _phase(r, ind, phase_facts, signs, has_bc)
        if "surgery" in from_record and ind.get("phase") == "new_diagnosis":
            r.assumptions.append("the surgery in the records is read as the operation for this cancer, "
                                 "not past treatment; say so in the question if it was years ago")
        if ind.get("phase") in ("surveillance", "suspected_recurrence") and "cancer_history" not in r.facts:
            r.facts["cancer_history"] = True
            r.assumptions.append("personal history of breast cancer inferred from the follow-up context")
        _purpose(r, ind, heard["asked"], kb, signs)
        if ind.get("phase") in ("surveillance", "suspected_recurrence") and "surgery" not in r.facts \
                and "surgery" not in r.evidence and (ev := r.evidence.get("cancer_history") or (
                    r.evidence.get("phase") if _FOLLOW_UP_WORD.search(r.text) else None)):
            # A breast cancer treated and followed up was almost always operated on: the operation
            # is evidence of surgery whose kind is not said, so a variant that turns on the kind
            # (breast-conserving or mastectomy) is left to that question, never guessed.
            r.evidence["surgery"] = list(ev[:1])
            r.assumptions.append("a treated breast cancer: an operation is taken as done, but its kind "
                                 "(lumpectomy or mastectomy) is not stated")
    profile_keys = set(PatientProfile.model_fields) - {"evidence"}
    facts = {k: v for k, v in r.facts.items() if k in profile_keys}
    facts.update(symptoms=heard["symptoms"], denied_symptoms=heard["denied_symptoms"],
                 findings=heard["findings"], labs=heard["labs"], family_history=heard["family_history"])
    profile_evidence = {k: v for k, v in r.evidence.items()
                        if k.split(":")[0] in profile_keys | {"labs", "denied", "invasive", "neoadjuvant_mention"}}
    unread = unread_cues(r, found)
    if unread and ind.get("phase") in ("screening", "surveillance"):
        words = ", ".join(f'"{e.text}"' for e in unread)
        r.assumptions.append(f"words not understood ({words}) may describe a new problem: the "
                             f"routine {ind['phase']} reading is not chosen on its own")
    back = _to_original(original, expanded)
    profile = PatientProfile(**facts, evidence={k: [back(e) for e in v] for k, v in profile_evidence.items()})
    indication = Indication(
        **ind,
        assumptions=list(dict.fromkeys(r.assumptions)),
        evidence={k: [back(e) for e in v] for k, v in r.evidence.items()
                  if k in ("phase", "purpose", "asked_procedures")},
        unread=[back(e) for e in unread],
    )
    return profile, indication


# Facts that describe a tumour: in a sentence about another organ's cancer they are that cancer's.
_TUMOR_FACTS = ("er", "pr", "her2", "her2_ihc", "her2_ish", "histology", "stage", "t", "n", "m",
                "tumor_size_mm", "grade", "cancer_history")


def _span(r: Reading, key: str) -> tuple[int, int]:
    ev = r.evidence[key][0]
    return ev.start or 0, ev.end or 0


#: Treatment facts read by pattern: in a clause about a relative or another person, theirs.
_TREATMENT_FACTS = ("surgery", "reconstruction", "cancer_history", "months_since_treatment")


@functools.lru_cache(maxsize=1)
def _person_word() -> re.Pattern[str]:
    return re.compile(rf"\b(?:my|her|his|their|our|a)\s+(?:{person_words()})(?:'s)?\b", re.IGNORECASE)


_SPEAKER_IS_PATIENT = _FACT_WORDS["speaker_is_patient"].compiled()
_FIRST_PERSON = _FACT_WORDS["first_person"].compiled()


def _clause_person(text: str, start: int) -> re.Match[str] | None:
    """The relative or other person a clause is about, when they are named before `start` in
    its own clause with no "I" between them and it ("My mother is being treated for ...")."""
    clause = max(text.rfind(c, 0, start) for c in ".!?;\n") + 1
    before = text[clause:start]
    person = next(reversed(list(_person_word().finditer(before))), None)
    if person is None or _FIRST_PERSON.search(before[person.end():]):
        return None
    return person


def _relatives_cancer(r: Reading, found: list[Mention]) -> list[Mention]:
    """A cancer named in a relative's own clause is theirs even where a word such as "stage"
    ended the family scope ("My mother is being treated for stage III breast cancer"), when
    the writer also speaks of their own body; a carer writing only about the relative ("my mom
    is 66 and was just diagnosed ...") is writing about the patient."""
    ctx = load_rules().context
    q_start, q_end = _question_span(r.text)
    asked_for = _asked_on_behalf(r.text)
    speaker = bool(_SPEAKER_IS_PATIENT.search(r.text))
    out = []
    for mt in found:
        if mt.code.startswith("cancer:") and mt.experiencer != "other" and \
                (person := _clause_person(r.text, mt.start)):
            who = person.group(0).split()[-1].lower().removesuffix("'s")
            described = speaker or any((e.start or 0) < mt.start for e in r.evidence.get("age", []))
            if who in ctx.other_persons and not asked_for and described:
                # "62M; his wife was just diagnosed with breast cancer": where the patient is someone
                # described apart, a spouse's or friend's cancer is neither theirs nor family history
                # ("my wife just got told she has ..." with no one else described is the patient's).
                mt = replace(mt, family=False, other_person=True)
            elif speaker and who in ctx.relatives and mt.experiencer == "patient":
                mt = replace(mt, family=True)
        elif speaker and not asked_for and not mt.code.startswith("cancer:") and \
                mt.experiencer == "patient" and (person := _clause_person(r.text, mt.start)) and \
                person.group(0).split()[-1].lower().removesuffix("'s") in ctx.other_persons:
            # "My friend with implants had an MRI that showed a rupture. Mine are saline, I'm 36":
            # what is said in the friend's own clause is the friend's, past "showed" that ends
            # ConText's scope, when the writer speaks of herself apart.
            mt = replace(mt, other_person=True)
        out.append(mt)
    return out


@functools.lru_cache(maxsize=1)
def _nobody_word() -> re.Pattern[str]:
    ctx = load_rules().context
    nobody, kin = alternatives(ctx.nobody), alternatives({*ctx.relatives, "family", "relatives"})
    return re.compile(rf"\b(?:{nobody})\b[^.;]{{0,25}}?\b(?:{kin})\b", re.IGNORECASE)


def _nobody_in_family(r: Reading, found: list[Mention]) -> list[Mention]:
    """"Nobody in my family has had breast cancer": the cancer is said of the family, and denied;
    it is neither the patient's history nor a relative's."""
    out = []
    for mt in found:
        if mt.code.startswith("cancer:") and _nobody_word().search(r.text, mt.sentence_start, mt.start):
            mt = replace(mt, family=True, negated=True)
        out.append(mt)
    return out


#: The vocabulary code for a possible problem with an implant.
_IMPLANT_PROBLEM = "implant_rupture_suspected"


@functools.lru_cache(maxsize=1)
def _implant_change_words() -> tuple[set[str], re.Pattern[str], re.Pattern[str]]:
    """reading.yaml ``implant_change``: the change words, the words that refer back to the
    implant, and what a test looks for after a change word (built once)."""
    rules = load_rules().implant_change
    return (set(rules.words),
            re.compile(rf"\b(?:{alternatives(rules.refer_back)})\b", re.IGNORECASE),
            re.compile(rf"\s+(?:{alternatives(rules.not_before)})\b", re.IGNORECASE))


def _implant_change(r: Reading, found: list[Mention], heard: dict[str, Any]) -> None:
    """A change said of a breast implant ("the left one looks flatter", "my implant feels harder")
    is a possible implant problem: a cue word of ``implant_change`` (reading.yaml) that no fact
    covers, in the sentence naming the implant or the next, is read as one, and said."""
    implants = [e.start or 0 for e in r.evidence.get("implant", [])]
    if not implants or _IMPLANT_PROBLEM in heard["symptoms"] or r.facts.get("asymptomatic"):
        return
    changes, refer, sought = _implant_change_words()
    sentence = {mt.start: (mt.sentence_start, mt.sentence_end) for mt in found}
    for cue in unread_cues(r, found):
        if cue.text.lower() not in changes or (cue.start or 0) not in sentence or \
                sought.match(r.text, cue.end or 0):
            continue
        start, end = sentence[cue.start or 0]
        # from the start of the sentence before this one to the end of this one
        previous_end = len(r.text[:start].rstrip(" \t\n.!?"))
        before = max(r.text.rfind(c, 0, previous_end) for c in ".!?\n") + 1
        here = any(start <= at < end for at in implants)
        back = any(before <= at < start for at in implants) and refer.search(r.text, start, cue.start or 0)
        if here or back:
            heard["symptoms"].append(_IMPLANT_PROBLEM)
            r.cite(f"symptoms:{_IMPLANT_PROBLEM}", cue.start or 0, cue.end or 0)
            r.assumptions.append(f'"{cue.text}" is said of the implant: read as a possible implant problem')
            return


def _phrases(phrases: list[str]) -> re.Pattern[str]:
    """Phrases in the vocabulary's syntax ("[a|b]", a trailing "?") as one pattern."""
    return re.compile("|".join(phrase_regex(p.lower()) for p in phrases), re.IGNORECASE)


_FOCAL_PAIN = "breast_pain_focal"
_DIFFUSE_PAIN = "breast_pain_diffuse"
_BREAST_PAIN = "breast_pain"


@functools.lru_cache(maxsize=1)
def _pain_place_words() -> tuple[set[str], re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """reading.yaml ``pain_place``: the pain cues, the place and spread phrases, the breast
    words and those of the breast's place after an operation (built once)."""
    rules = load_rules().pain_place
    return (set(rules.pain), _phrases(rules.place), _phrases(rules.spread), _phrases(rules.body),
            _phrases(rules.operated))


def _pain_place(r: Reading, found: list[Mention], heard: dict[str, Any]) -> None:
    """Where breast pain is, from words apart from it ("one spot on my breast that hurts"): an
    unread pain cue of ``pain_place`` (reading.yaml), or breast pain read without its kind, with
    a breast word in its sentence or the next (or, after an operation on the breast, a word of
    its place: "the chest wall") is focal with a place phrase, diffuse with a spread phrase,
    and breast pain of an unknown kind with neither; each reading is said."""
    if any(code.startswith("breast_pain_") for code in heard["symptoms"]):
        return  # focal or diffuse already said
    pains, place, spread, body, operated = _pain_place_words()
    operated_on = r.facts.get("surgery") in ("lumpectomy", "mastectomy", "bilateral_mastectomy",
                                             "prophylactic_mastectomy")
    sentence = {mt.start: (mt.sentence_start, mt.sentence_end) for mt in found}
    # an unread pain word, or breast pain the vocabulary read without saying where
    generic = [Evidence(text=mt.text, start=mt.start, end=mt.end) for mt in found
               if mt.code == _BREAST_PAIN and mt.status == "present"]
    for cue in generic + unread_cues(r, found):
        if (cue.text.lower() not in pains and cue not in generic) or (cue.start or 0) not in sentence:
            continue
        start, end = sentence[cue.start or 0]
        # this sentence and the next
        following = min((i for i in (r.text.find(c, end) for c in ".!?\n") if i >= 0), default=len(r.text))
        window = r.text[start:max(end, following)]
        if not (body.search(window) or operated_on and operated.search(window)):
            continue
        focal, diffuse = place.search(window), spread.search(window)
        if focal and not diffuse or diffuse and not focal:
            code, where = (_FOCAL_PAIN, focal) if focal else (_DIFFUSE_PAIN, diffuse)
            assert where is not None
            if _BREAST_PAIN in heard["symptoms"]:
                heard["symptoms"].remove(_BREAST_PAIN)
            heard["symptoms"].append(code)
            r.cite(f"symptoms:{code}", cue.start or 0, cue.end or 0)
            r.cite(f"symptoms:{code}", start + where.start(), start + where.end())
            kind = "focal" if code == _FOCAL_PAIN else "diffuse or cyclical"
            r.assumptions.append(f'"{cue.text}" said of "{where.group(0)}": read as {kind} breast pain')
        elif _BREAST_PAIN not in heard["symptoms"]:
            # Pain in the breast whose kind the words do not settle (or settle both ways): the
            # engine asks whether it is focal rather than guess.
            heard["symptoms"].append(_BREAST_PAIN)
            r.cite(f"symptoms:{_BREAST_PAIN}", cue.start or 0, cue.end or 0)
            r.assumptions.append(f'"{cue.text}" is said of the breast: read as breast pain, its kind '
                                 "(focal or diffuse) not stated")
        return


@functools.lru_cache(maxsize=1)
def _discharge_words() -> tuple[re.Pattern[str], ...]:
    """reading.yaml ``discharge_kind``: nipple words, fluid, pathologic and physiologic phrases."""
    rules = load_rules().discharge_kind
    return tuple(_phrases(ws) for ws in (rules.nipple, rules.fluid, rules.pathologic, rules.physiologic))


_DISCHARGE = ("nipple_discharge_pathologic", "nipple_discharge_physiologic", "nipple_discharge")


def _discharge_kind(r: Reading, found: list[Mention], heard: dict[str, Any]) -> None:
    """Nipple discharge said in words apart ("blood coming out of one nipple all by itself"):
    a sentence of the patient's with a nipple word and a fluid phrase, where the vocabulary read
    no discharge, is pathologic discharge with a pathologic phrase (in it or the next two
    sentences), physiologic with only physiologic ones, and discharge of an unknown kind with
    neither (reading.yaml ``discharge_kind``); a phrase just after a denial does not count."""
    # Discharge the vocabulary read without its kind ("fluid coming out of his nipple") is
    # refined here as well; a kind already read, or a denial, stands.
    if any(code in heard["symptoms"] for code in _DISCHARGE[:2]) or \
            any(code in heard.get("denied_symptoms", ()) for code in _DISCHARGE):
        return
    nipple, fluid, pathologic, physiologic = _discharge_words()
    mine = {(mt.sentence_start, mt.sentence_end) for mt in found if mt.experiencer == "patient"} or \
        {(0, len(r.text))}
    for start, end in sorted(mine):
        sentence = r.text[start:end]
        if not nipple.search(sentence) or not (said := fluid.search(sentence)):
            continue
        window_end = end
        for _ in range(2):  # and the next two sentences
            nxt = min((i for i in (r.text.find(c, window_end) for c in ".!?") if i >= 0), default=len(r.text))
            window_end = min(len(r.text), nxt + 1)
        window = r.text[start:window_end]

        def meant(pattern: re.Pattern[str], window: str = window) -> re.Match[str] | None:
            return next((m for m in pattern.finditer(window)
                         if not NEGATED_BEFORE.search(window[max(0, m.start() - 20):m.start()])), None)

        sign = meant(pathologic) or meant(physiologic)
        code = _DISCHARGE[2] if sign is None else _DISCHARGE[0] if sign.re is pathologic else _DISCHARGE[1]
        if code in heard["symptoms"]:
            return  # read already, and nothing here says which kind
        if _DISCHARGE[2] in heard["symptoms"]:
            heard["symptoms"].remove(_DISCHARGE[2])
        heard["symptoms"].append(code)
        r.cite(f"symptoms:{code}", start + said.start(), start + said.end())
        kind = {"nipple_discharge": "of an unknown kind"}.get(code, code.rsplit("_", 1)[1])
        why = f' ("{sign.group(0)}")' if sign is not None else ""
        r.assumptions.append(f'"{said.group(0)}" from the nipple: read as nipple discharge, {kind}{why}')
        return


@functools.lru_cache(maxsize=1)
def _lump_site_words() -> tuple[set[str], re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """reading.yaml ``lump_site``: the lump codes and the breast, armpit, both-sides and
    elsewhere phrases (built once)."""
    rules = load_rules().lump_site
    return (set(rules.lumps), _phrases(rules.breast), _phrases(rules.axilla), _phrases(rules.both),
            _phrases(rules.elsewhere))


_AXILLARY_LUMP = "axillary_lump"
_AXILLARY_LUMP_BOTH = "axillary_lump_bilateral"


def _lump_site(r: Reading, found: list[Mention]) -> list[Mention]:
    """A lump read as a breast lump whose own words do not place it is placed by its sentence
    (reading.yaml ``lump_site``): in the armpit, in both armpits, or elsewhere in the body
    (then it is no breast finding); each reading is said."""
    lumps, breast, axilla, both, elsewhere = _lump_site_words()
    out: list[Mention] = []
    for mt in found:
        if mt.code not in lumps or breast.search(mt.text):
            out.append(mt)
            continue
        sentence = r.text[mt.sentence_start:mt.sentence_end]
        # a breast word just after a denial ("Not about breasts: ... a lump on her neck") places nothing
        if any(not NEGATED_BEFORE.search(sentence[max(0, b.start() - 30):b.start()])
               for b in breast.finditer(sentence)):
            out.append(mt)
        elif where := axilla.search(sentence):
            code = _AXILLARY_LUMP_BOTH if both.search(sentence) else _AXILLARY_LUMP
            out.append(replace(mt, code=code))
            r.assumptions.append(f'"{mt.text}" is said of "{where.group(0)}": read as a lump in the '
                                 f'{"armpits" if code == _AXILLARY_LUMP_BOTH else "armpit"}')
        elif where := elsewhere.search(sentence):
            r.assumptions.append(f'"{mt.text}" is said of "{where.group(0)}": not a breast lump')
        else:
            out.append(mt)
    return out


@functools.lru_cache(maxsize=1)
def _posing_words() -> tuple[re.Pattern[str], re.Pattern[str]]:
    ctx = load_rules().context
    return (re.compile(rf"\b(?:{alternatives(ctx.posed)})\b", re.IGNORECASE),
            re.compile(rf"\b(?:{alternatives(ctx.hypothetical)})\s+(?:\w+\s+){{0,2}}$", re.IGNORECASE))


def _posed_case(r: Reading, found: list[Mention]) -> list[Mention]:
    """A question that poses a case ("hypothetically, if a 31-year-old had pain in one spot,
    what would the first scan be?") asks about that case: when the text states nothing of the
    patient's own as present, its facts under "if" are read as the case, and said. What a test
    looks for ("checked for a silent rupture") stays hypothetical."""
    if any(mt.status == "present" and not mt.code.startswith(CUE) for mt in found):
        return found
    posing, sought = _posing_words()
    out, posed = [], []
    for mt in found:
        before = r.text[mt.sentence_start:mt.start]
        if mt.hypothetical and mt.experiencer == "patient" and posing.search(before) \
                and not sought.search(before):
            mt = replace(mt, hypothetical=False)
            posed.append(mt.text)
        out.append(mt)
    if posed:
        r.assumptions.append("the question poses a case (" + ", ".join(f'"{t}"' for t in posed)
                             + "): read as that case")
    return out


def _not_kin(text: str, person: re.Match[str]) -> str | None:
    """The words of the person named, when they are no blood relative of the patient: another
    person ("my friend"), or a relative's spouse or a spouse's relative ("my husband's sister",
    "her brother's wife"); None for the patient's own kin."""
    others = load_rules().context.other_persons
    said = person.group(0)
    owned = re.match(r"(?:'s)?\s+(\w+)", text[person.end():]) if said.lower().endswith("'s") or \
        text.startswith("'s", person.end()) else None
    chain = said + (text[person.end():person.end() + owned.end()] if owned else "")
    words = [w.lower().removesuffix("'s") for w in re.findall(r"[\w'-]+", chain)]
    return chain if any(w in others for w in words) else None


def _someone_elses_risk(r: Reading) -> None:
    """'My husband's sister has the BRCA1 gene': a risk said in the clause of someone who is no
    blood relative is not the patient's (a relative's gene or cancer still raises it)."""
    ev = r.evidence.get("risk")
    if "risk" not in r.facts or not ev:
        return
    start = ev[0].start or 0
    if (person := _clause_person(r.text, start)) is not None and (who := _not_kin(r.text, person)):
        r.assumptions.append(f'"{r.text[start:ev[0].end or start]}" is about {who}, no blood '
                             "relative: not the patient's risk")
        del r.facts["risk"]
        r.evidence.pop("risk", None)


def _someone_elses_treatment(r: Reading, subject: str | None) -> None:
    """'My sister had a lumpectomy years ago': an operation said of a relative or another
    person in their own clause (no "I" between the person and the words) is not the patient's,
    unless the question is asked on that person's behalf ("... which scan she needs?") or the
    text is about them ("my mom had her breast removed ... now she says")."""
    if _asked_on_behalf(r.text):
        return
    for key in _TREATMENT_FACTS:
        ev = r.evidence.get(key)
        if key not in r.facts or not ev:
            continue
        start = ev[0].start or 0
        if (person := _clause_person(r.text, start)) is None or (
                subject is not None and subject in person.group(0).lower().split()):
            continue
        r.assumptions.append(f'"{r.text[start:ev[0].end or start]}" is about {person.group(0)}, '
                             "not the patient")
        del r.facts[key]
        r.evidence.pop(key, None)


def _whose(r: Reading, found: list[Mention]) -> None:
    """Keep only the patient's breast-cancer facts: a fact read from the words of a relative's
    or another person's cancer, or from a sentence about another organ's cancer with no breast
    cancer in it, is not the patient's breast cancer ("family history of breast cancer", "h/o
    lung adenocarcinoma", "HER2 3+ gastric adenocarcinoma")."""
    others = [mt for mt in found if mt.organ and (mt.experiencer != "patient" or mt.organ != "breast")]
    if not others:
        return
    breast_sentences = {mt.sentence_start for mt in found
                        if mt.organ == "breast" and mt.experiencer == "patient"}
    for key in _TUMOR_FACTS:
        ev = r.evidence.get(key)
        if key not in r.facts or not ev:
            continue
        start, end = ev[0].start or 0, ev[0].end or 0
        for mt in others:
            overlaps = start < mt.end and mt.start < end
            same_sentence = mt.sentence_start <= start < mt.sentence_end and \
                mt.sentence_start not in breast_sentences
            if overlaps or same_sentence:
                whose = {"relative": "a relative's", "other": "another person's"}.get(mt.experiencer)
                about = f"{whose} cancer" if whose else f"a {mt.organ} cancer, not a breast cancer"
                r.assumptions.append(f'"{r.text[start:end]}" is about {about} ("{mt.text}")')
                del r.facts[key]
                r.evidence.pop(key, None)
                break
    current = next((mt for mt in others if mt.experiencer == "patient" and mt.assertion == "present"), None)
    past = next((mt for mt in others if mt.experiencer == "patient" and mt.assertion == "historical"), None)
    if other := current or past:
        r.set("other_cancer", other.text, other.start, other.end)


_THIRD_PERSON = _FACT_WORDS["third_person"].compiled()


# Someone telling about a relative who is the one with the problem: "my mom had breast cancer
# 6 years ago. now she has a cough ... her doctor thinks it came back".
_THIRD_PERSON_NOW = _FACT_WORDS["third_person_now"].compiled()


@functools.lru_cache(maxsize=1)
def _people() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The reading rules' relatives and other people: any of them as a word, and a text's first
    words naming one of the writer's ("my mom's ...")."""
    who = person_words()
    return (re.compile(rf"\b(?:{who})\b", re.IGNORECASE),
            re.compile(rf"^\W*(?:my|our) (?P<who>{who})(?:'s)?\b", re.IGNORECASE))


def _told_of_relative(r: Reading) -> str | None:
    """The person a text is about, when it opens with them, goes on in the third person and
    says nothing of the speaker's own body or age, nor asks for the speaker ("my sister had
    breast cancer; she is fine now. What screening should I get?" is the writer's question);
    None otherwise."""
    m = _people()[1].search(r.text)
    if m is None or _SPEAKER_IS_PATIENT.search(r.text) or not (
            _THIRD_PERSON_NOW.search(r.text, m.end()) or ASKED_FOR_SOMEONE.search(r.text, m.end())):
        return None
    if "?" in r.text and _FIRST_PERSON.search(r.text, *_question_span(r.text)):
        return None
    return m.group("who").lower()


def _asked_for(r: Reading, found: list[Mention], who: str | None) -> list[Mention]:
    """Asked on someone's behalf ("my husband ... his left nipple ... what scan does he need?"):
    the person asked about is the patient, so a symptom or finding said of them in the third
    person is the patient's. Cancers keep their scope: his mother's cancer is family history.
    A text about a relative from its first words ("my mom had breast cancer ... now she has")
    makes that relative the patient, their cancer included."""
    if who is not None:
        if "age" not in r.facts and (m := PROXY_AGE.search(r.text)):
            r.set("age", int(m.group("age")), m.start(), m.end())  # "my dad is 64 and he says ..."
        others = _people()[0]
        out = []
        for mt in found:
            sentence = r.text[mt.sentence_start:mt.sentence_end].lower()
            named = {w for w in others.findall(sentence)} - {who}
            if (mt.family or mt.other_person) and not named:
                mt = replace(mt, family=False, other_person=False)
            out.append(mt)
        r.assumptions.append(f'the text is about the writer\'s {who}: read as the patient')
        return out
    if not _asked_on_behalf(r.text):
        return found
    out = []
    for mt in found:
        if (mt.family or mt.other_person) and not mt.code.startswith(("cancer:", CUE)) and \
                _THIRD_PERSON.search(r.text, mt.sentence_start, mt.sentence_end):
            r.assumptions.append(f'"{mt.text}" is read as the patient\'s: the question is asked '
                                 "on their behalf")
            mt = replace(mt, family=False, other_person=False)
        out.append(mt)
    return out


def _to_original(original: str, expanded: CleanText) -> Any:
    """Map evidence in the expanded text back to the words as written."""
    if expanded.text == original:
        return lambda e: e

    def back(e: Evidence) -> Evidence:
        if e.start is None or e.end is None:
            return e
        s, t = expanded.span(e.start, e.end)
        # Part of a word the reader expanded ("pregnancy" of "IUP") quotes the whole word.
        while 0 < s < t and original[s - 1].isalnum() and original[s].isalnum():
            s -= 1
        while s < t < len(original) and original[t].isalnum() and original[t - 1].isalnum():
            t += 1
        return e.model_copy(update={"text": original[s:t], "start": s, "end": t})

    return back


def read_profile(text: str, kb: KnowledgeBase) -> PatientProfile:
    """The facts a text states about the patient (what a patient question's slots need)."""
    profile, _ = read_scenario(text, kb)
    return profile

"""The record reader on synthetic reports in several layouts, PDFs, FHIR, merging and bad input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scanwise.domain.kb import KnowledgeBase
from scanwise.records import MAX_BYTES, RecordError, RecordReading, read_records

FIXTURES = Path(__file__).parent / "fixtures" / "records"


def read(kb: KnowledgeBase, *names: str) -> RecordReading:
    return read_records([(n, (FIXTURES / n).read_bytes()) for n in names], kb)


def quoted(reading: RecordReading, field: str) -> str:
    """The words of the first evidence, checked against the file at its stated position."""
    ev = reading.evidence[field][0]
    if ev.start is not None:
        original = (FIXTURES / ev.source).read_text(encoding="utf-8")
        assert original[ev.start:ev.end] == ev.text
    return ev.text


def test_cap_synoptic_report(kb: KnowledgeBase) -> None:
    r = read(kb, "cap_synoptic.txt")
    p = r.profile
    assert (p.laterality, p.histology, p.tumor_size_mm, p.grade) == ("left", "ductal", 18, 2)
    assert (p.er, p.pr, p.her2, p.her2_ihc, p.her2_ish) == ("positive", "positive", "negative", "1+", None)
    assert (p.ki67_percent, p.t, p.n, p.m) == (15, "pT1c", "pN0(sn)", None)
    assert (p.nodes_positive, p.nodes_examined, p.surgery) == (0, 2, "lumpectomy")
    assert p.er_percent == 95
    assert "Positive" in quoted(r, "er")
    assert "1.8" in quoted(r, "tumor_size_mm")
    assert not r.conflicts


def test_narrative_report_words_and_roman_grade(kb: KnowledgeBase) -> None:
    p = read(kb, "narrative.txt").profile
    assert (p.histology, p.grade, p.laterality, p.tumor_size_mm) == ("lobular", 2, "right", 24)
    assert (p.nodes_positive, p.nodes_examined) == (4, 14)  # "Four (out of fourteen)"
    assert (p.er, p.pr, p.her2, p.her2_ihc) == ("positive", "negative", "negative", "0")
    assert p.risk is None  # LCIS beside a cancer is not a screening risk category


def test_core_biopsy_reflex_ish_decides_her2(kb: KnowledgeBase) -> None:
    r = read(kb, "core_biopsy_reflex_ish.txt")
    p = r.profile
    assert (p.her2_ihc, p.her2_ish, p.her2_ish_ratio, p.her2) == ("2+", "amplified", 2.6, "positive")
    assert (p.er, p.pr, p.grade, p.histology) == ("negative", "negative", 3, "ductal")
    assert p.tumor_size_mm is None  # a core's linear extent is not the tumor size
    assert p.ki67_percent == 50
    assert any("range" in w for w in r.warnings)  # "40-50%" is said out loud


def test_post_neoadjuvant_uses_residual_not_tumor_bed(kb: KnowledgeBase) -> None:
    r = read(kb, "post_neoadjuvant.txt")
    p = r.profile
    assert (p.t, p.n, p.neoadjuvant) == ("ypT1a", "ypN0", "completed")
    assert p.tumor_size_mm == 4
    assert (p.nodes_positive, p.nodes_examined) == (0, 3)


def test_dcis_only_has_no_invasive_grade_or_size(kb: KnowledgeBase) -> None:
    p = read(kb, "dcis_only.txt").profile
    assert p.histology == "dcis"
    assert p.grade is None and p.tumor_size_mm is None
    assert p.er == "positive"


def test_clinic_note_negations_and_family_history(kb: KnowledgeBase) -> None:
    r = read(kb, "clinic_note.txt")
    p = r.profile
    assert "palpable_mass" in p.symptoms
    assert {"bone_pain", "cough", "weight_loss"} <= set(p.denied_symptoms)
    assert not set(p.symptoms) & set(p.denied_symptoms)
    assert p.family_history == ["mother: breast cancer"]
    assert p.cancer_history is None  # the relative's cancer is not the patient's history
    assert (p.er, p.pr, p.her2, p.laterality, p.age) == ("positive", "positive", "negative", "left", 58)
    assert p.labs == {"alp": "normal", "lft": "normal"}


def test_ocr_noise(kb: KnowledgeBase) -> None:
    r = read(kb, "ocr_noisy.txt")
    p = r.profile
    assert (p.grade, p.tumor_size_mm, p.histology) == (3, 31, "ductal")  # "SBRgrade 3"
    assert (p.er, p.pr, p.her2_ihc) == ("positive", "negative", "1+")  # "POSTIVE", "HER 2 NEU"
    assert (p.t, p.n, p.m) == ("pT2", "pN1a", "MX")  # "pT2NlaMX"
    assert (p.nodes_positive, p.nodes_examined) == (2, 14)  # "two. lymphnodes (2/14)"
    assert quoted(r, "n") == "Nla"


@pytest.mark.parametrize(("text", "want"), [
    # OCR and layouts seen in the TCGA reports (paraphrased)
    ("Progesterone receptor: 0% positive cells. Estrogen receptor: 5% positive cells.",
     {"pr": "negative", "er": "positive"}),
    ("Estrogen receptors: 25% positive. Her2/neu: 15% positive cells.", {"her2": None, "her2_ihc": None}),
    ("HER2 protein stained with the 4B5 antibody. Score=2+, FISH verification recommended.",
     {"her2_ihc": "2+", "her2": "equivocal"}),
    ("HER-2/neu (c-erb-B2). NEGATIVE 0.", {"her2_ihc": "0", "her2": "negative"}),
    ("Quantitated by image analysis: ER. 0%. PR. 0%. HER2. 0.0%.",
     {"er": "negative", "pr": "negative", "her2_ihc": "0", "her2": "negative"}),
    ("HER2. 5%.", {"her2_ihc": None, "her2": None}),  # some staining: the score is not said
    ("THEREFORE, c-erb82 (KER-. 2/NEU) IS INTERPRETED AS POSITIVE (SCORE 3+).",
     {"her2_ihc": "3+", "her2": "positive"}),
    ("STAINING IS IDENTIFIED FOR ESTROGEN RECEPTOR (50%) AND ALSO FOR PROGESTERONT. RECEPTOR. (40%) . "
     "THEREFORE, BOTH ARE INTERPRITED AS POSITIVE.", {"er": "positive", "pr": "positive"}),
])
def test_receptor_results_in_real_report_layouts(kb: KnowledgeBase, text: str, want: dict[str, str]) -> None:
    p = read_records([("report.txt", f"Invasive ductal carcinoma. {text}".encode())], kb).profile
    assert {k: getattr(p, k) for k in want} == want


@pytest.mark.parametrize(("ihc", "ish", "want"), [
    ("0", None, "negative"), ("1+", None, "negative"), ("2+", None, "equivocal"), ("3+", None, "positive"),
    ("2+", "amplified", "positive"), ("2+", "not amplified", "negative"), (None, "amplified", "positive"),
    ("1+", "not amplified", "negative"), ("3+", "amplified", "positive"),
    ("3+", "not amplified", None), ("0", "amplified", None),  # discordant: left to the care team
    (None, None, None),
])
def test_her2_status_from_ihc_and_ish(ihc: str | None, ish: str | None, want: str | None) -> None:
    from scanwise.domain.profile import her2_from_tests

    assert her2_from_tests(ihc, ish)[0] == want


def test_discordant_her2_tests_are_flagged_not_resolved(kb: KnowledgeBase) -> None:
    text = b"Invasive ductal carcinoma. HER2 (HercepTest): 3+. HER2 FISH: not amplified, ratio 1.4."
    r = read_records([("discordant.txt", text)], kb)
    assert (r.profile.her2_ihc, r.profile.her2_ish, r.profile.her2) == ("3+", "not amplified", None)
    assert r.profile.her2_ish_ratio == 1.4  # "not amplified, ratio 1.4": a ratio with no verb
    assert any("disagree" in w for w in r.warnings)


def test_newer_dated_record_wins_and_says_so(kb: KnowledgeBase) -> None:
    r = read(kb, "biopsy_2023.txt", "resection_2024.txt")
    assert r.profile.pr == "negative"
    assert r.profile.er == "positive"  # both agree
    assert any("pr: negative" in w and "newer record wins" in w for w in r.warnings)
    assert {e.source for e in r.evidence["er"]} == {"biopsy_2023.txt", "resection_2024.txt"}


def test_undated_disagreement_is_a_conflict(kb: KnowledgeBase) -> None:
    r = read(kb, "biopsy_2023.txt", "undated_er_negative.txt")
    assert r.profile.er is None
    (conflict,) = [c for c in r.conflicts if c.field == "er"]
    assert {v.value for v in conflict.values} == {"positive", "negative"}
    assert {v.evidence[0].source for v in conflict.values} == {"biopsy_2023.txt", "undated_er_negative.txt"}


def test_conflict_inside_one_report(kb: KnowledgeBase) -> None:
    text = b"Left breast invasive ductal carcinoma. ER: Positive (80%). Addendum: ER: Negative (0%)."
    r = read_records([("two_er.txt", text)], kb)
    assert r.profile.er is None
    assert {c.field for c in r.conflicts} == {"er", "er_percent"}


def test_mcode_bundle(kb: KnowledgeBase) -> None:
    r = read(kb, "mcode_bundle.json")
    p = r.profile
    assert (p.sex, p.laterality, p.histology, p.tumor_size_mm, p.grade) == ("female", "left", "ductal", 18, 2)
    assert (p.er, p.pr, p.her2, p.her2_ihc, p.ki67_percent) == ("positive", "positive", "negative", "1+", 15)
    assert (p.t, p.n, p.stage, p.surgery) == ("pT1c", "pN0", "IA", "lumpectomy")
    assert r.evidence["er"][0].source == "mcode_bundle.json#Observation/er-1"
    assert r.evidence["laterality"][0].source == "mcode_bundle.json#Condition/primary-1"


def _staging_observation(oid: str, system: str, code: str, value: str) -> dict[str, object]:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "display": value}]}}


@pytest.mark.parametrize(("system", "codes", "want"), [
    # mCODE STU3/STU4 staging types (SNOMED CT): pT, pN, pM, pathologic stage group; values as
    # mCODE's SNOMED CT displays
    ("http://snomed.info/sct", ("384625004", "371494008", "371497001", "399588009"),
     ("pT2", "pN1a", "pM0", "IIB")),
    ("http://snomed.info/sct", ("399504009", "399534004", "399387003", "399537006"),
     ("cT2", "cN1a", "cM0", "IIB")),
    # LOINC "other" classification and SNOMED "T category": the type is not coded, so only a
    # prefix written in the value counts
    ("http://loinc.org", ("21911-3", "21912-1", "21913-9", "21914-7"), ("T2", "N1a", "M0", "IIB")),
    ("http://snomed.info/sct", ("78873005", "277206009", "277208005", "399390009"),
     ("T2", "N1a", "M0", "IIB")),
])
def test_mcode_staging_codes(kb: KnowledgeBase, system: str, codes: tuple[str, ...],
                             want: tuple[str, ...]) -> None:
    ajcc = "American Joint Committee on Cancer {} (qualifier value)"
    values = [ajcc.format(v) for v in ("T2", "N1a", "M0")] + ["American Joint Committee on Cancer stage IIB"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": _staging_observation(f"obs-{i}", system, code, value)}
        for i, (code, value) in enumerate(zip(codes, values, strict=True))]}
    r = read_records([("staging.json", json.dumps(bundle).encode())], kb)
    if codes[0] in ("384625004", "399504009"):  # the prefix comes from the coded staging type
        assert (r.profile.t, r.profile.n) == (want[0], want[1])
    else:
        assert (r.profile.t, r.profile.n, r.profile.m) == want[:3]
    assert r.profile.stage == want[3]
    assert r.evidence["t"][0].source == "staging.json#Observation/obs-0"


@pytest.mark.parametrize(("code", "value", "field", "want"), [
    ("21900-6", "pN0(i+)(sn)", "n", "pN0(i+)(sn)"),  # isolated tumor cells, sentinel node: kept whole
    ("21899-0", "ypT1c", "t", "ypT1c"),  # after neoadjuvant therapy: the written prefix wins
    ("21905-5", "T1mic", "t", "cT1mi"),  # the 7th edition spelling, read as the 8th's T1mi
    ("21907-1", "MX", "m", "cMX"),
])
def test_coded_tnm_is_read_by_the_staging_parser(kb: KnowledgeBase, code: str, value: str, field: str,
                                                 want: str) -> None:
    obs = _staging_observation("obs-1", "http://loinc.org", code, value)
    r = read_records([("staging.json", json.dumps(obs).encode())], kb)
    assert getattr(r.profile, field) == want


def test_a_coded_tnm_value_that_is_no_category_is_named(kb: KnowledgeBase) -> None:
    obs = _staging_observation("obs-1", "http://loinc.org", "21905-5", "T9")
    r = read_records([("staging.json", json.dumps(obs).encode())], kb)
    assert r.profile.t is None
    assert any("the T category 'T9' was not understood" in w for w in r.warnings)


def test_a_tnm_value_read_from_its_code_where_its_words_say_nothing(kb: KnowledgeBase) -> None:
    obs = _staging_observation("obs-1", "http://loinc.org", "21899-0", "see pathology report")
    obs["valueCodeableConcept"] = {"text": "see pathology report",
                                   "coding": [{"system": "urn:example:ajcc", "code": "T2"}]}
    r = read_records([("staging.json", json.dumps(obs).encode())], kb)
    assert r.profile.t == "pT2"  # the code's category, the prefix from the pathologic staging type
    assert r.evidence["t"][0].text == "see pathology report"


def test_the_reader_keeps_the_typed_fhir_resources() -> None:
    from fhir.resources.R4B.observation import Observation
    from fhir.resources.R4B.patient import Patient

    from scanwise.records.fhir import parse_fhir

    bundle = json.loads((FIXTURES / "mcode_bundle.json").read_bytes())
    resources = parse_fhir(json.dumps(bundle).encode(), "mcode_bundle.json")
    assert len(resources) == len(bundle["entry"])
    assert any(isinstance(r, Patient) for r in resources)
    er = next(r for r in resources if isinstance(r, Observation) and r.id == "er-1")
    assert er.code.coding and er.code.coding[0].code in ("16112-5", "85337-4", "40556-3")


@pytest.mark.parametrize(("entry", "message"), [
    ({"resource": {"resourceType": "Observation", "id": "er-9", "status": "final",
                   "code": {"text": "ER"}, "valueBoolean": "maybe"}},
     r"b\.json: Bundle entry 2 \(Observation/er-9\): invalid FHIR Observation: field valueBoolean"),
    ({"fullUrl": "urn:x"}, r"b\.json: Bundle entry 2 has no resource"),
    ({"resource": {"resourceType": "DiagnosticReport", "id": "r-1", "status": "final", "code": {"text": "x"},
                   "presentedForm": [{"contentType": "text/plain", "data": "!!!"}]}},
     r"b\.json#DiagnosticReport/r-1: attachment 1 is not valid base64"),
])
def test_an_invalid_bundle_entry_is_named(kb: KnowledgeBase, entry: dict[str, object], message: str) -> None:
    good = {"resource": {"resourceType": "Patient", "id": "p-1", "gender": "female"}}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [good, entry]}
    with pytest.raises(RecordError, match=message):
        read_records([("b.json", json.dumps(bundle).encode())], kb)


def test_single_fhir_resource_newer_than_bundle(kb: KnowledgeBase) -> None:
    r = read(kb, "mcode_bundle.json", "observation_er_negative_2024-06.json")
    assert r.profile.er == "negative"
    assert any("newer record wins" in w for w in r.warnings)


def _pdf(lines: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    pdf.cell(0, 6, "Page two. Ki-67: 22%", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_text_pdf(kb: KnowledgeBase) -> None:
    data = _pdf(["SYNTHETIC TEST REPORT - not a real patient.",
                 "Right breast, core biopsy: invasive lobular carcinoma, grade 2.",
                 "ER: Positive (90%). PR: Positive (50%). HER2: Negative (1+)."])
    r = read_records([("report.pdf", data)], kb)
    p = r.profile
    assert (p.histology, p.grade, p.er, p.pr, p.her2, p.laterality) == (
        "lobular", 2, "positive", "positive", "negative", "right")
    assert p.ki67_percent == 22
    assert r.evidence["ki67_percent"][0].page == 2
    assert r.evidence["er"][0].page == 1
    assert r.sources[0].kind == "pdf" and r.sources[0].pages == 2


def test_scanned_pdf_without_text(kb: KnowledgeBase) -> None:
    from fpdf import FPDF
    from PIL import Image

    image = Image.new("RGB", (200, 100), "white")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(buf.getvalue()), x=10, y=10, w=100)
    with pytest.raises(RecordError, match="no text found.*paste the text"):
        read_records([("scan.pdf", bytes(pdf.output()))], kb)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", "empty"),
    ("blank.txt", b"   \n\t ", "empty"),
    ("junk.bin", bytes(range(256)) * 4, "binary data"),
    ("list.json", b'[1, 2, 3]', "resourceType"),
    ("broken.json", b'{"resourceType": "Bundle", ', "not valid JSON"),
    ("plain.json", b'{"hello": "world"}', "resourceType"),
    ("unknown.json", b'{"resourceType": "Spaceship"}', "not a FHIR R4 resource type"),
    ("bad_obs.json", json.dumps({"resourceType": "Observation", "id": "x", "status": "final",
                                 "code": {"text": "ER"}, "valueQuantity": {"value": "lots"}}).encode(),
     "invalid FHIR Observation: field valueQuantity"),
    ("fake.pdf", b"this is not a pdf", "not a PDF"),
    ("broken.pdf", b"%PDF-1.4\n garbage", "not a readable PDF|no text found"),
])
def test_bad_files_get_clear_errors(kb: KnowledgeBase, name: str, data: bytes, message: str) -> None:
    with pytest.raises(RecordError, match=message) as info:
        read_records([(name, data)], kb)
    assert name in str(info.value)


def test_size_limit_is_enforced_and_named(kb: KnowledgeBase) -> None:
    with pytest.raises(RecordError, match="limit is 5 MB"):
        read_records([("huge.txt", b"a" * (MAX_BYTES + 1))], kb)


def test_no_records(kb: KnowledgeBase) -> None:
    with pytest.raises(RecordError, match="no records"):
        read_records([], kb)


def test_record_text_is_not_logged(kb: KnowledgeBase, caplog: pytest.LogCaptureFixture,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level("DEBUG")
    marker = "ZZSECRETPHRASEZZ"
    read_records([("note.txt", f"{marker}. ER positive invasive ductal carcinoma.".encode())], kb)
    assert marker not in caplog.text
    captured = capsys.readouterr()
    assert marker not in captured.out + captured.err

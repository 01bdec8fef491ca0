"""Reading mechanisms of round 12, each said in several wordings none of the sets use.

Results of imaging already done as findings; a finding on imaging is never screening; whose
fact it is (a spouse, "nobody in my family", a first-degree relative's cancer as above-average
risk); an unknown surgery as a branch; a state no current scenario covers said plainly; the
eval's honest counting of abstentions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from assessing import branches, top
from assessing import run as read

from scanwise.domain.kb import KnowledgeBase
from scanwise.eval.runner import Scenario, abstains_plainly, run
from scanwise.nlp.scenario import read_scenario


@pytest.mark.parametrize(("text", "finding"), [
    ("24F with a palpable lump; sonogram showed an irregular mass, BR 4.", "birads_4"),
    ("I'm 27 with a lump, and my ultrasound showed nothing at all.", "birads_1"),
    ("28 yo woman, palpable R breast lump, US: simple cyst.", "birads_2"),
    ("26F palpable mass, category 3 on ultrasound, follow-up?", "birads_3"),
    ("My diagnostic mammogram was inconclusive and I can feel a lump. I'm 50.", "imaging_indeterminate"),
    ("48F lump L breast, the mammo did not show anything suspicious.", "birads_1"),
])
def test_a_result_of_imaging_done_is_a_finding(text: str, finding: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert finding in profile.findings


@pytest.mark.parametrize(("text", "wanted"), [
    ("25F, palpable lump; ultrasound did not find anything. Next?", (153, 10)),
    ("I'm 22 and have a lump; the ultrasound showed something suspicious. What now?", (153, 7)),
    ("55 year old woman with a breast lump, mammogram showed a suspicious mass. next imaging", (153, 2)),
])
def test_the_next_step_follows_the_result(text: str, wanted: tuple[int, int], kb: KnowledgeBase) -> None:
    assert top(read(text, kb)) == wanted


def test_a_past_screening_study_is_not_the_work_up(kb: KnowledgeBase) -> None:
    for text in ("I'm 55 and found a lump. My last mammogram two years ago was normal. What scan first?",
                 "61F new breast lump; previous mammogram a year ago was negative."):
        profile, _ = read_scenario(text, kb)
        assert "birads_1" not in profile.findings, text


@pytest.mark.parametrize("text", [
    "My screening mammogram showed an abnormal-looking lymph node under my right arm. I'm 50. What next?",
    "60F, routine mammo: breasts fine but an enlarged lymph node in the left axilla. Next study?",
    "The mammogram they did for screening found a suspicious node in my armpit; I'm 48.",
])
def test_a_node_found_on_screening_is_worked_up_not_screened(text: str, kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert "suspicious_axillary_node" in a.profile.findings
    assert a.indication.phase != "screening"
    assert top(a) == (286, 11)


def test_a_study_with_a_result_is_not_asked_about(kb: KnowledgeBase) -> None:
    _, ind = read_scenario("44F IDC 2.6 cm seen on dx mammo, cN0. Imaging of the axilla?", kb)
    assert "mammography" not in ind.asked_procedures


@pytest.mark.parametrize("text", [
    "58M, his wife has breast cancer; he has a palpable lump in his left breast.",
    "My husband had breast cancer last year. I am a 40 year old man with a lump in my breast.",
    "62M; his wife was just diagnosed with breast cancer. He has a firm lump under his nipple.",
])
def test_a_spouses_cancer_is_not_family_history(text: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.family_history == []
    assert profile.cancer_history is not True
    assert profile.histology is None and profile.other_cancer is None


@pytest.mark.parametrize("text", [
    "I'm 41 and pregnant. Nobody in my family has had breast cancer. Should I still get my mammogram?",
    "43F, no one in her family ever had breast cancer, due for a screening mammogram.",
])
def test_nobody_in_the_family_is_no_cancer_of_anyone(text: str, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.cancer_history is not True
    assert profile.family_history == []


@pytest.mark.parametrize(("text", "above"), [
    ("I'm a 32 year old trans woman, never taken hormones. My mother had breast cancer. Screening?", True),
    ("29 yo transfeminine, no hormones. Her sister had breast cancer at 40. Breast screening?", True),
    ("35 yo trans woman, no hormone use, my grandmother had breast cancer. Screening?", None),
])
def test_a_first_degree_relatives_cancer_raises_the_risk(text: str, above: bool | None,
                                                         kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert a.profile.first_degree_relative is above
    if above:
        assert top(a) == (283, 4)


def test_above_average_risk_is_not_the_average_risk_scenario(kb: KnowledgeBase) -> None:
    for text in ("45F, my mother had breast cancer at 50. What screening should I have?",
                 "I'm 47; my sister and my dad both had breast cancer. Which screening?"):
        a = read(text, kb)
        assert top(a) != (179, 1) and (179, 1) not in branches(a), text
        if not a.matches:  # the intermediate- and high-risk variants are not bundled: said plainly
            assert a.abstention is not None and a.abstention.missing
            assert "What is missing" in a.statement


@pytest.mark.parametrize(("text", "years"), [
    ("45-year-old transfeminine patient who started estrogen three years ago, average risk, screening?", 3.0),
    ("trans woman, 50, on hormones for seven years, average risk. screening?", 7.0),
])
def test_hormone_years_in_words(text: str, years: float, kb: KnowledgeBase) -> None:
    profile, _ = read_scenario(text, kb)
    assert profile.hormone_use_years == years


@pytest.mark.parametrize("text", [
    "I finished treatment for breast cancer three years ago. What follow-up imaging should I have?",
    "Breast cancer survivor, done with all treatment 2 years ago; what surveillance imaging now?",
])
def test_an_unknown_surgery_is_a_branch(text: str, kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert a.decision is not None
    assert a.decision.depends_on.lower().startswith("surgery") or "surgery" in a.decision.question.lower()


@pytest.mark.parametrize("text", [
    "I'm 42 and breastfeeding my baby. Due for my screening mammogram, no problems. Is it OK?",
    "38F, currently lactating, average risk, asking about routine screening.",
])
def test_breastfeeding_no_current_topic_covers_is_said_plainly(text: str, kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert a.matches == []
    assert a.abstention is not None and "breastfeeding" in a.abstention.reason
    assert "248" in a.statement
    assert abstains_plainly(a)


def test_an_abstention_says_what_is_missing_on_every_surface(kb: KnowledgeBase) -> None:
    a = read("45F, my mother had breast cancer at 50. What screening should I have?", kb)
    assert a.matches == []
    assert a.abstention is not None and a.abstention.missing
    assert "What is missing" in a.statement
    dumped = a.model_dump()
    assert dumped["abstention"]["missing"] == a.abstention.missing


def test_a_topic_without_variants_in_the_data_is_a_plain_abstention(kb: KnowledgeBase) -> None:
    # Nipple discharge: topic 236's current variants are not in the bundled data, and the
    # answer says so rather than picking a neighbour; that is not a confident answer.
    a = read("52F spont bloody unilat single-duct nipple d/c, initial imaging", kb)
    assert a.matches == [] and any(u.topic_id == 236 for u in a.uncovered_topics)
    assert "236" in a.statement and abstains_plainly(a)
    # A silent wrong pick is still not one.
    assert not abstains_plainly(read("63-year-old woman with a firm right breast lump.", kb))


def test_eval_counts_declined_apart_from_confidently_wrong() -> None:
    from scanwise.core import Scanwise

    app = Scanwise.default()
    cases = [
        # expected a variant, none given, the abstention is plain: declined, not confidently wrong
        Scenario(id="d1", text="I'm 42 and breastfeeding. Due for my screening mammogram. Can I have it?",
                 top=(179, 1)),
        # a silent wrong pick: confidently wrong, not declined
        Scenario(id="w1", text="63-year-old woman with a firm right breast lump found on self-exam.",
                 top=(153, 5)),
        Scenario(id="ok", text="63-year-old woman with a firm right breast lump found on self-exam.",
                 top=(153, 1)),
    ]
    report = run(cases, app)
    assert report["declined"] == 1
    assert report["confidently_wrong"] == 1
    rows = {f["id"]: f for f in report["failures"]}
    assert rows["d1"]["declined"] and not rows["d1"]["confidently_wrong"]
    assert rows["w1"]["confidently_wrong"] and not rows["w1"]["declined"]


def _rules_with(tmp_path: Path, change: str, to: str) -> Path:
    from scanwise.knowledge.loader import DATA_DIR

    text = (DATA_DIR / "reading.yaml").read_text(encoding="utf-8")
    assert change in text
    (tmp_path / "reading.yaml").write_text(text.replace(change, to, 1), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("change", "to", "says"), [
    ("      - 'surveillance'\n", "      - 'surveil(lance'\n", "not a valid regular expression"),
    ("    staging_word:\n", "    staging_wrd:\n", "staging_wrd"),
    ("    birads_3: [", "    birads_7: [", "birads_7"),
])
def test_situation_and_result_rules_are_validated_on_load(tmp_path: Path, change: str, to: str,
                                                         says: str) -> None:
    from scanwise.domain.kb import KnowledgeBaseError
    from scanwise.nlp.rules import load_rules

    with pytest.raises(KnowledgeBaseError, match=says):
        load_rules(_rules_with(tmp_path, change, to))


def test_phase_cues_come_from_the_rules_in_their_order() -> None:
    from scanwise.nlp.rules import load_rules, situation_cues

    phases, purposes, _ = situation_cues()
    assert [name for name, _ in phases] == list(load_rules().situation.phases)
    assert [name for name, _ in purposes] == ["distant", "axilla", "locoregional"]


def test_lay_names_of_studies_are_the_vocabularys(kb: KnowledgeBase) -> None:
    """One lexicon: the question reader's lay names for studies are vocabulary data (``lay``)."""
    import scanwise.nlp.question as question

    assert not hasattr(question, "LAY_TERMS")
    lay = {w: t.code for t in kb.vocabulary for w in t.lay}
    assert lay["sugar scan"] == "pet_ct" and lay["cat scan"] == "ct"
    for words, code in list(lay.items())[::7]:
        found = question.find_tests(f"should I get a {words} next?", kb)
        assert code in [t.code for t in found], words


@pytest.mark.parametrize("note", [
    "Clinic note 2024-03-01\n58 year old woman. Firm spot near her lumpectomy scar, skin looks puckered. "
    "History of IDC treated 2019.\n",
    "Follow-up visit. 61F s/p mastectomy 2018 for IDC. Reports the skin over the chest wall is dimpled.\n",
])
def test_record_text_reports_what_it_did_not_understand(note: str) -> None:
    from scanwise.core import Scanwise

    app = Scanwise.default()
    reading = app.read_records([("note.txt", note.encode())])
    assert reading.unread and all(e.source == "note.txt" for e in reading.unread)
    for e in reading.unread:
        assert note[e.start:e.end] == e.text
    inputs = app.read_inputs("What imaging now?", [("note.txt", note.encode())])
    assert {e.text for e in reading.unread} <= {e.text for e in inputs.indication.unread}


@pytest.mark.parametrize("text", [
    "BRCA2 carrier, 50F, history of ovarian carcinoma, CA-125 rising. CT to look for recurrence.",
    "44F BRCA1+ with newly diagnosed serous ovarian cancer, staging PET/CT?",
])
def test_a_gene_shared_with_another_cancer_does_not_make_it_a_breast_question(text: str,
                                                                             kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert not a.indication.in_scope and a.indication.scope_note


def test_a_gene_with_a_breast_question_stays_in_scope(kb: KnowledgeBase) -> None:
    a = read("BRCA1 carrier, 40F, history of ovarian cancer. Which breast screening should I have?", kb)
    assert a.indication.in_scope


@pytest.mark.parametrize("text", [
    "My mom had both breasts removed last year to prevent cancer; she carries BRCA2 and never had "
    "cancer. She is asking whether she still needs an MRI. No reconstruction.",
    "My sister (BRCA1) had a prophylactic bilateral mastectomy with no reconstruction and never had "
    "cancer; she wants to know if she still needs mammograms.",
])
def test_a_reported_question_is_asked_on_their_behalf(text: str, kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert a.profile.surgery == "prophylactic_mastectomy"
    assert top(a) == (282, 4) or (282, 4) in branches(a)


def test_a_past_cancer_is_needed_for_a_recurrence_variant(kb: KnowledgeBase) -> None:
    for text in ("new dx R breast IDC with palpable R axillary node. Axillary US?",
                 "Newly diagnosed left breast ILC, enlarged axillary lymph node on exam; "
                 "imaging of the axilla?"):
        a = read(text, kb)
        assert top(a) != (286, 10) and (286, 10) not in branches(a), text
        assert a.profile.nodal_status == "positive" or "axillary_lump" in a.profile.symptoms, text


@pytest.mark.parametrize(("text", "wanted"), [
    ("I'm a 45-year-old trans woman with saline implants from 2016. The left one looks a bit flatter "
     "lately. What imaging?", (239, 4)),
    ("im 37, my silicone implant on the right feels harder than it used to. what scan?", (239, 8)),
    ("33F with saline implants; the left implant looks smaller and different this month.", (239, 3)),
])
def test_a_change_said_of_an_implant_is_a_possible_implant_problem(text: str, wanted: tuple[int, int],
                                                                   kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert "implant_rupture_suspected" in a.profile.symptoms
    assert a.indication.phase == "diagnostic_workup"
    assert top(a) == wanted or wanted in branches(a)


def test_a_change_said_of_something_else_is_not_an_implant_problem(kb: KnowledgeBase) -> None:
    profile, _ = read_scenario("I have silicone implants since 2015. Last week my knee got swollen "
                               "after a fall. Do I need an implant check this year?", kb)
    assert "implant_rupture_suspected" not in profile.symptoms
    profile, _ = read_scenario("Silicone implants placed 8 years ago. Does she need rupture screening?", kb)
    assert "implant_rupture_suspected" not in profile.symptoms


@pytest.mark.parametrize("text", [
    "I'm 50 and my mammograms have always been normal. How often should I have screening?",
    "My mammogram was negative last time. I am 52 with no family history. How often should I screen?",
    "55F average risk, screening mammogram came back fine; when do I go again for screening?",
])
def test_a_normal_study_alone_is_still_screening(text: str, kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert a.indication.phase == "screening"
    assert top(a) == (179, 1)


@pytest.mark.parametrize("text", [
    "Got a letter after my routine screening mammogram: new grouped calcifications, BI-RADS 0. I'm 57.",
    "Screening mammo BI-RADS 0, asymmetry in the left breast, called back. 61F. Next?",
])
def test_a_recall_from_screening_is_a_work_up_never_screening(text: str, kb: KnowledgeBase) -> None:
    a = read(text, kb)
    assert a.indication.phase == "diagnostic_workup"
    assert top(a) != (179, 1) and (179, 1) not in branches(a)
    if not a.matches:
        assert a.abstention is not None and "What is missing" in a.statement


def test_with_no_variant_expected_also_ok_lists_what_may_be_shown_instead() -> None:
    from scanwise.core import Scanwise

    app = Scanwise.default()
    text = "52F average risk, screening mammogram?"
    shown = Scenario(id="a", text=text, top=None, also_ok=[(179, 1)])
    other = Scenario(id="b", text=text, top=None, also_ok=[(153, 1)])
    rows = {f["id"]: f for f in run([shown, other], app)["failures"]}
    assert "a" not in rows and "top" in rows["b"]["failed"]

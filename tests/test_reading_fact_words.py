"""The reader's fact words are data (reading.yaml ``fact_words``): validated on load, and the
patterns of the text readers are built from them (one lexicon, no word list in the code)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanwise.domain.kb import KnowledgeBase, KnowledgeBaseError
from scanwise.knowledge.loader import DATA_DIR
from scanwise.nlp.rules import RULES_FILE, load_rules


def _rules_with(tmp_path: Path, change: str, to: str) -> Path:
    text = (DATA_DIR / RULES_FILE).read_text(encoding="utf-8")
    assert text.count(change) == 1, change
    (tmp_path / RULES_FILE).write_text(text.replace(change, to), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("change", "to", "says"), [
    # a pattern that does not compile, named
    ("    - 'baby (?:is )?due'\n", "    - 'baby (?:is due'\n",
     r"'baby \(\?:is due' is not a valid regular expression"),
    # an unknown entry and a missing one, named
    ("  third_person:\n", "  third_persns:\n    words: [x]\n  third_person:\n",
     "fact_words.third_persns"),
    ("  third_person:\n    words: [he, his, him, she, her]\n", "", "fact_words: missing third_person"),
    # an unknown key inside an entry, named
    ("  follow_up:\n    word_start: false\n", "  follow_up:\n    word_begin: false\n", "word_begin"),
    # an empty list, and words with patterns
    ("    words: [he, his, him, she, her]\n", "    words: []\n", "give one of patterns, words or reader"),
    ("    words: [man, men, male,", "    patterns: [x]\n    words: [man, men, male,",
     "give one of patterns, words or reader"),
    # words are matched as written, in lower case
    ("    words: [man, men, male,", "    words: [Man, men, male,", "'Man'"),
    # only a phase reads with the reader's own wording
    ("    words: [surveillance, recurren, follow]\n", "    reader: neoadjuvant_therapy\n",
     "fact_words.follow_up.*only a phase"),
    # a kind the profile does not have, and the kinds' words checked as the facts' are
    ("    lumpectomy:\n      patterns: ['lumpectomy',", "    lumpectomie:\n      patterns: ['lumpectomy',",
     "fact_kinds.surgery.lumpectomie"),
    ("    none:\n      words: [no reconstruction, without reconstruction,",
     "    none:\n      words: [No reconstruction, without reconstruction,",
     "fact_kinds.reconstruction.none.*'No reconstruction'"),
    ("  screening_studies: [mammography, tomosynthesis]\n", "  screening_studies: []\n", "screening_studies"),
])
def test_fact_words_are_validated_on_load(tmp_path: Path, change: str, to: str, says: str) -> None:
    with pytest.raises(KnowledgeBaseError, match=says):
        load_rules(_rules_with(tmp_path, change, to))


@pytest.mark.parametrize(("change", "to", "says"), [
    # an unknown intent, and one missing, named
    ("    radiation:\n      patterns: ['radiation',", "    radiaton:\n      patterns: ['radiation',",
     "question.intents.radiaton"),
    ("    cancer:\n      words: [cancer]\n", "", "scope: missing cancer"),
    # a phase pattern that does not compile, named
    ("      - 'relapse\\w*'\n", "      - 'relapse(\\w*'\n",
     r"question.phases.suspected_recurrence.*relapse\("),
    # an empty list, and a word that is not one lower-case word
    ("  symptom_codes: [bone_pain, neurologic_symptoms, cough, dyspnea, chest_pain, abdominal_pain, "
     "jaundice,\n                  palpable_mass]\n", "  symptom_codes: []\n",
     "question.symptom_codes.*at least 1"),
    ("    not_tests: [cancer, cancers,", "    not_tests: [Cancer, cancers,",
     "question.tests.not_tests.*'Cancer'"),
    # an unknown key in the question section, and in a cue
    ("  symptom_codes: [bone_pain,", "  symptom_code: [bone_pain,", "question.symptom_code"),
    ("    inflammatory:\n      patterns:", "    inflammatory:\n      pattern:",
     "question.stages.inflammatory.pattern"),
    # a cue with neither words nor patterns
    ("    cancer:\n      words: [cancer]\n", "    cancer:\n      words: []\n",
     "question.scope.cancer.*give one of patterns, words or reader"),
])
def test_question_words_are_validated_on_load(tmp_path: Path, change: str, to: str, says: str) -> None:
    """The question reader's words (reading.yaml ``question``) are refused on load when
    malformed, with the entry named."""
    with pytest.raises(KnowledgeBaseError, match=says):
        load_rules(_rules_with(tmp_path, change, to))


def test_the_question_reader_uses_the_clinical_readers_words() -> None:
    """Other organs' cancers, metastatic, DCIS and lobular are the clinical reader's words,
    not a second list: a word there is a word of the question reader too."""
    from scanwise.nlp import question

    rules = load_rules()
    words = question._words()
    assert rules.fact_words["metastatic"].alternation() in words.metastatic.pattern
    assert words.dcis.pattern == rules.fact_kinds.histology["dcis"].compiled().pattern
    assert rules.fact_kinds.histology["lobular"].alternation() in words.lobular.pattern
    for organ in rules.cancers.organs.values():
        assert all(re.escape(w) in words.other_cancer.pattern for w in organ.words + organ.names)


def test_screening_studies_are_vocabulary_procedures(kb: KnowledgeBase) -> None:
    for code in load_rules().situation.screening_studies:
        assert kb.terms[code].kind == "procedure", code


def test_the_readers_patterns_are_built_from_the_fact_words() -> None:
    """A word added to the data is read: the pattern is the data's, not a copy in the code."""
    from scanwise.nlp import extract, scenario

    words = load_rules().fact_words
    assert extract._LACTATING.pattern == words["lactating"].compiled().pattern
    assert scenario._THIRD_PERSON.pattern == words["third_person"].compiled().pattern
    assert words["hormones"].alternation() in extract._HORMONE_YEARS.pattern
    assert words["unsure"].alternation() in extract._UNSURE.pattern
    relatives = load_rules().context.relatives + load_rules().context.other_persons
    assert all(w.replace("-", r"\-") in extract.PROXY_AGE.pattern for w in relatives)

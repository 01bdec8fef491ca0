"""Read a clinical scenario written in free text into a PatientProfile and an Indication.

Handles one-liners and short notes as clinicians write them ("61F, cT3N1 ER+/HER2- IDC,
no bone pain, staging?") and plain questions from patients. Structured tokens (age, size,
TNM, stage, receptors, grade) are read with patterns; symptoms, findings, labs and studies
come from the knowledge base's vocabulary through medspaCy, whose ConText keeps a denied
symptom from counting as a symptom and a relative's cancer from counting as the patient's.
Every fact keeps the words it came from. What is inferred rather than stated is listed in
``Indication.assumptions``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from scanwise.domain.kb import KnowledgeBase
from scanwise.domain.profile import Evidence, Indication, PatientProfile
from scanwise.nlp.clinical import BREAST_CANCER, Mention, mentions


class UnusableText(ValueError):
    """The input cannot be read at all (empty, or not text)."""


MAX_CHARS = 20_000

_ROMAN = {"0": "0", "1": "I", "2": "II", "3": "III", "4": "IV",
          "i": "I", "ii": "II", "iii": "III", "iv": "IV"}


@dataclass
class _Reading:
    text: str
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)

    def set(self, key: str, value: Any, start: int, end: int, *, overwrite: bool = False) -> None:
        if key in self.facts and not overwrite:
            return
        self.facts[key] = value
        self.evidence[key] = [Evidence(text=self.text[start:end], start=start, end=end)]

    def cite(self, key: str, start: int, end: int) -> None:
        self.evidence.setdefault(key, []).append(
            Evidence(text=self.text[start:end], start=start, end=end))

    def first(self, key: str, pattern: re.Pattern[str], value: Any,
              group: int | str = 0) -> re.Match[str] | None:
        m = pattern.search(self.text)
        if m:
            self.set(key, value, m.start(group), m.end(group))
        return m


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# --- patterns ------------------------------------------------------------------------------

_AGE = [
    _rx(r"\b(?P<age>\d{1,3})\s*(?:yo|y/o|y\.o\.|yrs?|years?(?:\s*old)?)\s*(?P<sex>[FM])\b"),
    _rx(r"\b(?P<age>\d{1,3})\s*(?:-|\s)?(?:year|yr)s?(?:\s*|-)old\b"),
    _rx(r"\b(?P<age>\d{1,3})\s*(?P<sex>[FM])\b"),
    _rx(r"\b(?P<age>\d{1,3})\s*(?:yo|y/o|y\.o\.|yrs? old)\b"),
    _rx(r"\b(?:wom[ae]n|m[ae]n|female|male|patient|pt|transfeminine|transmasculine|lady)\s*,\s*"
        r"(?P<age>\d{2})\s*(?:,|\.|$|\s+(?:on|with|had|has|who|started))"),
    _rx(r"\b(?:age|aged)\s*:?\s*(?P<age>\d{1,3})\b"),
    _rx(r"\b(?:i'?m|i am|just turned|turned)\s+(?:a\s+)?(?P<age>\d{1,3})\b"),
]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9}
_AGE_WORDS = _rx(r"\b(?P<tens>twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?P<unit>one|two|"
                 r"three|four|five|six|seven|eight|nine))?[- ]years?[- ]old\b")
_TRANS_FEM = _rx(r"\b(transgender wom[ae]n|trans wom[ae]n|transfeminine|trans-feminine|male[- ]to[- ]female"
                 r"|mtf|assigned male at birth|amab)\b")
_TRANS_MASC = _rx(r"\b(transgender m[ae]n|trans m[ae]n|transmasculine|trans-masculine|female[- ]to[- ]male"
                  r"|ftm|assigned female at birth|afab)\b")
_FEMALE = _rx(r"\b(woman|women|female|lady|girl|she|her|mother of|mom of|g\d+p\d+)\b")
_MALE = _rx(r"\b(man|men|male|gentleman|boy|he|his|him)\b")

_SIZE = _rx(r"\b(?P<dims>\d+(?:\.\d+)?(?:\s*(?:x|×|by)\s*\d+(?:\.\d+)?)*)\s*"
            r"(?P<unit>cm|mm|centimet(?:er|re)s?|millimet(?:er|re)s?)\b")
_NODE_SIZE_CONTEXT = _rx(r"^\s*(?:(?!and\b|or\b|with\b|but\b)[a-z]+\s+){0,3}?(?:lymph\s+)?nodes?\b")  # "2 cm axillary node"

_T = r"T(?:is|x|0|1mi|1a|1b|1c|1|2|3|4a|4b|4c|4d|4)"
_N = r"N(?:x|0\(i\+\)|0\(mol\+\)|0|1mi|1a|1b|1c|1|2a|2b|2|3a|3b|3c|3)(?:\((?:sn|f)\))?"
_M = r"M(?:0\(i\+\)|0|1|x)"
_TNM = _rx(rf"\b(?P<tp>yp|yc|c|p|r)?(?P<t>{_T})\s*,?\s*(?P<np>yp|yc|c|p)?(?P<n>{_N})"
           rf"(?:\s*,?\s*(?P<mp>c|p)?(?P<m>{_M}))?(?![a-z])")
# Alone, "tx" is shorthand for treatment, so TX is read only inside a full TNM string.
_T_ALONE = _rx(r"\b(?P<tp>yp|yc|c|p)?(?P<t>T(?:is|0|1mi|1a|1b|1c|1|2|3|4a|4b|4c|4d|4))(?![a-z0-9-])")
_N_ALONE = _rx(rf"\b(?P<np>yp|yc|c|p)?(?P<n>{_N})(?![a-z0-9])")
_M_ALONE = _rx(rf"\b(?P<mp>c|p)?(?P<m>{_M})(?![a-z0-9])")

_SUPRACLAVICULAR = _rx(r"\b(?:positive|metastatic|fna[- ]positive|biopsy[- ]proven) (?:ipsilateral )?supraclavicular "
                       r"(?:lymph )?nodes?|\bsupraclavicular (?:lymph )?nodes?[^.;]{0,30}?\b(?:fna\s*\+|positive|"
                       r"metasta\w*|biopsy[- ]proven)")
_STAGE = _rx(r"\bstage\s*(?P<num>iv|iii|ii|i|[0-4])(?P<sub>[abc])?\b")
_METASTATIC = _rx(r"\b(metastatic breast cancer|de novo metastatic|stage iv|known metastases|known metastatic)\b")

_POS = r"(?:\+|positive|pos\b|amplified)"
_NEG = r"(?:-(?![a-z])|−|negative|neg\b|non-?amplified|not amplified)"
_RECEPTOR_WORD = {
    "er": r"(?:er|estrogen[- ]receptors?|oestrogen[- ]receptors?)",
    "pr": r"(?:pr|pgr|progesterone[- ]receptors?)",
    "her2": r"(?:her-?2(?:/neu)?|her2neu|erbb2)",
}
_TRIPLE_NEG = _rx(r"\b(triple[- ]neg(?:ative)?\b|tnbc|er\s*/\s*pr\s*/\s*her-?2\s*(?:-|−|negative))")
_HR = _rx(rf"\b(?:hr|hormone[- ]receptors?)[- ]?\s*(?:{_POS}|{_NEG})")
_ER_PR_JOINT = _rx(rf"\b(?:er\s*(?:/|and|&|,)\s*pr|estrogen and progesterone receptors?)\s*[:\-]?\s*(?P<v>{_POS}|{_NEG})")
_HER2_IHC = _rx(r"\bher-?2(?:/neu)?\b[^.;]{0,30}?\b(?:ihc\s*)?(?P<score>[0-3]\+|0)(?:\s*(?:by|on)\s*ihc)?")
_HER2_LOW = _rx(r"\bher-?2[- ]low\b")
_HER2_EQUIVOCAL = _rx(r"\bher-?2(?:/neu)?\b[^.;]{0,20}?\bequivocal\b")
_HER2_ISH = _rx(r"\b(?:fish|ish|cish|sish)\b[^.;]{0,25}?\b(?P<v>non-?amplified|not amplified|amplified|negative|positive)")
_PERCENT = _rx(r"\b(?P<which>er|pr)\s*:?\s*(?P<pct><\s*1|\d{1,3})\s*%")

_GRADE = [
    _rx(r"\b(?:(?:nottingham|sbr|bloom[- ]richardson|histologic|histological)\s*)?grade\s*(?P<g>[123]|iii|ii|i)\b(?!\s*(?:dcis|ductal carcinoma in situ))"),
    _rx(r"\bG(?P<g>[123])\b"),
    _rx(r"\b(?P<word>low|intermediate|high)[- ]grade\b(?!\s*(?:dcis|ductal carcinoma in situ))"),
]
_GRADE_WORD = {"low": 1, "intermediate": 2, "high": 3}

_HISTOLOGY = [
    ("mixed", _rx(r"\b(mixed (?:invasive )?ductal (?:and|&) lobular|ductal (?:and|&) lobular features|"
                  r"idc with lobular features|mixed idc\s*/\s*ilc|mixed ductal/lobular)\b")),
    ("lobular", _rx(r"\b(ilc|(?:invasive|infiltrating) lobular(?: carcinoma)?|lobular carcinoma(?! in situ)|"
                    r"lobular (?:breast )?cancer)\b")),
    ("ductal", _rx(r"\b(idc|(?:invasive|infiltrating) ductal(?: carcinoma)?|ductal carcinoma(?! in situ)|"
                   r"invasive carcinoma(?: of)? no special type|nst|invasive carcinoma,? nos|ductal (?:breast )?cancer)\b")),
    ("other", _rx(r"\b((?:mucinous|tubular|medullary|metaplastic|papillary|cribriform|apocrine|adenoid cystic)"
                  r" carcinoma)\b")),
    ("dcis", _rx(r"\b(dcis|ductal carcinoma in situ|intraductal carcinoma)\b")),
]
_INVASIVE_GENERIC = _rx(r"\b(invasive breast cancer|invasive carcinoma|invasive cancer)\b")

_NODE_NEG = _rx(r"\b(c?n0\b|node[- ]neg(?:ative)?\b|clinically node[- ]neg(?:ative)?|"
                r"axilla (?:was |is )?(?:clinically )?neg(?:ative)?\b|nodes? (?:were |are |was |is )?(?:clinically )?neg(?:ative)?\b|"
                r"(?:lymph )?nodes? (?:looked|look|looks|were|are|was|is) (?:fine|normal|benign|unremarkable)|"
                r"no palpable (?:axillary )?"
                r"(?:nodes|lymph nodes|adenopathy|lymphadenopathy)|no (?:axillary )?(?:adenopathy|lymphadenopathy)|"
                r"negative axilla|axilla (?:is )?(?:clinically )?negative|clinically negative axilla)")
_NODE_POS = _rx(r"\b(node[- ]positive|clinically node[- ]positive|positive (?:axillary )?(?:lymph )?nodes?|"
                r"(?:axillary )?(?:lymph )?nodes? (?:is |are |was |were )?palpable|"
                r"nodes?[^.;]{0,25}\b(?:fna|biopsy|bx|core)\s*(?:\+|positive|proven)|"
                r"(?:nodal|node) (?:met|mets|metastasis|metastases)\b|"
                r"biopsy[- ](?:proven|confirmed) (?:l |r |left |right )?(?:axillary )?(?:lymph )?node|"
                r"(?:axillary )?(?:lymph )?nodes? (?:was |were |is |are )?(?:biopsy[- ]proven )?positive|"
                r"c?n[123][abc]?\b|"
                r"biopsy[- ]proven (?:axillary )?(?:lymph )?node|matted nodes|axillary metastas[ie]s|"
                r"metastatic (?:axillary )?(?:lymph )?node)\b")

_PREGNANT = _rx(r"\b(pregnant|pregnancy|\d+\s*(?:weeks?|wks?)'?\s*(?:pregnant|gestation|gestational age)|gravid|"
                r"(?:first|second|third) trimester)\b")
_NOT_PREGNANT = _rx(r"\b(not pregnant|non-?pregnant|negative pregnancy test)\b")
_LACTATING = _rx(r"\b(breast-?feeding|lactating|lactation|nursing)\b")
_NOT_LACTATING = _rx(r"\b(not (?:breast-?feeding|lactating|nursing))\b")

_SURGERY = [
    ("prophylactic_mastectomy", _rx(r"\b((?:bilateral )?(?:prophylactic|risk[- ]reducing) (?:bilateral )?"
                                    r"(?:(?:nipple|skin)[- ]sparing )?mastectom(?:y|ies))\b")),
    ("bilateral_mastectomy", _rx(r"\b(bilateral mastectom(?:y|ies)|double mastectomy|top surgery)\b")),
    ("reduction_mammoplasty", _rx(r"\b(reduction mamm[ao]plasty|breast reduction|reduction surgery)\b")),
    ("lumpectomy", _rx(r"\b(lumpectomy|bct|bcs|breast[- ]conserv(?:ing|ation) (?:therapy|surgery|treatment)|"
                       r"partial mastectomy|wide local excision|segmental mastectomy|quadrantectomy)\b")),
    ("mastectomy", _rx(r"\b(mastectomy|mastectomies)\b")),
]
_PLANNED = _rx(r"\b(planned|planning|plan|plans|scheduled|considering|candidate|awaiting|before|prior to|"
               r"upcoming|will have|will undergo|wants|desires|for|proceeding to|going to have|"
               r"undergo|undergoing|having|booked for|needs|need)\s+"
               r"(?:a\s+|an\s+|her\s+|his\s+|the\s+|my\s+|your\s+|their\s+)?(?:planned\s+)?$")
_NO_SURGERY = _rx(r"\b(no (?:chest |breast )?surgery|no top surgery)\b")

_RECON = [
    ("none", _rx(r"\b(no reconstruction|without reconstruction|not reconstructed|no breast reconstruction)\b")),
    ("autologous", _rx(r"\b(autologous|diep|tram|latissimus|flap reconstruction|flap)\b")),
    ("implant", _rx(r"\b(implant[- ]based reconstructions?|implant reconstructions?|reconstructions? (?:with|w/) (?:an )?implants?|"
                    r"tissue expanders?|expander|nonautologous|non-autologous|reconstructed with implants?)\b")),
]
_IMPLANT = _rx(r"\b(?P<type>saline|silicone)?\s*(?:breast\s+)?implants?\b")
_AUGMENT = _rx(r"\b(breast augmentation|augmentation mammoplasty|cosmetic implants?)\b")
_IMPLANT_YEARS = _rx(r"\bimplants?\b[^.;]{0,40}?\b(?P<n>\d+(?:\.\d+)?)\s*(?:years?|yrs?)\b|"
                     r"\b(?P<n2>\d+(?:\.\d+)?)\s*(?:years?|yrs?)\s*(?:after|since)\s*(?:implant|augmentation)")

_HORMONE_YEARS = _rx(r"\b(?:hormones?|hormone therapy|estrogen|estradiol|feminizing|gender[- ]affirming|"
                     r"testosterone)\b[^.;]{0,40}?\b(?P<n>\d+(?:\.\d+)?)\s*(?:years?|yrs?)\b|"
                     r"\b(?P<n2>\d+(?:\.\d+)?)\s*(?:years?|yrs?)\s*(?:of|on)\s*(?:hormones?|hormone therapy|"
                     r"estrogen|feminizing|gender[- ]affirming)")
_NO_HORMONES = _rx(r"\b(no hormones?|no hormone (?:use|therapy)|not on hormones?|never (?:used|took) hormones?)\b")

_RISK = [
    ("high", _rx(r"\b(brca[12]?(?:/2)?(?: mutation| carrier| positive)?|tp53|li-fraumeni|palb2|pten|cowden|"
                 r"genetic (?:mutation|predisposition)|high[- ]risk|lifetime risk (?:of |greater than |over |>\s*|≥\s*)?(?:20|2[1-9]|[3-9]\d)\s*%|"
                 r"(?:mantle|chest) (?:radiation|irradiation)|radiation to the chest)\b")),
    ("intermediate", _rx(r"\b(intermediate[- ]risk|atypical ductal hyperplasia|adh|lcis|lobular carcinoma in situ|"
                         r"lobular neoplasia|atypia|lifetime risk (?:of )?1[5-9]\s*%)\b")),
    ("average", _rx(r"\b(average[- ]risk|no family history|no risk factors)\b")),
]

_NEGATED_BEFORE = _rx(r"\b(no|not|never|denies|without|negative for)\b[^.;,]{0,20}$")
_NEOADJ = _rx(r"\b(neoadjuvant|nac|nact|preoperative (?:chemo(?:therapy)?|systemic therapy)|"
              r"primary systemic therapy|pre-?op chemo|chemo(?:therapy)? before (?:my |her |his |the )?"
              r"(?:breast )?surgery)\b")
_NEOADJ_PLANNED = _rx(r"\b(before|prior to|planned|planning|plan for|will (?:start|begin|receive|get)|"
                      r"candidate for|to start|starting|about to start|pre-)\s*(?:\w+\s+){0,2}?"
                      r"(?:neoadjuvant|nac|nact|chemo)|(?:neoadjuvant|nac|nact)\b[^.;]{0,25}?"
                      r"\b(?:planned|scheduled|next week|to start|will start|is planned)")
_NEOADJ_DONE = _rx(r"\b((?:has |have )?(?:now )?completed|after (?:completing|completion of|finishing)|finished|post-?|following|"
                   r"after|s/p)\s*(?:\w+\s+){0,2}?(?:neoadjuvant|nac|nact)|(?:neoadjuvant|nac|nact)\b[^.;]{0,30}"
                   r"\b(completed|finished|done)\b")
_NEOADJ_ONGOING = _rx(r"\b(mid[- ]?(?:treatment|way|course|nac|neoadjuvant)|during (?:neoadjuvant|nac|chemo)|"
                      r"halfway|half-way|midway|mid-way|\d+ of \d+ cycles|cycle \d+ of|cycles into|"
                      r"(?:into|thru|through) (?:neoadjuvant|nac|chemo)|on nac|"
                      r"on (?:neoadjuvant|nac)|receiving (?:neoadjuvant|nac)|undergoing (?:neoadjuvant|nac)|"
                      r"cycles? \d|after \d+ cycles|currently on)\b")

_HISTORY = _rx(r"\b((?:history of|hx of|hx|h/o) [^.;]{0,30}?(?:breast cancer|breast ca\b|idc|ilc|dcis|carcinoma|invasive|tnbc)|"
               r"tx'?d (?:w/|with)|treated (?:w/|with) (?:lumpectomy|mastectomy|surgery)|"
               r"h/o (?:breast cancer|idc|ilc)|treated (?:\d+|one|two|three|four|five|six|seven|eight|nine|ten) "
               r"(?:years?|yrs?|months?) ago|treated in (?:19|20)\d\d|"
               r"(?:finished|completed|done with) (?:my |her |his )?(?:treatment|therapy|radiation|chemo\w*)|"
               r"(?:after|following) (?:my|her|his) (?:lumpectomy|mastectomy|treatment|surgery|radiation)|"
               r"\d+(?:\.\d+)? (?:years?|yrs?|months?) (?:out\b|(?:after|since|post|following) "
               r"(?:her |my |his )?(?:treatment|surgery|diagnosis|lumpectomy|mastectomy|radiation|chemo\w*|bct))|"
               r"breast cancer survivor|survivor of breast cancer|treated for (?:breast cancer|idc|ilc)|"
               r"personal history of breast cancer|prior breast cancer|previous breast cancer|"
               r"s/p (?:lumpectomy|mastectomy|bct)|status post (?:lumpectomy|mastectomy)|"
               r"(?:after|following) (?:lumpectomy|mastectomy|bct|treatment|surgery|radiation)|"
               r"completed (?:treatment|therapy|radiation|chemo)|remission|in remission|"
               r"(?:years?|months?) (?:after|since|post|out from) (?:treatment|surgery|diagnosis|lumpectomy|mastectomy))\b")
_SINCE = _rx(r"\b(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>years?|yrs?|months?|mos?)\s*(?:after|since|post|out from|"
             r"following|s/p)\b")

_SCREENING_CUE = _rx(r"\b(screening|screen|routine mammograms?|annual mammograms?|check-?up mammograms?|"
                     r"(?:start|begin|get|getting|have|having|need|needs)\s+(?:a\s+|my\s+|her\s+|his\s+|annual\s+|yearly\s+)?"
                     r"(?:mammograms?|mammography)|mammograms? (?:every|each) year)\b")
# Phase and purpose cues, strongest first within each phase.
_PHASE_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("suspected_recurrence", _rx(r"\b(suspected recurrence|suspect(?:ed)? (?:local |distant )?recurrence|"
                                 r"concern(?:ing)? for (?:local |distant )?recurrence|possible (?:local |distant )?recurrence|"
                                 r"rule out (?:local |distant )?recurrence|r/o (?:local |distant )?recurrence|"
                                 r"biopsy[- ](?:proven|confirmed) (?:local |regional )?recurrence|"
                                 r"rising tumou?r markers|(?:ca ?15-3|ca ?27[.-]29|cea|tumou?r markers?)\s+(?:are\s+|is\s+)?rising|"
                                 r"new metastas[ie]s\?|biopsy[- ]proven (?:local |regional )?recurrence|"
                                 r"(?:locally )?recurrent breast cancer|recurrence (?:in|at) the)")),
    ("surveillance", _rx(r"\b(surveillance|follow[- ]?up imaging|routine follow[- ]?up|follow[- ]?up|"
                         r"(?:watch|monitor|check|look) for (?:a )?(?:local |distant )?recurrence|"
                         r"(?:annual|yearly|every year|each year|how often)|f/u|"
                         r"annual (?:mammogram|imaging|screening)|yearly (?:mammogram|imaging)|survivorship|"
                         r"post[- ]treatment (?:imaging|monitoring)|monitoring after treatment|no evidence of disease|ned)\b")),
    ("neoadjuvant", _NEOADJ),
    ("new_diagnosis", _rx(r"\b(newly diagnosed|new diagnosis|new(?:ly)? dx(?:'?d)?|dx'?d|just (?:been )?diagnosed|recently diagnosed|"
                          r"biopsy[- ]proven|core biopsy (?:showed|confirmed|revealed)|diagnosed with|"
                          r"staging|staged|work-?up|pre-?operative|preop|treatment planning|extent of disease|"
                          r"found out i have|i have (?:stage|breast cancer)|was diagnosed|known breast cancer)\b")),
    ("screening", _SCREENING_CUE),
]
_PURPOSE_CUES: list[tuple[str, re.Pattern[str]]] = [
    ("distant", _rx(r"\b(distant|metastatic work-?up|metastas[ie]s|mets|systemic(?: staging| imaging)?|"
                    r"whole[- ]body|full[- ]body|spread (?:to|elsewhere|beyond)|has it spread|spread\b|"
                    r"body scan|distant disease|distant recurrence|staging scans?|restaging)\b")),
    ("axilla", _rx(r"\b((?:image|imaging|evaluate|evaluation|assess|assessment|staging|ultrasound|us) "
                   r"(?:of )?the axilla|the axilla be|axillary (?:staging|evaluation|imaging|ultrasound|us)|"
                   r"nodal staging|imaging of the axilla|axilla imaged|armpit (?:imaging|ultrasound))\b")),
    ("locoregional", _rx(r"\b(locoregional|loco-regional|local extent|extent of disease|extent in the breast|"
                         r"in the breast|multifocal|multicentric|contralateral|surgical planning|"
                         r"pre-?operative (?:mri|imaging|evaluation)|local recurrence|local disease|"
                         r"tumou?r size and extent|size of the tumou?r|response in the breast|"
                         r"(?:of|in|for) the (?:treated |same |reconstructed |remaining )?breasts?\b|"
                         r"chest wall|mastectomy side|residual disease|tumou?r (?:is )?shrinking)\b")),
]
# Said of a treated patient, these mean routine follow-up; of a new patient, nothing.
# Operations and treatments done for a cancer, even where the word "cancer" is missing.
_TREATED_FOR_CANCER = _rx(r"\b(xrt|radiation|radiotherapy|breast conserv\w+ therapy|bct|modified radical|"
                          r"letrozole|anastrozole|exemestane|tamoxifen|aromatase inhibitor|slnb|sentinel node)\b")
_ROUTINE = _rx(r"\b(asymptomatic|no symptoms|no complaints|feels? well|doing well|peace of mind|"
               r"routine)\b")
_STAGING_WORD = _rx(r"\b(staging|stage it|staged)\b")
_OTHER_ORGAN = _rx(r"\b(colon|colonoscopy|colorectal|cervical|cervix|pap|lung|ldct|prostate|psa|skin|"
                   r"liver|ovarian|ovary|thyroid|bowel|stool)\b")
_TREATMENT_QUESTION = _rx(r"\b(chemo(?:therapy)?|drugs?|medications?|tamoxifen|letrozole|anastrozole|"
                          r"herceptin|trastuzumab|pertuzumab|radiation therapy|radiotherapy|side effects?|"
                          r"prognosis|survival rate|life expectancy|diet|supplements?|which surgery|"
                          r"lumpectomy or mastectomy|boost|gy|fractions?|fractionation|hypofractionat\w*|"
                          r"oncotype|endocrine therapy)\b")
_IMAGING_WORD = _rx(r"\b(scan|scans|imaging|image|imaged|us|evaluation|evaluate|assess|axilla|axillary|bx|biopsy|mri|ct|pet|mammogram|mammography|ultrasound|sonogram|"
                    r"x-?ray|bone scan|staging|surveillance|work-?up|tomosynthesis|dbt|radiograph|screening|"
                    r"follow[- ]?up)\b")
_BREAST_CONTEXT = _rx(r"\b(breast|breasts|mammo\w*|nipples?|axilla\w*|armpits?|idc|ilc|dcis|bi-?rads|lumpectomy|"
                      r"brca\d?|transfeminine|transmasculine|trans (?:wo)?m[ae]n|top surgery|mantle (?:radiation|field)|"
                      r"chest (?:radiation|irradiation)|screening mri|"
                      r"mastectom\w*|implants?|gynecomastia|gynaecomastia|her-?2|er\+|er-|pr\+|tnbc|"
                      r"triple[- ]negative|tomosynthesis|dbt|bct|chest wall)\b")

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
                     "suspicious_axillary_node_other_imaging", "lump_at_scar"}

_OTHER_MODALITY = _rx(r"\b(ct|cta|mri|mra|pet|pet/ct|cat scan|ct angiogram|ct angiography)\b")
_MAMMO_US = _rx(r"\b(mammo\w*|ultrasound|sonograph\w*|us|dbt|tomosynthesis)\b")
_LAB_ABNORMAL = _rx(r"\b(elevated|raised|high|abnormal|rising|increasing|increased|deranged|up)\b|↑")
_LAB_NORMAL = _rx(r"\b(normal|unremarkable|wnl|within normal limits|negative|stable|ok|fine)\b")
_CLAUSE_BREAK = _rx(r"[,;.]|\bbut\b|\bwhile\b|\bwith\b")


# --- readers --------------------------------------------------------------------------------

def _read_demographics(r: _Reading) -> None:
    for pattern in _AGE:
        m = pattern.search(r.text)
        if m and 0 < int(m.group("age")) <= 110:
            r.set("age", int(m.group("age")), m.start(), m.end())
            if "sex" in m.groupdict() and m.group("sex"):
                r.set("sex", "female" if m.group("sex").upper() == "F" else "male", m.start(), m.end())
            break
    if "age" not in r.facts and (m := _AGE_WORDS.search(r.text)):  # dictated: "sixty-three year old"
        age = _TENS[m.group("tens").lower()] + _UNITS.get((m.group("unit") or "").lower(), 0)
        r.set("age", age, m.start(), m.end())
    if m := _TRANS_FEM.search(r.text):
        r.set("gender", "transfeminine", m.start(), m.end())
        r.set("sex", "male", m.start(), m.end(), overwrite=True)
    elif m := _TRANS_MASC.search(r.text):
        r.set("gender", "transmasculine", m.start(), m.end())
        r.set("sex", "female", m.start(), m.end(), overwrite=True)
    if "sex" not in r.facts:
        f, mm = _FEMALE.search(r.text), _MALE.search(r.text)
        if f and not mm:
            r.set("sex", "female", f.start(), f.end())
        elif mm and not f:
            r.set("sex", "male", mm.start(), mm.end())
        elif f and mm:  # both: the earlier word usually describes the patient
            first = f if f.start() < mm.start() else mm
            r.set("sex", "female" if first is f else "male", first.start(), first.end())
    if "sex" not in r.facts and (m := _PREGNANT.search(r.text) or _LACTATING.search(r.text)):
        r.set("sex", "female", m.start(), m.end())
    if _NOT_PREGNANT.search(r.text):
        r.first("pregnant", _NOT_PREGNANT, False)
    else:
        r.first("pregnant", _PREGNANT, True)
    if _NOT_LACTATING.search(r.text):
        r.first("lactating", _NOT_LACTATING, False)
    else:
        r.first("lactating", _LACTATING, True)


def _read_tumor(r: _Reading) -> None:
    text = r.text
    for m in _SIZE.finditer(text):
        after = text[m.end():m.end() + 60]
        if _NODE_SIZE_CONTEXT.search(after) or re.search(r"(node|lymph)\W*$", text[max(0, m.start() - 25):m.start()],
                                                        re.IGNORECASE):
            continue  # a lymph node's size, not the tumor's
        dims = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", m.group("dims"))]
        size = max(dims) * (10 if m.group("unit").lower().startswith("c") else 1)
        r.set("tumor_size_mm", round(size, 1), m.start(), m.end())
        break
    if m := _TNM.search(text):
        _set_tnm(r, m)
    else:
        if (m := _T_ALONE.search(text)) and not re.match(r"\s*-?\s*weighted", text[m.end():], re.IGNORECASE):
            r.set("t", (m.group("tp") or "c").lower() + _canon(m.group("t")), m.start(), m.end())
        if m := _N_ALONE.search(text):
            r.set("n", (m.group("np") or "c").lower() + _canon(m.group("n")), m.start(), m.end())
    if "n" not in r.facts and (m := _SUPRACLAVICULAR.search(text)):
        r.set("n", "cN3c", m.start(), m.end())  # AJCC: ipsilateral supraclavicular nodes are N3c
    if "m" not in r.facts and (m := _M_ALONE.search(text)):
        r.set("m", (m.group("mp") or "c").lower() + _canon(m.group("m")), m.start(), m.end())
    if m := _STAGE.search(text):
        roman = _ROMAN[m.group("num").lower()]
        sub = (m.group("sub") or "").upper()
        stage = roman + sub if roman not in ("0", "IV") else roman
        if stage in {"0", "I", "IA", "IB", "II", "IIA", "IIB", "III", "IIIA", "IIIB", "IIIC", "IV"}:
            r.set("stage", stage, m.start(), m.end())
    elif m := _METASTATIC.search(text):
        r.set("stage", "IV", m.start(), m.end())
    for pattern in _GRADE:
        if m := pattern.search(text):
            g = m.groupdict().get("g")
            value = _GRADE_WORD[m.group("word").lower()] if m.groupdict().get("word") else \
                int(_ROMAN_INT.get(g.lower(), g))  # type: ignore[union-attr]
            r.set("grade", value, m.start(), m.end())
            break
    invasive_found = False
    for name, pattern in _HISTOLOGY:
        if m := pattern.search(text):
            if name == "dcis" and invasive_found:
                continue  # DCIS alongside an invasive cancer: the invasive type decides
            r.set("histology", name, m.start(), m.end())
            invasive_found = name != "dcis"
            if invasive_found:
                break
    if "histology" not in r.facts and (m := _INVASIVE_GENERIC.search(text)):
        r.cite("invasive", m.start(), m.end())
    _read_receptors(r)


_ROMAN_INT = {"i": "1", "ii": "2", "iii": "3"}


def _canon(category: str) -> str:
    """'t1C' -> 'T1c', 'n0(I+)' -> 'N0(i+)', 'tis' -> 'Tis', 'mx' -> 'MX'."""
    head, rest = category[0].upper(), category[1:].lower()
    return head + ("X" if rest == "x" else rest)


def _set_tnm(r: _Reading, m: re.Match[str]) -> None:
    # A prefix written once ("cT3N1", "pT1cN0") applies to the whole string.
    prefix = (m.group("tp") or "c").lower()
    r.set("t", prefix + _canon(m.group("t")), m.start("t") - len(m.group("tp") or ""), m.end("t"))
    r.set("n", (m.group("np") or prefix).lower() + _canon(m.group("n")), m.start("n"), m.end("n"))
    if m.group("m"):
        r.set("m", (m.group("mp") or "c").lower() + _canon(m.group("m")), m.start("m"), m.end("m"))


def _receptor_value(word: str) -> str:
    w = word.lower().strip()
    if w in ("+", "++", "+++", "positive", "pos", "amplified"):
        return "positive"
    return "negative"


def _read_receptors(r: _Reading) -> None:
    text = r.text
    if m := _TRIPLE_NEG.search(text):
        for key in ("er", "pr", "her2"):
            r.set(key, "negative", m.start(), m.end())
    if m := _ER_PR_JOINT.search(text):
        value = _receptor_value(m.group("v"))
        r.set("er", value, m.start(), m.end())
        r.set("pr", value, m.start(), m.end())
    for key, word in _RECEPTOR_WORD.items():
        pattern = _rx(rf"(?<![a-z])(?P<w>{word})\s*(?:status\s*)?(?:is\s*|was\s*)?"
                      rf"(?:strongly\s*|strong\s*|weakly\s*|weak\s*)?[:\-]?\s*(?P<v>{_POS}|{_NEG})")
        if m := pattern.search(text):
            r.set(key, _receptor_value(m.group("v")), m.start(), m.end())
    for m in _PERCENT.finditer(text):
        pct = m.group("pct").replace(" ", "")
        r.set(m.group("which").lower(), "negative" if pct.startswith("<") or int(pct) < 1 else "positive",
              m.start(), m.end())
    if (m := _HR.search(text)) and "er" not in r.facts:
        r.set("er", _receptor_value(re.sub(r"^.*?(\+|positive|pos|negative|neg|-|−)\s*$", r"\1",
                                          m.group(0), flags=re.IGNORECASE)), m.start(), m.end())
        r.assumptions.append(f'"{m.group(0)}" read as the ER result (hormone-receptor status)')
    if m := _HER2_IHC.search(text):
        score = m.group("score")
        score = "0" if score in ("0", "0+") else score
        r.set("her2_ihc", score, m.start("score"), m.end("score"))
    if m := _HER2_ISH.search(text):
        v = m.group("v").lower()
        r.set("her2_ish", "amplified" if v in ("amplified", "positive") else "not amplified",
              m.start(), m.end())
    if "her2" not in r.facts:
        if m := _HER2_EQUIVOCAL.search(text):
            r.set("her2", "equivocal", m.start(), m.end())
        elif m := _HER2_LOW.search(text):
            r.set("her2", "negative", m.start(), m.end())
    # HER2 status from the test results where the text gives no status in words.
    if "her2" not in r.facts or r.facts["her2"] == "equivocal":
        ish, ihc = r.facts.get("her2_ish"), r.facts.get("her2_ihc")
        key = "her2_ish" if ish else "her2_ihc"
        status = {"amplified": "positive", "not amplified": "negative"}.get(ish or "") or \
            {"3+": "positive", "1+": "negative", "0": "negative", "2+": "equivocal"}.get(ihc or "")
        if status:
            ev = r.evidence[key][0]
            r.set("her2", status, ev.start or 0, ev.end or 0, overwrite=True)


def _read_history(r: _Reading) -> None:
    text = r.text
    for name, pattern in _SURGERY:
        for m in pattern.finditer(text):
            if _PLANNED.search(text[max(0, m.start() - 40):m.start()]):
                continue  # planned surgery is not surgical history
            r.set("surgery", name, m.start(), m.end())
            break
        if "surgery" in r.facts:
            break
    for name, pattern in _RECON:
        if m := pattern.search(text):
            r.set("reconstruction", name, m.start(), m.end())
            break
    if "reconstruction" not in r.facts and re.search(r"\bmastectom", text, re.IGNORECASE) and \
            (m := re.search(r"\b(reconstruct\w*)", text, re.IGNORECASE)) and \
            not re.search(r"\bno\s+$", text[max(0, m.start() - 5):m.start()], re.IGNORECASE):
        r.cite("reconstruction", m.start(), m.end())  # reconstructed, type not stated
    for m in _IMPLANT.finditer(text):
        if r.facts.get("reconstruction") == "implant":
            break  # the implants are the reconstruction, not cosmetic implants
        if m.group("type"):
            r.set("implant", m.group("type").lower(), m.start(), m.end())
        else:
            r.cite("implant", m.start(), m.end())  # implants, type not stated
        break
    if m := _IMPLANT_YEARS.search(text):
        r.set("implant_years", float(m.group("n") or m.group("n2")), m.start(), m.end())
    if m := _NO_HORMONES.search(text):
        r.set("hormone_use_years", 0.0, m.start(), m.end())
    elif m := _HORMONE_YEARS.search(text):
        r.set("hormone_use_years", float(m.group("n") or m.group("n2")), m.start(), m.end())
    for name, pattern in _RISK:
        hit = next((m for m in pattern.finditer(text)
                    if not _NEGATED_BEFORE.search(text[max(0, m.start() - 30):m.start()])), None)
        if hit:
            r.set("risk", name, hit.start(), hit.end())
            break
    if m := _NEOADJ.search(text):
        state = None
        for value, pattern in (("ongoing", _NEOADJ_ONGOING), ("completed", _NEOADJ_DONE),
                               ("planned", _NEOADJ_PLANNED)):
            if sm := pattern.search(text):
                state = value
                r.set("neoadjuvant", value, sm.start(), sm.end())
                break
        if state is None:
            r.cite("neoadjuvant_mention", m.start(), m.end())
    if m := _HISTORY.search(text):
        r.set("cancer_history", True, m.start(), m.end())
    if m := _SINCE.search(text):
        n = float(m.group("n"))
        months = n * 12 if m.group("unit").lower().startswith(("y",)) else n
        r.set("months_since_treatment", months, m.start(), m.end())


def _clause_state(text: str, mention: Mention) -> str | None:
    """A lab's state from the nearest cue word in the same clause ("normal LFTs and ALP")."""
    left = text[mention.sentence_start:mention.start]
    right = text[mention.end:mention.sentence_end]
    breaks_left = list(_CLAUSE_BREAK.finditer(left))
    left = left[breaks_left[-1].end():] if breaks_left else left
    first_break = _CLAUSE_BREAK.search(right)
    right = right[:first_break.start()] if first_break else right
    cues: list[tuple[int, str]] = []
    for pattern, state in ((_LAB_ABNORMAL, "abnormal"), (_LAB_NORMAL, "normal")):
        cues += [(len(left) - m.end(), state) for m in pattern.finditer(left)]
        cues += [(m.start(), state) for m in pattern.finditer(right)]
    if not cues:
        return None
    state = min(cues)[1]
    if mention.negated and state == "abnormal":
        return "normal"  # "no elevated ALP"
    return state


_ASYMPTOMATIC = _rx(r"\b(asymptomatic|no symptoms|without symptoms|symptom[- ]free|no complaints|"
                    r"feels? (?:well|fine)|doing well|otherwise well)\b")


_LAB_VALUE = _rx(r"^\s*(?:level\s*|of\s*|was\s*|is\s*|at\s*|:\s*|=\s*)*(?P<v>\d+(?:\.\d+)?)")
_RISING = _rx(r"\b(?:went|rose|increased|climbed|risen|up)\s+from\s+(?P<a>\d+(?:\.\d+)?)\s+to\s+(?P<b>\d+(?:\.\d+)?)")


def _value_state(r: _Reading, limits: dict[str, float], mention: Mention) -> str | None:
    """A lab written as a number: above the usual adult upper limit, or rising, is abnormal."""
    after = r.text[mention.end:mention.sentence_end]
    if (m := _RISING.search(after[:60])) and float(m.group("b")) > float(m.group("a")):
        r.assumptions.append(f'{mention.text} read as rising ("{m.group(0)}")')
        return "abnormal"
    limit = limits.get(mention.text.lower())
    if limit is None or not (m := _LAB_VALUE.match(after)):
        return None
    value = float(m.group("v"))
    state = "abnormal" if value > limit else "normal"
    r.assumptions.append(f"{mention.text} {m.group('v')} read as {state}: the usual adult upper limit is "
                         f"about {limit:g}, but laboratories differ; a stated result wins")
    return state


def _read_mentions(r: _Reading, kb: KnowledgeBase, found: list[Mention]) -> dict[str, Any]:
    terms = kb.terms
    symptoms: list[str] = []
    denied: list[str] = []
    findings: list[str] = []
    labs: dict[str, str] = {}
    asked: list[str] = []
    family: list[str] = []
    for mt in found:
        term = terms.get(mt.code)
        if mt.code.startswith("cancer:"):
            if mt.family:
                who = re.search(r"\b(mother|mom|sister|aunt|grandmother|father|brother|daughter|cousin|"
                                r"niece|relative|family)\b", r.text[mt.sentence_start:mt.sentence_end],
                                re.IGNORECASE)
                entry = f"{who.group(1).lower() if who else 'relative'}: {mt.text}"
                if entry not in family:
                    family.append(entry)
                    r.cite("family_history", mt.start, mt.end)
            continue
        if term is None:
            continue
        if term.kind == "procedure":
            if mt.code not in asked:
                asked.append(mt.code)
                r.cite("asked_procedures", mt.start, mt.end)
            continue
        if term.kind == "lab":
            state = _clause_state(r.text, mt) or _value_state(r, term.abnormal_above, mt)
            if state and mt.code not in labs:
                labs[mt.code] = state
                r.cite(f"labs:{mt.code}", mt.start, mt.end)
            continue
        if mt.status == "other":
            continue
        target = findings if term.kind == "finding" else symptoms
        if mt.status == "denied" or (mt.historical and term.kind == "symptom"):
            if mt.status == "denied" and mt.code not in denied:
                denied.append(mt.code)
                r.cite(f"denied:{mt.code}", mt.start, mt.end)
            continue
        if mt.code not in target:
            target.append(mt.code)
            r.cite(f"{'findings' if term.kind == 'finding' else 'symptoms'}:{mt.code}", mt.start, mt.end)
    if "suspicious_axillary_node" in findings:
        mt = next(m for m in found if m.code == "suspicious_axillary_node")
        sentence = r.text[mt.sentence_start:mt.sentence_end]
        if _OTHER_MODALITY.search(sentence) and not _MAMMO_US.search(sentence):
            findings[findings.index("suspicious_axillary_node")] = "suspicious_axillary_node_other_imaging"
            r.evidence["findings:suspicious_axillary_node_other_imaging"] = \
                r.evidence.pop("findings:suspicious_axillary_node")
    return {"symptoms": symptoms, "denied_symptoms": [d for d in denied if d not in symptoms],
            "findings": findings, "labs": labs, "asked": asked, "family_history": family}


def _nodal_status(r: _Reading, symptoms: list[str], denied: list[str]) -> None:
    n = r.facts.get("n")
    if n:
        category = re.sub(r"^(yp|yc|c|p)", "", n)
        if category.startswith("N0"):
            ev = r.evidence["n"][0]
            r.set("nodal_status", "negative", ev.start or 0, ev.end or 0)
        elif category[:2] in ("N1", "N2", "N3"):
            ev = r.evidence["n"][0]
            r.set("nodal_status", "positive", ev.start or 0, ev.end or 0)
    if "nodal_status" not in r.facts:
        if m := _NODE_POS.search(r.text):
            r.set("nodal_status", "positive", m.start(), m.end())
        elif m := _NODE_NEG.search(r.text):
            r.set("nodal_status", "negative", m.start(), m.end())
    if "nodal_status" not in r.facts and "axillary_lump" in symptoms:
        ev = r.evidence["symptoms:axillary_lump"][0]
        r.set("nodal_status", "positive", ev.start or 0, ev.end or 0)


def _phase(r: _Reading, ind: dict[str, Any], profile_facts: dict[str, Any], signs: Iterable[str],
           has_breast_cancer: bool) -> None:
    text = r.text
    signs = set(signs)
    hits: dict[str, re.Match[str]] = {}
    for phase, pattern in _PHASE_CUES:
        if m := pattern.search(text):
            hits[phase] = m
    treated = has_breast_cancer or bool(_TREATED_FOR_CANCER.search(text))
    history = profile_facts.get("cancer_history") or profile_facts.get("surgery") in (
        "lumpectomy", "mastectomy") and treated
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
    elif "neoadjuvant" in hits and neo != "planned":
        choose("neoadjuvant", hits["neoadjuvant"])
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
    elif signs & _DIAGNOSTIC_SIGNS:
        shown = ", ".join(sorted(signs & _DIAGNOSTIC_SIGNS)).replace("_", " ")
        choose("diagnostic_workup", None, f"read as a diagnostic work-up of: {shown}")
    elif "screening" in hits:
        choose("screening", hits["screening"])
    elif "surveillance" in hits:
        choose("surveillance", hits["surveillance"])


def tumor_described_now(text: str) -> bool:
    """A current tumor is being described (new primary), not only a past one."""
    return bool(re.search(r"\b(newly diagnosed|new diagnosis|biopsy[- ]proven|just diagnosed|new primary|"
                          r"recently diagnosed)\b", text, re.IGNORECASE))


def _question_span(text: str) -> tuple[int, int]:
    """Where the question is: the sentence ending in the last "?", else the whole text."""
    q = text.rfind("?")
    if q < 0:
        return 0, len(text)
    start = max(text.rfind(".", 0, q), text.rfind("\n", 0, q), text.rfind("?", 0, q)) + 1
    return start, q + 1


def _purpose(r: _Reading, ind: dict[str, Any], asked: list[str], kb: KnowledgeBase,
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
        if len(found) == 1:
            purpose, m = next(iter(found.items()))
            choose(purpose, m)
            return
        if len(found) > 1:
            break
    # Then the studies asked about; an axillary study is the most specific.
    by_study = {kb.terms[c].purpose for c in asked if c in kb.terms and kb.terms[c].purpose}
    if "axilla" in by_study or len(by_study) == 1:
        purpose = "axilla" if "axilla" in by_study else by_study.pop()
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
    if len(by_study) > 1:
        r.assumptions.append("studies for different purposes are asked about; say whether the "
                             "imaging is for the breast, the axilla or distant spread")


def _scope(r: _Reading, ind: dict[str, Any], found: list[Mention], asked: list[str]) -> None:
    text = r.text
    patient_breast_cancer = any(mt.code == BREAST_CANCER and mt.status == "present" for mt in found)
    other = [mt for mt in found if mt.code.startswith("cancer:") and mt.code != BREAST_CANCER
             and not mt.family]
    # scanwise is about the breast: a screening question with no other organ named is a
    # breast-screening question ("55F, average risk, what screening does she need?").
    screening_question = bool(_SCREENING_CUE.search(text)) and not _OTHER_ORGAN.search(text)
    breast_context = bool(_BREAST_CONTEXT.search(text)) or screening_question or any(
        mt.code in _DIAGNOSTIC_SIGNS for mt in found)
    if other and not patient_breast_cancer and not breast_context:
        site = other[0].code.split(":", 1)[1]
        ind["in_scope"] = False
        ind["scope_note"] = (f'This text is about {other[0].text} ({site}), not breast cancer. scanwise '
                             "covers imaging for breast cancer and breast symptoms only, so it gives no "
                             "recommendation here.")
        r.set("other_cancer", other[0].text, other[0].start, other[0].end)
        return
    if not breast_context and not patient_breast_cancer:
        ind["in_scope"] = False
        ind["scope_note"] = ("This text does not describe a breast imaging question. scanwise covers "
                             "imaging for breast cancer and breast symptoms: describe the patient, the "
                             "situation and the study in question.")
        return
    q_start, q_end = _question_span(text)
    question = text[q_start:q_end] if "?" in text else ""
    if question and _TREATMENT_QUESTION.search(question) and not _IMAGING_WORD.search(question) \
            and not asked:
        ind["in_scope"] = False
        ind["scope_note"] = ("This asks about treatment, not imaging. scanwise answers which imaging "
                             "test, if any, fits a situation; ask the care team about treatment choices.")


def read_scenario(text: str, kb: KnowledgeBase) -> tuple[PatientProfile, Indication]:
    """Read free text into a profile and an indication. Raises UnusableText for empty input."""
    if not isinstance(text, str) or not text.strip():
        raise UnusableText("the text is empty: describe the patient and the question")
    if len(text) > MAX_CHARS:
        raise UnusableText(f"the text is {len(text):,} characters; the limit is {MAX_CHARS:,}")
    if "\x00" in text:
        raise UnusableText("the input contains binary data, not text")
    r = _Reading(text)
    _read_demographics(r)
    _read_tumor(r)
    _read_history(r)
    r.first("asymptomatic", _ASYMPTOMATIC, True)
    found = mentions(text, kb)
    heard = _read_mentions(r, kb, found)
    _nodal_status(r, heard["symptoms"], heard["denied_symptoms"])
    has_bc = any(mt.code == BREAST_CANCER and mt.status == "present" for mt in found) or any(
        k in r.facts for k in ("histology", "t", "stage", "er", "her2"))
    if hist := next((mt for mt in found if mt.code == BREAST_CANCER and mt.historical
                     and mt.status == "present"), None):
        r.set("cancer_history", True, hist.start, hist.end)
    elif "cancer_history" in r.facts and _NEGATED_BEFORE.search(
            text[max(0, (r.evidence["cancer_history"][0].start or 0) - 30):r.evidence["cancer_history"][0].start]):
        del r.facts["cancer_history"]  # "no personal history of breast cancer"
    ind: dict[str, Any] = {"text": text, "in_scope": True, "asked_procedures": heard["asked"]}
    _scope(r, ind, found, heard["asked"])
    signs = heard["symptoms"] + heard["findings"] + [k for k, v in heard["labs"].items() if v == "abnormal"]
    if ind["in_scope"]:
        _phase(r, ind, r.facts, signs, has_bc)
        if ind.get("phase") in ("surveillance", "suspected_recurrence") and "cancer_history" not in r.facts:
            r.facts["cancer_history"] = True
            r.assumptions.append("personal history of breast cancer inferred from the follow-up context")
        _purpose(r, ind, heard["asked"], kb, signs)
    profile_keys = set(PatientProfile.model_fields) - {"evidence"}
    facts = {k: v for k, v in r.facts.items() if k in profile_keys}
    facts.update(symptoms=heard["symptoms"], denied_symptoms=heard["denied_symptoms"],
                 findings=heard["findings"], labs=heard["labs"], family_history=heard["family_history"])
    profile_evidence = {k: v for k, v in r.evidence.items()
                        if k.split(":")[0] in profile_keys | {"labs", "denied", "invasive", "neoadjuvant_mention"}}
    profile = PatientProfile(**facts, evidence=profile_evidence)
    indication = Indication(
        **ind,
        assumptions=r.assumptions,
        evidence={k: v for k, v in r.evidence.items() if k in ("phase", "purpose", "asked_procedures")},
    )
    return profile, indication

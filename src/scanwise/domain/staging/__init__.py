"""AJCC 8th edition breast cancer staging (revised tables of January 2018).

Public API::

    from scanwise.domain.staging import stage, StageResult, parse_t, parse_n, parse_m, StagingError

    result = stage("T1c", "N0", "M0", grade=2, er="positive", pr="positive", her2="negative",
                   tables=kb.stage_tables)
    result.anatomic, result.clinical_prognostic, result.pathological_prognostic  # "IA" x 3
    print(result.explain())

Which prognostic table applies is read from the T and N prefixes: ``p``/``yp`` means
pathological staging, ``c`` clinical, ``y`` post-neoadjuvant (anatomic stage only, as
AJCC has no post-therapy prognostic groups), and no prefix computes both tables. The
full reasoning is in :mod:`scanwise.domain.staging.engine`.

The stage tables are data (``knowledge/staging/*.yaml``, read by the knowledge loader
into ``KnowledgeBase.stage_tables``, a :class:`StageTables`), each citing its AJCC source and noting
where public copies disagree; :mod:`scanwise.domain.staging.parsing` lists the accepted
spellings (prefixes c/p/y/yc/yp/r, modifiers (sn), (f), (i+), (mol+), mi, OCR slips).
"""

from scanwise.domain.staging.batch import stage_record, stage_records
from scanwise.domain.staging.engine import EDITION, StageResult, stage
from scanwise.domain.staging.errors import StagingError
from scanwise.domain.staging.parsing import (
    ParsedCategory,
    parse_grade,
    parse_her2,
    parse_m,
    parse_n,
    parse_oncotype,
    parse_receptor,
    parse_t,
    t_from_size,
)
from scanwise.domain.staging.tables import StageTables, TableError

__all__ = [
    "EDITION",
    "ParsedCategory",
    "StageResult",
    "StageTables",
    "StagingError",
    "TableError",
    "parse_grade",
    "parse_her2",
    "parse_m",
    "parse_n",
    "parse_oncotype",
    "parse_receptor",
    "parse_t",
    "stage",
    "stage_record",
    "stage_records",
    "t_from_size",
]

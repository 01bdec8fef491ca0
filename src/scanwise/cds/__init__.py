"""CDS Hooks 2.0 services for EHRs: imaging orders rated as they are selected or signed.

``service`` holds the hook logic (cards, systemActions, feedback) over the application core,
``auth`` the JWT rules every call must pass, ``http`` the FastAPI endpoints ``scanwise serve``
mounts, ``work`` a call's CPU work as a job for the web app's worker processes, ``recorder``
the audit writer (many calls to a commit), ``fhir_fetch`` the reads from an EHR's FHIR server
when the prefetch is missing.
"""

from scanwise.cds.http import CdsSettings, install
from scanwise.cds.service import SERVICES, CdsService, HookError

__all__ = ["SERVICES", "CdsService", "CdsSettings", "HookError", "install"]

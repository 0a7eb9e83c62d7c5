"""One module per statement of the paper; ``REGISTRY`` maps claim ids to claims."""

from __future__ import annotations

from slth_check.claims.base import AuditEntry, Claim, Outcome, compare
from slth_check.claims.calibration import Calibration
from slth_check.claims.definition1 import Definition1
from slth_check.claims.lemma1 import Lemma1
from slth_check.claims.lemma2 import Lemma2
from slth_check.claims.lemma3 import Lemma3
from slth_check.claims.lueker import Lueker
from slth_check.claims.proposition1 import Proposition1
from slth_check.claims.rss import RSSAgreement
from slth_check.claims.theorem1 import Theorem1

REGISTRY: dict[str, type[Claim]] = {
    Definition1.id: Definition1,
    Proposition1.id: Proposition1,
    RSSAgreement.id: RSSAgreement,
    Lemma3.id: Lemma3,
    Lueker.id: Lueker,
    Lemma1.id: Lemma1,
    Lemma2.id: Lemma2,
    Theorem1.id: Theorem1,
    Calibration.id: Calibration,
}


def register(cls: type[Claim]) -> type[Claim]:
    """Add a claim class to the registry (used by later statements)."""
    REGISTRY[cls.id] = cls
    return cls


__all__ = ["AuditEntry", "Claim", "Outcome", "REGISTRY", "compare", "register"]

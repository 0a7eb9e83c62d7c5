"""One module per statement of the paper; ``REGISTRY`` maps claim ids to claims."""

from __future__ import annotations

from .base import AuditEntry, Claim, Outcome, compare
from .calibration import Calibration
from .definition1 import Definition1
from .lemma2 import Lemma1, Lemma2
from .lemma3 import Lemma3
from .lueker import Lueker
from .proposition1 import Proposition1
from .rss import RSSAgreement
from .theorem1 import Theorem1

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

"""ImportSummary: how many records of an import ended how."""

from __future__ import annotations

import attrs

from usercore.services.transfer.importer import ImportOutcome, ImportStatus


@attrs.define
class ImportSummary:
    """Counts of outcomes, by status; the outcomes themselves are streamed, not kept."""

    counts: dict[ImportStatus, int] = attrs.field(factory=lambda: dict.fromkeys(ImportStatus, 0))

    def add(self, outcome: ImportOutcome) -> None:
        """Count one outcome."""
        self.counts[outcome.status] += 1

    @property
    def total(self) -> int:
        """Records seen."""
        return sum(self.counts.values())

    @property
    def refused(self) -> int:
        """Records refused: any makes the import a failure."""
        return self.counts[ImportStatus.REFUSED]

    def __str__(self) -> str:
        parts = ", ".join(f"{self.counts[status]} {status.value}" for status in ImportStatus)
        return f"{self.total} records: {parts}"

"""Moving users in and out: the export format, imports from it and from other systems."""

from usercore.services.transfer.exporter import export_records
from usercore.services.transfer.formats import SOURCES, read_records
from usercore.services.transfer.importer import (
    DEFAULT_BATCH_SIZE,
    Importer,
    ImportOutcome,
    ImportStatus,
    OnConflict,
    SourceRecord,
)
from usercore.services.transfer.records import FIELDS, NO_PASSWORD, user_to_record
from usercore.services.transfer.summary import ImportSummary

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "FIELDS",
    "NO_PASSWORD",
    "SOURCES",
    "ImportOutcome",
    "ImportStatus",
    "ImportSummary",
    "Importer",
    "OnConflict",
    "SourceRecord",
    "export_records",
    "read_records",
    "user_to_record",
]

"""Import studies from a PACS (``dicomweb:BASE_URL``): search, retrieve into the workspace, then a normal import.

Retrieved instances land in ``workspace/pacs/<key>/`` (one folder per server and set of studies), so they go
through the same readers, windowing, ingestion report and patient-level splits as a folder import, the Data
page can still show their headers, and a retrieval that stopped half-way resumes where it stopped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from medgan import workspace
from medgan.data.ingest import IngestResult, Progress, ingest
from medgan.dicomweb import (
    DEFAULT_TIMEOUT,
    PacsError,
    PacsLogin,
    check_url,
    connect,
    retrieve_studies,
    search_studies,
)

SCHEME = "dicomweb:"


def is_dicomweb_source(source: str) -> bool:
    """Whether an ingest source names a DICOMweb server (``dicomweb:http://host/dicom-web``)."""
    return str(source).lower().startswith(SCHEME)


def retrieval_folder(url: str, study_uids: Sequence[str]) -> Path:
    """The workspace folder that holds the instances of ``study_uids`` retrieved from ``url``."""
    key = hashlib.sha256("|".join([url, *sorted(study_uids)]).encode()).hexdigest()[:16]
    return workspace.subdir("pacs", key)


def ingest_dicomweb(
    source: str,
    name: str,
    *,
    studies: Sequence[str] = (),
    query: dict[str, str] | None = None,
    login: PacsLogin | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
    **options,
) -> IngestResult:
    """Import the studies ``studies`` plus those matching ``query`` (QIDO-RS filters) from a DICOMweb server.

    Args:
        source: ``dicomweb:BASE_URL`` or the base URL itself.
        options: keyword arguments of :func:`medgan.data.ingest.ingest` (labels, resolution, window...).
    Raises:
        PacsError: bad URL, refused login, timeout, lost connection (what was retrieved is kept), no study.
    """
    url = check_url(source[len(SCHEME) :] if is_dicomweb_source(source) else source)
    if not studies and not query:
        raise PacsError(f"{url}: name the studies to import (--study UID) or a search (--query Modality=CR)")
    client = connect(url, login, timeout)
    uids = list(
        dict.fromkeys(
            [*studies, *(hit.uid for hit in search_studies(client, query or {}))] if query else studies
        )
    )
    if not uids:
        raise PacsError(f"{url}: no study matches {query}")
    folder = retrieval_folder(url, uids)
    skipped = retrieve_studies(client, uids, folder, progress)
    if not any(folder.glob("*.dcm")):
        raise PacsError(
            f"{url}: none of the {len(uids)} studies delivered an instance: "
            + "; ".join(f"{s.file}: {s.reason}" for s in skipped[:5])
        )
    description = options.pop("description", "") or f"{len(uids)} studies from DICOMweb {url}"
    return ingest(folder, name, description=description, progress=progress, skipped_before=skipped, **options)

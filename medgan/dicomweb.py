"""PACS pull and push over DICOMweb (PS3.18) with ``dicomweb-client``: QIDO-RS search, WADO-RS retrieve, STOW-RS store.

Pull (:func:`retrieve_studies`) writes each instance as ``<SOPInstanceUID>.dcm`` into a folder of the workspace,
skipping files already there, so an interrupted retrieval resumes and keeps what it stored; the folder is then
imported like any other (:mod:`medgan.data.pacs`). Push (:func:`send_dicom`) posts Part 10 files in small
batches and reports which instances the server accepted and which it refused, with the server's reason.
Every network failure becomes a :class:`PacsError` that names the server and says what to check.
"""

from __future__ import annotations

import io
import os
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlparse

import pydicom
import requests
from dicomweb_client import DICOMwebClient
from pydicom.dataset import Dataset

from medgan.data.frames import SkippedFile
from medgan.workspace import temp_path_beside

DEFAULT_TIMEOUT = 30.0  # seconds per request
QIDO_PAGE = 200  # results per QIDO-RS request
SEND_BATCH = 16  # instances per STOW-RS request
ANY_TRANSFER_SYNTAX = (("application/dicom", "*"),)  # retrieve as stored: no transcoding by the server
QUERY_KEYS = {  # --query KEY=VALUE -> QIDO-RS study-level attribute
    "patientid": "PatientID",
    "patientname": "PatientName",
    "modality": "ModalitiesInStudy",
    "modalitiesinstudy": "ModalitiesInStudy",
    "studydate": "StudyDate",
    "accessionnumber": "AccessionNumber",
    "studydescription": "StudyDescription",
    "studyinstanceuid": "StudyInstanceUID",
}
FAILURE_REASONS = {  # STOW-RS Failure Reason (PS3.18 Table I.2-1 / PS3.7 C.4.2)
    0x0110: "processing failure",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0xA700: "out of resources",
    0xA900: "data set does not match the SOP class",
    0xC000: "cannot understand",
    0xC122: "transfer syntax not supported",
}
Progress = Callable[[int, int, str], None]


class PacsError(RuntimeError):
    """A DICOMweb request failed; the message names the server and what to check."""


@dataclass(frozen=True)
class PacsLogin:
    """Basic-auth user and password, or a bearer token (either may be empty)."""

    username: str = ""
    password: str = ""
    token: str = ""

    @classmethod
    def from_env(cls) -> PacsLogin:
        """``MEDGAN_PACS_USER`` / ``MEDGAN_PACS_PASSWORD`` or ``MEDGAN_PACS_TOKEN``."""
        env = os.environ.get
        return cls(env("MEDGAN_PACS_USER", ""), env("MEDGAN_PACS_PASSWORD", ""), env("MEDGAN_PACS_TOKEN", ""))

    @classmethod
    def configured(cls) -> PacsLogin:
        """The login of the environment, else of the ``[pacs]`` table of ``.streamlit/secrets.toml`` (username,
        password, token), so neither the pages nor the job database ever hold it."""
        login = cls.from_env()
        if login.username or login.token:
            return login
        table = pacs_secrets()
        return cls(
            str(table.get("username", "")), str(table.get("password", "")), str(table.get("token", ""))
        )


def pacs_secrets() -> dict:
    """The ``[pacs]`` table of Streamlit's secrets file (``./.streamlit`` first, then ``~/.streamlit``), or {}."""
    for folder in (Path.cwd(), Path.home()):
        path = folder / ".streamlit" / "secrets.toml"
        if path.is_file():
            try:
                return dict(tomllib.loads(path.read_text()).get("pacs", {}))
            except (OSError, tomllib.TOMLDecodeError, AttributeError, TypeError, ValueError):
                return {}
    return {}


@dataclass(frozen=True)
class StudyHit:
    """One study found by QIDO-RS."""

    uid: str
    patient_id: str
    date: str
    modalities: str
    description: str
    n_instances: int | None


@dataclass
class SendResult:
    """What a STOW-RS push did: SOP Instance UIDs accepted, and (file, reason) for every instance refused."""

    accepted: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def check_url(url: str) -> str:
    """``url`` without a trailing slash; :class:`PacsError` unless it is an http(s) URL with a host."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PacsError(
            f"{url!r} is not a DICOMweb base URL (expected http(s)://host[:port]/path, "
            "e.g. http://pacs:8042/dicom-web)"
        )
    return url.strip().rstrip("/")


def connect(url: str, login: PacsLogin | None = None, timeout: float = DEFAULT_TIMEOUT) -> DICOMwebClient:
    """A client for the DICOMweb service at ``url`` (no request is sent yet; failures are not retried)."""
    session = requests.Session()
    login = login or PacsLogin()
    if login.token:
        session.headers["Authorization"] = f"Bearer {login.token}"
    elif login.username:
        session.auth = (login.username, login.password)
    client = DICOMwebClient(check_url(url), session=session, timeout=timeout)
    client.set_http_retry_params(retry=False)
    return client


def _http_reason(url: str, exc: requests.HTTPError, action: str) -> str:
    code = exc.response.status_code if exc.response is not None else "?"
    if code in (401, 403):
        return f"{url}: login refused (HTTP {code}) while trying to {action}; check the user name and password or token"
    if code == 404:
        return f"{url}: HTTP 404 while trying to {action}; is this the DICOMweb base URL (often ending in /dicom-web)?"
    return f"{url}: the server answered HTTP {code} while trying to {action}"


@contextmanager
def explained(url: str, action: str) -> Iterator[None]:
    """Turn request failures inside the block into a :class:`PacsError` naming ``url`` and ``action``."""
    try:
        yield
    except requests.HTTPError as exc:
        raise PacsError(_http_reason(url, exc, action)) from exc
    except requests.Timeout as exc:
        raise PacsError(
            f"{url}: no answer in time while trying to {action} (timeout); is the server overloaded?"
        ) from exc
    except requests.ConnectionError as exc:
        raise PacsError(
            f"{url}: cannot connect while trying to {action}; is the server running and the address "
            "and port right?"
        ) from exc
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise PacsError(
            f"{url}: not a DICOMweb answer while trying to {action} ({type(exc).__name__}: {exc})"
        ) from exc


def parse_query(items: Iterable[str]) -> dict[str, str]:
    """``["Modality=CR", "StudyDate=20200101-20201231"]`` -> QIDO-RS study search filters."""
    filters = {}
    for item in items:
        key, sep, value = item.partition("=")
        keyword = QUERY_KEYS.get(key.strip().lower())
        if not sep or keyword is None or not value.strip():
            raise ValueError(
                f"--query {item!r}: expected KEY=VALUE with KEY one of "
                "PatientID, PatientName, Modality, StudyDate, AccessionNumber, StudyDescription, StudyInstanceUID"
            )
        filters[keyword] = value.strip()
    return filters


def _search_all(search: Callable[..., list[dict]], key: str) -> list[Dataset]:
    """Every result of a QIDO-RS search, page by page (stops on a short page, or on a page with nothing new,
    which is what servers that ignore ``offset`` return)."""
    found: dict[str, Dataset] = {}
    while True:
        page = [Dataset.from_json(item) for item in search(limit=QIDO_PAGE, offset=len(found))]
        new = {str(ds[key].value): ds for ds in page if str(ds[key].value) not in found}
        found.update(new)
        if len(page) < QIDO_PAGE or not new:
            return list(found.values())


def search_studies(client: DICOMwebClient, filters: dict[str, str]) -> list[StudyHit]:
    """Studies matching ``filters`` (QIDO-RS; keys as in :func:`parse_query` or DICOM keywords), in the server's order."""
    filters = {QUERY_KEYS.get(key.lower(), key): value for key, value in filters.items()}
    fields = ["NumberOfStudyRelatedInstances", "ModalitiesInStudy", "StudyDescription", "StudyDate"]
    with explained(client.base_url, "search for studies"):
        found = _search_all(
            partial(client.search_for_studies, search_filters=filters, fields=fields), "StudyInstanceUID"
        )
    hits = []
    for ds in found:
        count = ds.get("NumberOfStudyRelatedInstances")
        modalities = ds.get("ModalitiesInStudy") or []
        hits.append(
            StudyHit(
                str(ds.StudyInstanceUID),
                str(ds.get("PatientID", "")),
                str(ds.get("StudyDate", "")),
                "/".join(modalities) if not isinstance(modalities, str) else modalities,
                str(ds.get("StudyDescription", "")),
                int(count) if count not in (None, "") else None,
            )
        )
    return hits


def _instances(client: DICOMwebClient, study_uid: str) -> list[tuple[str, str, str]]:
    """(study, series, SOP instance) UIDs of every instance of a study (QIDO-RS)."""
    with explained(client.base_url, f"list the instances of study {study_uid}"):
        found = _search_all(partial(client.search_for_instances, study_uid), "SOPInstanceUID")
    return [(study_uid, str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)) for ds in found]


def _save(ds: Dataset, path: Path) -> None:
    tmp = temp_path_beside(path)
    try:
        ds.save_as(tmp, enforce_file_format=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _retrieve_one(client: DICOMwebClient, uids: tuple[str, str, str], path: Path) -> str | None:
    """Store one instance at ``path``; the reason when the server refused it (network failures raise)."""
    url = client.base_url
    try:
        with explained(url, f"retrieve instance {uids[2]}"):
            _save(client.retrieve_instance(*uids, media_types=ANY_TRANSFER_SYNTAX), path)
    except PacsError as exc:
        if (
            isinstance(exc.__cause__, requests.HTTPError)
            and exc.__cause__.response is not None
            and exc.__cause__.response.status_code not in (401, 403)
        ):
            return str(exc).removeprefix(f"{url}: ")
        raise
    return None


def retrieve_studies(
    client: DICOMwebClient, study_uids: list[str], folder: Path, progress: Progress | None = None
) -> list[SkippedFile]:
    """Retrieve every instance of ``study_uids`` into ``folder`` (WADO-RS), keeping files already there.

    Returns a row per instance (or study) the server would not deliver. A lost connection or a timeout
    raises :class:`PacsError` saying how much was stored; the stored files stay, and running the same
    retrieval again fetches only the rest.
    """
    folder.mkdir(parents=True, exist_ok=True)
    skipped: list[SkippedFile] = []
    todo: list[tuple[str, str, str]] = []
    for uid in study_uids:
        found = _instances(client, uid)
        todo += found
        if not found:
            skipped.append(SkippedFile(f"study {uid}", "no instances on the server (unknown study UID?)"))
    for done, uids in enumerate(todo, 1):
        path = folder / f"{uids[2]}.dcm"
        if not path.exists():
            try:
                reason = _retrieve_one(client, uids, path)
            except PacsError as exc:
                raise PacsError(
                    f"{exc}. Retrieved {done - 1} of {len(todo)} instances; they are kept in "
                    f"{folder.name} and the same import retrieves only the rest"
                ) from exc
            if reason is not None:
                skipped.append(SkippedFile(f"{uids[2]}.dcm", f"not retrieved: {reason}"))
        if progress is not None:
            progress(done, len(todo), f"retrieved {uids[2]}")
    return skipped


def _refused_status(exc: PacsError) -> int | None:
    """The HTTP status when the server refused the request's content (400, 409, 415, 422...), else None."""
    response = getattr(exc.__cause__, "response", None)
    code = response.status_code if response is not None else None
    return code if code is not None and 400 <= code < 500 and code not in (401, 403, 404, 408, 429) else None


def _failure(code: int | None) -> str:
    """``0xC000 cannot understand`` for a STOW-RS failure reason code."""
    if code is None:
        return "no reason given"
    return f"0x{int(code):04X} {FAILURE_REASONS.get(int(code), 'failure')}"


def _json_answer(response: requests.Response) -> Dataset:
    try:
        return Dataset.from_json(response.json()) if response.content else Dataset()
    except ValueError:
        return Dataset()


def _store_batch(client: DICOMwebClient, batch: list[tuple[str, Dataset]], result: SendResult) -> None:
    """Store ``batch``; when the server refuses the request as a whole, each instance again on its own, so
    the good ones are stored and the refused ones named."""
    if not batch:
        return
    names = {str(ds.get("SOPInstanceUID", name)): name for name, ds in batch}
    try:
        with explained(client.base_url, "store instances (STOW-RS)"):
            answer = client.store_instances([ds for _, ds in batch])
    except PacsError as exc:
        code = _refused_status(exc)
        if code is None:
            raise
        if len(batch) > 1:
            for item in batch:
                _store_batch(client, [item], result)
            return
        answer = _json_answer(exc.__cause__.response)
        if not answer.get("FailedSOPSequence"):
            result.refused.append((batch[0][0], f"refused by the server (HTTP {code})"))
            return
    for item in answer.get("ReferencedSOPSequence", []):
        result.accepted.append(str(item.ReferencedSOPInstanceUID))
    for item in answer.get("FailedSOPSequence", []):
        uid = str(item.get("ReferencedSOPInstanceUID", ""))
        result.refused.append(
            (names.get(uid, uid), f"refused by the server ({_failure(item.get('FailureReason'))})")
        )
    answered = set(result.accepted) | {name for name, _ in result.refused}
    result.refused += [
        (name, "the server did not report it as stored")
        for uid, name in names.items()
        if uid not in answered and name not in answered
    ]


def send_dicom(
    client: DICOMwebClient, files: Iterable[tuple[str, bytes]], progress: Progress | None = None
) -> SendResult:
    """Store Part 10 files ``(name, bytes)`` on the server in batches (STOW-RS); report accepted and refused."""
    items = list(files)
    result = SendResult()
    for start in range(0, len(items), SEND_BATCH):
        batch = []
        for name, data in items[start : start + SEND_BATCH]:
            try:
                batch.append((name, pydicom.dcmread(io.BytesIO(data))))
            except Exception as exc:  # a broken file is refused by us, the rest is still sent
                result.refused.append((name, f"not a readable DICOM file ({type(exc).__name__})"))
        try:
            _store_batch(client, batch, result)
        except PacsError as exc:
            raise PacsError(
                f"{exc}. {len(result.accepted)} of {len(items)} instances were stored before this failure"
            ) from exc
        if progress is not None:
            progress(min(start + SEND_BATCH, len(items)), len(items), "sent")
    return result


def send_export(
    zip_path: Path,
    url: str,
    login: PacsLogin | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> SendResult:
    """Store the DICOM files of an export ZIP (``dicom/<class>/*.dcm``) on the DICOMweb server at ``url``."""
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(n for n in archive.namelist() if n.startswith("dicom/") and n.endswith(".dcm"))
        if not names:
            raise PacsError(f"{Path(zip_path).name} holds no DICOM files: export with format dicom or both")
        files = [(name, archive.read(name)) for name in names]
    return send_dicom(connect(url, login, timeout), files, progress)

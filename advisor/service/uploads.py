"""An upload, from the request to a checked run folder: written atomically under HOME/runs/ID,
an image folder unzipped with every member checked, loaded far enough (the loading stage's own
`load`) to know it is readable and has its target, and its form fields read as the batch reads a
job's. A file that fails any of it is removed and the CLI's one-line message is the answer."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from advisor.errors import InputError
from advisor.jobs import FIELDS, job_options
from advisor.loading import load
from advisor.pipeline import RecommendOptions

FORM_FIELDS = tuple(sorted(FIELDS - {"data", "name"}))  # the CLI's options, as the batch's job fields
CHUNK = 1 << 20
MAX_ZIP_MEMBERS = 200_000
UNZIPPED_PER_ZIPPED = 20  # an image folder's zip may unpack to this many times the upload limit, no more


def safe_name(filename: str | None) -> str:
    """The upload's own name with no folders and only plain characters (it names a file here)."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(filename or "").name).strip("._")[:100]
    return base or "data.csv"


def save_stream(source: BinaryIO, folder: Path, name: str, limit_bytes: int) -> Path:
    """Copy `source` to folder/name through a partial file renamed at the end: a kill leaves no
    half-written upload under the real name."""
    folder.mkdir(parents=True, exist_ok=True)
    partial, final = folder / f".{name}.partial", folder / name
    written = 0
    with partial.open("wb") as sink:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit_bytes:
                raise TooLarge(limit_bytes)
            sink.write(chunk)
        sink.flush()
        os.fsync(sink.fileno())
    os.replace(partial, final)
    return final


def receive(source: BinaryIO, folder: Path, name: str, limit_bytes: int) -> Path:
    """An upload saved under folder (save_stream); a .zip unpacked as an image folder. The data's path."""
    source.seek(0)
    data = save_stream(source, folder, name, limit_bytes)
    return unzip_image_folder(data, limit_bytes) if name.lower().endswith(".zip") else data


class TooLarge(Exception):
    def __init__(self, limit_bytes: int):
        super().__init__(f"the upload is larger than this server's limit of {limit_bytes / 2**20:g} MB "
                         "(advisor serve --max-upload-mb).")


def unzip_image_folder(archive: Path, limit_bytes: int) -> Path:
    """An uploaded .zip of an image folder (class subfolders of images), unpacked beside it. Members
    that would land outside it, links, and archives that unpack past the limit are refused."""
    root = archive.with_suffix("")
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [m for m in bundle.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_MEMBERS:
                raise InputError(f"{archive.name}: more than {MAX_ZIP_MEMBERS:,} files in the zip.")
            if sum(m.file_size for m in members) > limit_bytes * UNZIPPED_PER_ZIPPED:
                raise InputError(f"{archive.name}: unpacks to more than {UNZIPPED_PER_ZIPPED}x the upload limit.")
            for member in members:
                _extract(bundle, member, root)
    except zipfile.BadZipFile:
        raise InputError(f"{archive.name}: not a readable zip archive. Zip the image folder (class subfolders "
                         "of images) and upload that.") from None
    archive.unlink()
    entries = [p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX"))] if root.exists() else []
    if len(entries) == 1 and entries[0].is_dir() and any(p.is_dir() for p in entries[0].iterdir()):
        return entries[0]  # the zip held the folder itself, not its class subfolders
    return root


def _extract(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, root: Path) -> None:
    parts = Path(member.filename.replace("\\", "/")).parts
    if not parts or member.filename.startswith("/") or ".." in parts or (member.external_attr >> 16) & 0o170000 == 0o120000:
        raise InputError(f"zip member {member.filename!r}: outside the folder or a link; refused.")
    target = root.joinpath(*parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    with bundle.open(member) as source, target.open("wb") as sink:
        shutil.copyfileobj(source, sink, CHUNK)


def form_options(form: dict[str, str], data: Path, out: Path, address: str | None, command: str) -> RecommendOptions:
    """The form's fields (text, read as YAML scalars: 20 is a number, true a flag, 30s a duration)."""
    unknown = sorted(set(form) - set(FORM_FIELDS))
    if unknown:
        raise InputError(f"unknown field(s) {unknown}; known: file, {', '.join(FORM_FIELDS)}.")
    fields: dict[str, Any] = {}
    for name, text in form.items():
        if text is None or str(text).strip() == "":
            continue
        try:
            fields[name] = yaml.safe_load(str(text)) if name not in ("target", "time", "series") else str(text)
        except yaml.YAMLError:
            fields[name] = str(text)
    try:
        return job_options(fields, data, out, address, command)
    except ValueError as error:
        raise InputError(f"{error}.") from None


def check_loadable(data: Path, target: str | None, shown_as: str) -> None:
    """Loaded far enough to know the advisor can read it and find its target; the message names the
    file as the client named it, never this server's path."""
    try:
        load(data, target)
    except InputError as error:
        raise InputError(str(error).replace(str(data), shown_as)) from None

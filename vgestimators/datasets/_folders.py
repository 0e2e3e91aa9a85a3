"""List image files: folder-per-class data sets and unlabelled images."""

import glob
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ..utils._docstrings import substitute
from ..utils._labels import counted
from ..utils._names import parse_class_name
from ..utils._warnings import warn_user

__all__ = ["list_images", "load_image_folder"]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

_DIGITS = re.compile(r"(\d+)")
_GLOB_CHARS = frozenset("*?[")


def _natural_key(text):
    """Sort key putting "2 - x" before "12 - y" and "img9" before "img10"."""
    return [
        (0, int(part), part) if part.isdigit() else (1, 0, part.casefold())
        for part in _DIGITS.split(text)
    ]


def _check_extensions(extensions):
    if isinstance(extensions, str):
        extensions = (extensions,)
    try:
        extensions = tuple(extensions)
    except TypeError:
        raise TypeError(
            "extensions must be a file extension such as '.jpg' or a sequence "
            f"of them, got {type(extensions).__name__}."
        ) from None
    if not extensions or not all(
        isinstance(e, str) and e.strip(".") for e in extensions
    ):
        raise ValueError(
            f"extensions must be non-empty strings such as '.jpg', got {extensions!r}."
        )
    return frozenset("." + e.lower().lstrip(".") for e in extensions)


def _is_hidden(name):
    return name.startswith(".") or name in {"Thumbs.db", "desktop.ini", "__MACOSX"}


def _list_folder(folder, recursive):
    """Relative paths of all visible files under ``folder``, and the skips."""
    files, skipped = [], []
    for dirpath, dirnames, filenames in os.walk(folder):
        rel_dir = Path(dirpath).relative_to(folder)
        visible = []
        for d in dirnames:
            if _is_hidden(d):
                skipped.append((rel_dir / d, "hidden folder"))
            elif not recursive:
                skipped.append((rel_dir / d, "subfolder (recursive=False)"))
            else:
                visible.append(d)
        dirnames[:] = visible
        for f in filenames:
            if _is_hidden(f):
                skipped.append((rel_dir / f, "hidden file"))
            else:
                files.append(rel_dir / f)
    return files, skipped


def _find_unreadable(paths):
    """``(path, reason)`` of each file of ``paths`` that cannot be decoded.

    Every file is decoded in full (JPEG at reduced scale), in threads, by
    the same check the image embedder runs before training.
    """
    from ..utils._images import scan_image_files

    bad, _ = scan_image_files([str(p) for p in paths], decode=True)
    return [(paths[row], reason) for row, _, reason in bad]


def _unreadable_error(names, where):
    """The ValueError listing unreadable files: ``names`` is ``[(name, reason)]``."""
    listed = "\n".join(f"  {name}: {reason}" for name, reason in names[:20])
    more = f"\n  ... and {len(names) - 20} more" if len(names) > 20 else ""
    return ValueError(
        f"{len(names)} unreadable image file(s){where}:\n{listed}{more}\nRemove "
        "them, or pass on_error='skip'."
    )


@validate_params(
    {
        "root": [str, os.PathLike],
        "extensions": [str, "array-like"],
        "recursive": ["boolean"],
        "parse_names": ["boolean"],
        "verify": ["boolean"],
        "on_error": [StrOptions({"raise", "skip"})],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def load_image_folder(
    root,
    *,
    extensions=IMAGE_EXTENSIONS,
    recursive=True,
    parse_names=True,
    verify=False,
    on_error="raise",
    return_X_y=False,
):
    """List the images of a folder-per-class data set, without decoding them.

    Each sub-folder of ``root`` is one class and holds that class's images,
    as in the Endless Forams release (``root/12 - Globigerinoides
    sacculifer/xxx.jpg``) or :class:`torchvision.datasets.ImageFolder`.  The
    file paths and labels come back ready for an image embedder's ``fit``.

    Parameters
    ----------
    root : str or path-like
        Folder that holds one sub-folder per class.
    extensions : str or sequence of str, default=(".bmp", ".gif", ".jpeg", \
".jpg", ".png", ".tif", ".tiff", ".webp")
        File extensions counted as images (case-insensitive; the dot is
        optional).  Other files are skipped and listed in ``skipped``.
    recursive : bool, default=True
        How folders *inside* a class folder are treated.  If True their
        images belong to the enclosing class folder (e.g. ``12 - G.
        sacculifer/cruise_A/xxx.jpg`` is a *G. sacculifer* image).  If False
        they are not searched and are listed in ``skipped``.
    parse_names : bool, default=True
        If True, class names are parsed from folder names: a leading class
        number such as ``"12 - "`` or ``"12_"`` is split off (into
        ``class_numbers``), underscores become spaces and white space is
        normalised, so ``"12 - Globigerinoides_sacculifer"`` becomes
        ``"Globigerinoides sacculifer"``.  If False the folder names are the
        class names, verbatim.
    verify : bool, default=False
        If True, decode every image with Pillow (in threads; JPEG at reduced
        scale) and report the files that cannot be read, by name: files
        that are not images, broken headers and truncated or corrupt image
        bodies alike, by the check the image embedder runs before training.
        This reads every file, which takes time on large sets.
    on_error : {"raise", "skip"}, default="raise"
        With ``verify=True``: raise a ``ValueError`` naming the unreadable
        files, or skip them with a warning; skipped files are listed in
        ``skipped`` and counted in ``n_unreadable``.
    return_X_y : bool, default=False
        If True, return ``(filenames, target)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        filenames : ndarray of str, shape (n_images,)
            Paths of the images (``root`` joined with the relative path),
            ordered by class folder then by path, with numbers compared as
            numbers ("2 - x" before "12 - y", "img9" before "img10").  The
            order is the same on every platform and run.
        target : ndarray of str, shape (n_images,)
            Class name of each image.
        target_names : ndarray of str, shape (n_classes,)
            Class names in folder order.
        class_numbers : ndarray of object, shape (n_classes,)
            The number prefixed to each class folder (int) or None.
        classes : pandas.DataFrame
            One row per class, indexed by class name, with columns ``folder``,
            ``number`` (nullable Int64) and ``n_images``.
        frame : pandas.DataFrame
            One row per image: ``filename``, ``target``, ``class_number``.
        skipped : pandas.DataFrame
            Everything found and not listed, with columns ``path`` and
            ``reason`` (hidden file, not an image extension, outside a class
            folder, subfolder with ``recursive=False``, empty class folder,
            unreadable).
        n_unreadable : int
            Number of files skipped by ``verify=True, on_error="skip"``.
        root : str
            The folder read.
        DESCR : str
            Summary of what was found.
    (filenames, target) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    NotADirectoryError
        If ``root`` is not a folder.
    ValueError
        If ``root`` holds no class folder, no image, two folders that parse to
        the same class name or number, or (``verify=True,
        on_error="raise"``) unreadable images.

    See Also
    --------
    list_images : List unlabelled images, e.g. the images to identify.
    vgestimators.vision.CropBorders : Crop the black borders and burnt-in
        text of the images.
    match_species : Pair the class names with the species of genetic data.

    Notes
    -----
    Images lying directly in ``root`` belong to no class; they are skipped
    with a warning.  Hidden files and folders (starting with ``"."``, and
    ``Thumbs.db``, ``desktop.ini``, ``__MACOSX``) are skipped silently but
    listed in ``skipped``.  A class folder without images is skipped with a
    warning.  Nothing is decoded: a corrupt image surfaces when it is first
    loaded, unless ``verify=True``.

    Examples
    --------
    ${example_temp_dir}
    >>> from PIL import Image
    >>> from vgestimators.datasets import load_image_folder
    >>> for folder in ["12 - Globigerinoides sacculifer", "2 - Candeina_nitida"]:
    ...     (root / folder).mkdir()
    ...     for i in range(2):
    ...         Image.new("RGB", (8, 8)).save(root / folder / f"img{i}.png")
    >>> (root / "2 - Candeina_nitida" / "notes.txt").write_text("x")
    1
    >>> data = load_image_folder(root)
    >>> data.target_names.tolist()
    ['Candeina nitida', 'Globigerinoides sacculifer']
    >>> data.class_numbers.tolist()
    [2, 12]
    >>> [Path(f).name for f in data.filenames]
    ['img0.png', 'img1.png', 'img0.png', 'img1.png']
    >>> data.skipped.reason.tolist()
    ['not an image extension']
    """
    exts = _check_extensions(extensions)
    root_path = Path(os.fspath(root)).expanduser()
    if not root_path.exists():
        raise FileNotFoundError(f"Image folder not found: '{root_path}'.")
    if not root_path.is_dir():
        raise NotADirectoryError(
            f"'{root_path}' is a file, not a folder; give the folder that holds "
            "one sub-folder per class."
        )

    skipped = []  # (relative path, reason)
    stray_images = []
    folders = []
    with os.scandir(root_path) as it:
        entries = sorted(it, key=lambda e: _natural_key(e.name))
    for entry in entries:
        if _is_hidden(entry.name):
            skipped.append(
                (entry.name, "hidden " + ("folder" if entry.is_dir() else "file"))
            )
        elif entry.is_dir():
            folders.append(entry.name)
        elif Path(entry.name).suffix.lower() in exts:
            stray_images.append(entry.name)
            skipped.append((entry.name, "outside a class folder"))
        else:
            skipped.append((entry.name, "not an image extension"))
    if not folders:
        found = "nothing" if not skipped else f"{len(skipped)} file(s) but no folder"
        raise ValueError(
            f"No class folders in '{root_path}' (found {found}). Expected one "
            "sub-folder per class, e.g. '12 - Globigerinoides sacculifer/xxx.jpg'."
        )
    if stray_images:
        warn_user(
            f"{len(stray_images)} image(s) lie directly in '{root_path}' and belong "
            f"to no class; skipped: {stray_images[:5]}."
        )

    classes = []  # (name, number, folder, [relative paths])
    empty = []
    for folder in folders:
        name, number = parse_class_name(folder) if parse_names else (folder, None)
        files, skips = _list_folder(root_path / folder, recursive)
        skipped.extend((Path(folder) / p, reason) for p, reason in skips)
        images = []
        for rel in files:
            if rel.suffix.lower() in exts:
                images.append(Path(folder) / rel)
            else:
                skipped.append((Path(folder) / rel, "not an image extension"))
        if not images:
            empty.append(folder)
            skipped.append((folder, "class folder holds no images"))
            continue
        images.sort(key=lambda p: _natural_key(p.as_posix()))
        classes.append((name, number, folder, images))

    if not classes:
        raise ValueError(
            f"No images in the {len(folders)} class folder(s) of '{root_path}' "
            f"(image extensions: {sorted(exts)}). Pass `extensions=` if your "
            "images use another one."
        )
    if empty:
        warn_user(
            f"{len(empty)} class folder(s) of '{root_path}' hold no images and are "
            f"left out: {empty[:10]}."
        )
    _check_unique(classes)

    n_unreadable = 0
    if verify:
        bad = _find_unreadable(
            [root_path / rel for _, _, _, images in classes for rel in images]
        )
        bad = [(p.relative_to(root_path), r) for p, r in bad]
        if bad and on_error == "raise":
            raise _unreadable_error(
                [(p.as_posix(), r) for p, r in bad], f" under '{root_path}'"
            )
        if bad:
            n_unreadable = len(bad)
            drop = {p for p, _ in bad}
            skipped.extend((p, f"unreadable ({r})") for p, r in bad)
            warn_user(
                f"Skipped {n_unreadable} unreadable image file(s) under "
                f"'{root_path}': {[p.as_posix() for p, _ in bad[:5]]}."
            )
            kept = []
            for name, number, folder, images in classes:
                images = [p for p in images if p not in drop]
                if images:
                    kept.append((name, number, folder, images))
                else:
                    skipped.append((folder, "class folder holds no readable images"))
            classes = kept
            if not classes:
                raise ValueError(f"No readable images under '{root_path}'.")

    filenames, target, numbers = [], [], []
    for name, number, _, images in classes:
        filenames.extend(str(root_path / p) for p in images)
        target.extend([name] * len(images))
        numbers.extend([number] * len(images))

    target_names = np.array([c[0] for c in classes], dtype=str)
    class_numbers = np.array([c[1] for c in classes], dtype=object)
    filenames = np.array(filenames, dtype=str)
    target = np.array(target, dtype=str)
    if return_X_y:
        return filenames, target

    class_table = pd.DataFrame(
        {
            "folder": [c[2] for c in classes],
            "number": pd.array([c[1] for c in classes], dtype="Int64"),
            "n_images": [len(c[3]) for c in classes],
        },
        index=pd.Index(target_names, name="class"),
    )
    frame = pd.DataFrame(
        {
            "filename": filenames,
            "target": target,
            "class_number": pd.array(numbers, dtype="Int64"),
        }
    )
    skipped_table = pd.DataFrame(
        {
            "path": [Path(p).as_posix() for p, _ in skipped],
            "reason": [r for _, r in skipped],
        },
        columns=["path", "reason"],
    )
    descr = (
        f"Image folder '{root_path}': {counted(len(filenames), 'image')} in "
        f"{counted(len(target_names), 'class', 'classes')} (smallest "
        f"{class_table.n_images.min()}, largest {class_table.n_images.max()}); "
        f"{counted(len(skipped_table), 'entry', 'entries')} skipped"
        # unreadable ones are known only when every image was decoded
        + (f", {n_unreadable} of them unreadable." if verify else ".")
    )
    return Bunch(
        filenames=filenames,
        target=target,
        target_names=target_names,
        class_numbers=class_numbers,
        classes=class_table,
        frame=frame,
        skipped=skipped_table,
        n_unreadable=n_unreadable,
        root=str(root_path),
        DESCR=descr,
    )


def _check_unique(classes):
    """Two folders must not parse to the same class name or number."""
    by_name, by_number = {}, {}
    for name, number, folder, _ in classes:
        by_name.setdefault(name.casefold(), []).append(folder)
        if number is not None:
            by_number.setdefault(number, []).append(folder)
    clashes = [f for f in by_name.values() if len(f) > 1]
    if clashes:
        raise ValueError(
            "Several folders give the same class name once parsed: "
            f"{clashes}. Merge or rename them, or pass parse_names=False."
        )
    clashes = [f for f in by_number.values() if len(f) > 1]
    if clashes:
        raise ValueError(
            f"Several folders carry the same class number: {clashes}. Rename "
            "them, or pass parse_names=False."
        )


def _images_in_folder(folder, exts, recursive):
    """Image files under ``folder`` (str paths), in natural order."""
    files, skipped = _list_folder(Path(folder), recursive)
    images = [rel for rel in files if rel.suffix.lower() in exts]
    if not images:
        n_sub = sum(reason.startswith("subfolder") for _, reason in skipped)
        hint = (
            f" It holds {n_sub} subfolder(s): pass recursive=True to search them."
            if n_sub
            else ""
        )
        raise ValueError(
            f"No images in folder '{folder}' ({len(files)} other visible file(s); "
            f"image extensions: {sorted(exts)}).{hint}"
        )
    images.sort(key=lambda rel: _natural_key(rel.as_posix()))
    return [str(Path(folder) / rel) for rel in images]


def _images_matching(pattern, exts):
    """Image files matching glob ``pattern`` (str paths), in natural order."""
    parts = Path(pattern).parts
    # hidden names count only where the pattern's wildcards matched them
    fixed = next((i for i, p in enumerate(parts) if _GLOB_CHARS & set(p)), len(parts))
    matches = [m for m in glob.glob(pattern, recursive=True) if os.path.isfile(m)]
    if not matches:
        raise FileNotFoundError(f"No file matches '{pattern}'.")
    images = [
        m
        for m in matches
        if Path(m).suffix.lower() in exts
        and not any(map(_is_hidden, Path(m).parts[fixed:]))
    ]
    if not images:
        raise ValueError(
            f"'{pattern}' matches {len(matches)} file(s) but no image (hidden "
            f"files and folders are skipped; image extensions: {sorted(exts)})."
        )
    return sorted(images, key=lambda m: _natural_key(Path(m).as_posix()))


def _image_file(path, exts):
    """``[path]`` for a file named explicitly, which must be an image file."""
    suffix = Path(path).suffix.lower()
    if suffix not in exts:
        what = (
            f"its extension {suffix!r} is not an image extension"
            if suffix
            else "it has no file extension"
        )
        raise ValueError(
            f"'{path}' is not an image file: {what} ({sorted(exts)}). Pass "
            "`extensions=` if it is one."
        )
    return [path]


@validate_params(
    {
        "paths": [str, os.PathLike, "array-like"],
        "extensions": [str, "array-like"],
        "recursive": ["boolean"],
        "verify": ["boolean"],
        "on_error": [StrOptions({"raise", "skip"})],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def list_images(
    paths,
    *,
    extensions=IMAGE_EXTENSIONS,
    recursive=False,
    verify=False,
    on_error="raise",
):
    """List unlabelled image files, e.g. the images to identify.

    Gathers image file paths from folders, glob patterns and single files,
    ready for an image embedder's ``transform`` or a pipeline's
    ``predict``.  Nothing is decoded unless ``verify=True``.

    Parameters
    ----------
    paths : str, path-like or sequence of them
        Where the images are.  Each entry is, in this order of precedence:

        - a folder: the image files in it (in its subfolders too with
          ``recursive=True``); hidden files and folders are skipped;
        - a file: listed as given (even if hidden); its extension must be
          one of ``extensions``;
        - a glob pattern such as ``"shots/*.png"`` or ``"shots/**/*.jpg"``
          (``**`` matches any depth of folders): the matching image files;
          matches that are hidden or not of an image extension are skipped.

        An entry that is an existing folder or file is taken literally, even
        if its name holds ``*``, ``?`` or ``[``.  ``~`` is expanded.
    extensions : str or sequence of str, default=(".bmp", ".gif", ".jpeg", \
".jpg", ".png", ".tif", ".tiff", ".webp")
        File extensions counted as images (case-insensitive; the dot is
        optional).
    recursive : bool, default=False
        If True, a folder's subfolders are searched too; if False only the
        files directly in it are listed.
    verify : bool, default=False
        If True, decode every image (as ``load_image_folder(verify=True)``)
        and report the files that cannot be read, by name.
    on_error : {"raise", "skip"}, default="raise"
        With ``verify=True``: raise a ``ValueError`` naming the unreadable
        files, or leave them out with a warning.

    Returns
    -------
    filenames : ndarray of str, shape (n_images,)
        The image paths, entry by entry in the order given; within a folder
        or a pattern in natural order (numbers compared as numbers: "img9"
        before "img10"; case-blind).  A file reached twice (named twice, or
        by two entries) is listed once, where it first appears.

    Raises
    ------
    FileNotFoundError
        If an entry is neither an existing file or folder nor a pattern that
        matches a file.
    ValueError
        If ``paths`` is empty, a folder or pattern holds no image, a file
        named explicitly is not of an image extension, or (``verify=True,
        on_error="raise"``) files are unreadable.
    TypeError
        If an entry is not a str or path-like.

    See Also
    --------
    load_image_folder : List a folder-per-class data set with its labels.

    Examples
    --------
    ${example_temp_dir}
    >>> from PIL import Image
    >>> from vgestimators.datasets import list_images
    >>> for name in ["shot10.png", "shot9.png", "shot1.jpg"]:
    ...     Image.new("RGB", (8, 8)).save(root / name)
    >>> (root / "notes.txt").write_text("x")
    1
    >>> [Path(p).name for p in list_images(root)]
    ['shot1.jpg', 'shot9.png', 'shot10.png']
    >>> [Path(p).name for p in list_images([root / "shot9.png", root / "*.png"])]
    ['shot9.png', 'shot10.png']
    """
    exts = _check_extensions(extensions)
    entries = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not entries:
        raise ValueError("paths holds no path; give a folder, a file or a pattern.")
    filenames, seen = [], set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, (str, os.PathLike)):
            raise TypeError(
                f"item {i} of paths is a {type(entry).__name__} ({entry!r}); "
                "expected a folder, a file or a glob pattern (str or path-like)."
            )
        text = os.path.expanduser(os.fspath(entry))
        if os.path.isdir(text):
            found = _images_in_folder(text, exts, recursive)
        elif os.path.isfile(text):
            found = _image_file(text, exts)
        elif _GLOB_CHARS & set(text):
            found = _images_matching(text, exts)
        else:
            raise FileNotFoundError(f"No such file or folder: '{text}'.")
        for path in found:
            key = os.path.normcase(os.path.abspath(path))
            if key not in seen:
                seen.add(key)
                filenames.append(path)

    if verify:
        bad = _find_unreadable(filenames)
        if bad and on_error == "raise":
            raise _unreadable_error(bad, "")
        if bad:
            warn_user(
                f"Skipped {len(bad)} unreadable image file(s): "
                f"{[p for p, _ in bad[:5]]}."
            )
            drop = {p for p, _ in bad}
            filenames = [p for p in filenames if p not in drop]
            if not filenames:
                raise ValueError("None of the listed images is readable.")
    return np.array(filenames, dtype=str)

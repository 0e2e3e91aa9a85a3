"""Pair the class names of an image set with the species names of genetic data."""

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from ..utils._names import display_name, taxon_key
from ._folders import parse_class_name

__all__ = ["match_species", "relabel_sequences"]


_key = taxon_key


def _split(key):
    """(genus or None, epithet) of a normalised name."""
    parts = key.split(" ", 1)
    return (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def _as_list(values, what):
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of names, not one string.")
    if isinstance(values, (pd.DataFrame, np.ndarray)) and np.ndim(values) != 1:
        raise ValueError(
            f"{what} must be one-dimensional, got shape {np.shape(values)}."
        )
    values = list(values)
    bad = [v for v in values if not isinstance(v, str) or not v.strip()]
    if bad:
        raise TypeError(
            f"{what} must hold non-empty strings; found {bad[:5]!r}"
            f"{' and more' if len(bad) > 5 else ''}."
        )
    return [str(v) for v in values]  # plain str, also for numpy.str_


def _as_numbers(values, n, what, aligned_with):
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise ValueError(
            f"{what} has {len(values)} entries but {aligned_with} has {n}; they "
            "must be aligned."
        )
    out = []
    for i, v in enumerate(values):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, numbers.Real) and not isinstance(v, bool) and v == int(v):
            out.append(int(v))
        else:
            raise ValueError(f"{what}[{i}] = {v!r} is not a whole class number.")
    return out


@validate_params(
    {
        "image_classes": ["array-like"],
        "species": ["array-like"],
        "mapping": [Mapping, None],
        "image_numbers": ["array-like", None],
        "species_numbers": ["array-like", None],
        "by_epithet": ["boolean"],
        "on_unmatched": [StrOptions({"raise", "warn", "ignore"})],
        "return_report": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def match_species(
    image_classes,
    species,
    *,
    mapping=None,
    image_numbers=None,
    species_numbers=None,
    by_epithet=True,
    on_unmatched="raise",
    return_report=False,
):
    """Pair each image class with the species of the genetic data.

    Each image class is matched by the first rule that applies:

    1. ``mapping``, if it names the class;
    2. class numbers, if both the class and the species carry one (e.g. the
       Endless Forams folder number and PFR2's ``EndlessForams_Class``);
    3. the same name, ignoring case, underscores and spacing;
    4. the same species epithet (``by_epithet=True``), when exactly one
       species has it: ``"sacculifer"`` finds ``"Trilobatus sacculifer"``,
       and so does ``"Globigerinoides sacculifer"`` (a genus revision; such
       cross-genus matches are announced with a warning).

    Classes that no rule pairs, or that a rule pairs ambiguously, are
    reported by name; none is dropped silently.

    Parameters
    ----------
    image_classes : sequence of str
        Class names of the images, e.g. ``load_image_folder(root).target_names``.
        Raw folder names work too: a number prefix such as ``"12 - "`` is
        read as the class number.  Repeats are ignored.
    species : sequence of str
        Species names of the genetic data, e.g. ``genus + " " + species`` of
        every PFR2 row; repeats are ignored.  Names that differ only in case
        or spacing are one species, returned as first spelled.
    mapping : dict, default=None
        Explicit pairs for the rest: image class -> species name, a list of
        species names (several species in one image class), or None (the
        class has no species: left out without complaint).  Keys and values
        are compared ignoring case and spacing; a key that is no image class
        or a value that is no species raises a ``ValueError``.
    image_numbers : sequence of int or None, default=None
        Class number of each entry of ``image_classes`` (None for none), e.g.
        ``load_image_folder(root).class_numbers``.  By default numbers are
        read from prefixes of ``image_classes``.
    species_numbers : sequence of int or None, default=None
        Class number of each entry of ``species`` (e.g. PFR2's
        ``EndlessForams_Class``).  With numbers on both sides, the number
        decides: a class gets every species of its number (several species
        may share one, as *G. ruber-albus* and *G. ruber-ruber* share class
        11 in PFR2), and a number no species has leaves the class unmatched.
    by_epithet : bool, default=True
        Whether rule 4 applies.
    on_unmatched : {"raise", "warn", "ignore"}, default="raise"
        What to do when classes stay unmatched or ambiguous: raise a
        ``ValueError`` listing them with the reason, warn and leave them out,
        or just leave them out.  The report lists them in any case.
    return_report : bool, default=False
        Also return a DataFrame explaining each pairing.

    Returns
    -------
    matches : dict
        Image class (as given) -> species name (as given), in the order of
        ``image_classes``.  A class that several species share (by number or
        a list in ``mapping``) maps to a tuple of names.
    report : pandas.DataFrame
        Only if ``return_report`` is True.  One row per (image class,
        species) pair (per spelling of the species, when ``species`` spells
        it in several ways) and one per unpaired class, with columns
        ``image_class``, ``species`` (None if unpaired), ``how``
        (``"mapping"``, ``"number"``, ``"name"``, ``"epithet"``,
        ``"excluded"``, ``"unmatched"``, ``"ambiguous"``) and ``note``.
        ``dict(zip(report.species, report.image_class))`` relabels sequences
        with their image class.

    Raises
    ------
    ValueError
        If classes stay unmatched with ``on_unmatched="raise"``, if
        ``mapping`` names unknown classes or species, or if a species carries
        two different class numbers.

    See Also
    --------
    load_image_folder : Class names and numbers of an image folder.

    Examples
    --------
    >>> from vgestimators.datasets import match_species
    >>> images = ["Orbulina universa", "sacculifer", "Globigerinoides ruber"]
    >>> species = ["orbulina universa", "Trilobatus sacculifer",
    ...            "Globigerinoides ruber-albus", "Globigerinoides ruber-ruber"]
    >>> match_species(images, species, mapping={
    ...     "Globigerinoides ruber": ["Globigerinoides ruber-albus",
    ...                               "Globigerinoides ruber-ruber"]})
    {'Orbulina universa': 'orbulina universa', 'sacculifer': 'Trilobatus sacculifer', \
'Globigerinoides ruber': ('Globigerinoides ruber-albus', 'Globigerinoides ruber-ruber')}

    Class numbers (folder prefixes against PFR2's ``EndlessForams_Class``):

    >>> matches, report = match_species(
    ...     ["11 - Globigerinoides ruber", "27 - Orbulina universa"],
    ...     species, species_numbers=[27, 12, 11, 11], return_report=True)
    >>> report[["image_class", "species", "how"]]
                      image_class                      species     how
    0  11 - Globigerinoides ruber  Globigerinoides ruber-albus  number
    1  11 - Globigerinoides ruber  Globigerinoides ruber-ruber  number
    2      27 - Orbulina universa            orbulina universa  number
    """
    images = _as_list(image_classes, "image_classes")
    if not images:
        raise ValueError("image_classes is empty.")
    species_list = _as_list(species, "species")
    if not species_list:
        raise ValueError("species is empty.")
    img_numbers = _as_numbers(
        image_numbers, len(images), "image_numbers", "image_classes"
    )
    sp_numbers = _as_numbers(
        species_numbers, len(species_list), "species_numbers", "species"
    )

    # Unique species, first spelling kept; each with its class number.
    sp_name, sp_number, spellings = {}, {}, {}
    for name, number in zip(species_list, sp_numbers, strict=True):
        key = _key(name)
        sp_name.setdefault(key, name)
        if name not in spellings.setdefault(key, []):
            spellings[key].append(name)
        if number is not None:
            known = sp_number.setdefault(key, number)
            if known != number:
                raise ValueError(
                    f"Species {name!r} carries two class numbers: {known} and {number}."
                )
    by_number = {}
    for key, number in sp_number.items():
        by_number.setdefault(number, []).append(key)
    by_epithet_index = {}
    for key in sp_name:
        by_epithet_index.setdefault(_split(key)[1], []).append(key)

    # Unique image classes in order, with their number and parsed name.
    classes = {}
    for raw, number in zip(images, img_numbers, strict=True):
        if raw in classes:
            continue
        parsed, prefix = parse_class_name(raw)
        classes[raw] = (_key(parsed), number if number is not None else prefix)

    explicit = {}
    if mapping:
        keyed = {}
        for raw in classes:
            keyed.setdefault(_key(raw), raw)
            keyed.setdefault(classes[raw][0], raw)
        unknown_keys = [k for k in mapping if _key(k) not in keyed]
        if unknown_keys:
            raise ValueError(
                f"mapping names image classes that are not in image_classes: "
                f"{unknown_keys}."
            )
        unknown_values = []
        for k, v in mapping.items():
            targets = [] if v is None else [v] if isinstance(v, str) else list(v)
            missing = [t for t in targets if _key(t) not in sp_name]
            unknown_values.extend(missing)
            target = keyed[_key(k)]
            if target in explicit:
                raise ValueError(f"mapping names image class {target!r} twice.")
            explicit[target] = [_key(t) for t in targets]
        if unknown_values:
            raise ValueError(
                f"mapping names species that are not in species: {unknown_values}."
            )

    # species claimed by a mapping, a number or a name are not open to the
    # epithet rule of another class
    claimed = set()
    for raw, (key, number) in classes.items():
        if raw in explicit:
            claimed.update(explicit[raw])
        elif number is not None and sp_number:
            claimed.update(by_number.get(number, []))
        elif key in sp_name:
            claimed.add(key)

    rows, matches, problems, cross_genus = [], {}, [], []
    for raw, (key, number) in classes.items():
        found, how, note = [], None, ""
        if raw in explicit:
            found, how = explicit[raw], "mapping"
            if not found:
                rows.append((raw, None, "excluded", "mapping gives None"))
                continue
        elif number is not None and sp_number:
            found, how = by_number.get(number, []), "number"
            if not found:
                note = f"no species has class number {number}"
        elif key in sp_name:
            found, how = [key], "name"
        elif by_epithet:
            genus, epithet = _split(key)
            found = [f for f in by_epithet_index.get(epithet, []) if f not in claimed]
            how = "epithet"
            if len(found) > 1:
                names = [sp_name[f] for f in found]
                rows.append(
                    (raw, None, "ambiguous", f"epithet {epithet!r} fits {names}")
                )
                problems.append(f"{raw!r}: ambiguous, the epithet fits {names}")
                continue
            if found:
                other = _split(found[0])[0]
                if genus is not None and other is not None and other != genus:
                    note = "genus differs"
                    cross_genus.append(f"{raw!r} -> {sp_name[found[0]]!r}")
            else:
                note = "no species has this name or epithet"
        else:
            note = "no species has this name"
        if not found:
            rows.append((raw, None, "unmatched", note))
            problems.append(f"{raw!r}: {note}")
            continue
        names = [sp_name[f] for f in found]
        rows.extend((raw, name, how, note) for f in found for name in spellings[f])
        matches[raw] = names[0] if len(names) == 1 else tuple(names)

    owners = {}
    for raw, found in matches.items():
        for name in found if isinstance(found, tuple) else (found,):
            owners.setdefault(name, []).append(raw)
    for name, owned_by in owners.items():
        if len(owned_by) > 1:
            problems.append(
                f"{owned_by!r}: several image classes are paired with the species "
                f"{name!r}; pair each species with one image class"
            )
            note = f"the species {name!r} is paired with {owned_by} too"
            rows = [r for r in rows if r[0] not in owned_by]
            for raw in owned_by:
                matches.pop(raw, None)
                rows.append((raw, None, "ambiguous", note))

    if cross_genus:
        warnings.warn(
            "Matched by species epithet across genera (pass `mapping` to confirm "
            f"and silence): {', '.join(cross_genus)}.",
            UserWarning,
            stacklevel=2,
        )
    if problems:
        message = (
            f"{len(problems)} image class(es) matched no species:\n  "
            + "\n  ".join(problems)
            + "\nPair them with `mapping=` ({image class: species name, or None "
            "for none}), or with class numbers (`image_numbers`, `species_numbers`)."
        )
        if on_unmatched == "raise":
            raise ValueError(message)
        if on_unmatched == "warn":
            warnings.warn(message, UserWarning, stacklevel=2)
    if return_report:
        report = pd.DataFrame(rows, columns=["image_class", "species", "how", "note"])
        return matches, report
    return matches


def relabel_sequences(
    sequences, image_classes, *, mapping=None, image_numbers=None, on_unmatched="raise"
):
    """Name each sequence after the image class its species matches.

    The species of ``sequences`` are paired with the image classes by
    :func:`match_species` (mapping, class numbers, names ignoring case,
    ``_`` and spacing, epithets); an image class that matches no species
    raises a ``ValueError`` naming it, before anything is trained. Sequences
    of species without images keep their own name: their anchors still
    take part (as negatives, and as candidates for image-less
    recognition); the spellings of one such species (case, ``_``, spacing)
    become one name, its first spelling with ``_`` read as a space.

    Parameters
    ----------
    sequences : pandas.DataFrame
        Columns ``sequence`` and ``species`` and, optionally, ``number``
        (class numbers, e.g. from :func:`read_sequences` of a PFR2 table).
    image_classes : sequence of str
        Class names of the images, e.g.
        ``load_image_folder(root).target_names``.
    mapping : dict or None, default=None
        Explicit pairs, as in :func:`match_species`.
    image_numbers : sequence of int or None, default=None
        Class number of each image class (used when ``sequences`` has a
        ``number`` column).
    on_unmatched : {"raise", "warn", "ignore"}, default="raise"
        As in :func:`match_species`; unmatched and ambiguous classes are in
        the report in any case.

    Returns
    -------
    relabelled : pandas.DataFrame
        Columns ``sequence`` and ``species`` (the image class, or the
        species' own name when it has no images).
    report : pandas.DataFrame
        One row per pairing, per unpaired image class (``species`` None)
        and per image-less species, with columns ``image_class`` (None for
        image-less species), ``species``, ``how`` (as in
        :func:`match_species`, or ``"dna only"``), ``note`` and
        ``n_sequences``.

    Raises
    ------
    ValueError
        If an image class matches no species (with
        ``on_unmatched="raise"``), if the mapping gives no species for a
        class whose name the sequences use, or if ``sequences`` lacks the
        needed columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.datasets import relabel_sequences
    >>> dna = pd.DataFrame({"sequence": ["ACGT", "ACGA", "TTGA"],
    ...                     "species": ["Orbulina_universa", "Orbulina universa",
    ...                                 "Candeina nitida"]})
    >>> relabelled, report = relabel_sequences(dna, ["orbulina universa"])
    >>> relabelled.species.tolist()
    ['orbulina universa', 'orbulina universa', 'Candeina nitida']
    >>> report[["image_class", "species", "how"]]
             image_class            species       how
    0  orbulina universa  Orbulina_universa      name
    1  orbulina universa  Orbulina universa      name
    2               None    Candeina nitida  dna only
    """
    if not isinstance(sequences, pd.DataFrame) or not {"sequence", "species"} <= set(
        sequences.columns
    ):
        raise ValueError(
            "sequences must be a DataFrame with 'sequence' and 'species' columns "
            "(e.g. read_sequences(path))."
        )
    names = [str(c) for c in image_classes]
    use_numbers = "number" in sequences.columns and image_numbers is not None
    matches, report = match_species(
        names,
        sequences["species"].tolist(),
        mapping=mapping,
        image_numbers=list(image_numbers) if use_numbers else None,
        species_numbers=sequences["number"].tolist() if use_numbers else None,
        on_unmatched=on_unmatched,
        return_report=True,
    )
    to_class = {}
    for image_class, found in matches.items():
        for name in found if isinstance(found, tuple) else (found,):
            to_class[name] = image_class
    # match_species returns one spelling per species: pair every spelling
    by_key = {_key(name): cls for name, cls in to_class.items()}
    species = sequences["species"].astype(str)
    excluded = report.loc[report["how"] == "excluded", "image_class"].tolist()
    named_like = [
        c
        for c in excluded
        if any(_key(s) == _key(parse_class_name(c)[0]) for s in species)
    ]
    if named_like:
        raise ValueError(
            f"the mapping says the image classes {named_like} have no sequences, "
            "but the sequences name species spelled like them: remove those "
            "lines from the mapping, or those sequences."
        )
    # species without images: one name per species, its first spelling
    # written as image folder names are read ("_" as spaces)
    for name in species:
        by_key.setdefault(_key(name), display_name(name))
    relabelled = pd.DataFrame(
        {
            "sequence": sequences["sequence"].to_numpy(),
            "species": [to_class.get(s, by_key.get(_key(s), s)) for s in species],
        }
    )
    counts = species.value_counts()
    paired = {_key(s) for s in report["species"].dropna()}
    image_less = list(
        dict.fromkeys(by_key[_key(s)] for s in species if _key(s) not in paired)
    )
    report = pd.concat(
        [
            report,
            pd.DataFrame(
                {
                    "image_class": [None] * len(image_less),
                    "species": image_less,
                    "how": "dna only",
                    "note": "",
                }
            ),
        ],
        ignore_index=True,
    )
    per_name = relabelled["species"].value_counts()
    report["n_sequences"] = [
        0
        if s is None
        else int(counts.get(s, 0))
        if c is not None
        else int(per_name.get(s, 0))
        for c, s in zip(report["image_class"], report["species"], strict=True)
    ]
    return relabelled, report.reset_index(drop=True)

"""The one species-name matcher: image classes, DNA names and anchor labels."""

import numbers
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from ..utils._labels import as_python, format_labels
from ..utils._names import parse_class_name, taxon_key

__all__ = ["PAIRING_RULES", "match_species", "match_labels"]


_key = taxon_key

#: How a pair was made (the ``how`` of every pairing report), in the order
#: the rules apply, and the words reports use for each.
PAIRING_RULES = {
    "mapping": "by mapping",
    "number": "by class number",
    "exact": "by identical name",
    "name": "by name",
    "epithet": "by epithet",
}


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
    3. the identical name;
    4. the same name, ignoring case, underscores and spacing (unless an
       earlier rule paired that species with another class);
    5. the same species epithet (``by_epithet=True``), when exactly one
       species has it and no other rule claimed it: ``"sacculifer"`` finds
       ``"Trilobatus sacculifer"``, and so does ``"Globigerinoides
       sacculifer"`` (a genus revision; such cross-genus matches are
       announced with a warning).

    Classes that no rule pairs, or that a rule pairs ambiguously, are
    reported by name; none is dropped silently. This is the package's one
    name matcher: the aligners pair anchor labels with it too
    (:func:`match_labels`), and every report says how a pair was made in
    the words of ``PAIRING_RULES``.

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
        (``"mapping"``, ``"number"``, ``"exact"``, ``"name"``,
        ``"epithet"``, ``"excluded"``, ``"unmatched"``, ``"ambiguous"``) and
        ``note``.
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
    pairing = _pair(
        images,
        species_list,
        mapping=mapping,
        class_numbers=_as_numbers(
            image_numbers, len(images), "image_numbers", "image_classes"
        ),
        name_numbers=_as_numbers(
            species_numbers, len(species_list), "species_numbers", "species"
        ),
        by_epithet=by_epithet,
    )
    if pairing.cross_genus:
        warnings.warn(
            "Matched by species epithet across genera (pass `mapping` to confirm "
            f"and silence): {', '.join(pairing.cross_genus)}.",
            UserWarning,
            stacklevel=2,
        )
    if pairing.problems:
        message = (
            f"{len(pairing.problems)} image class(es) matched no species:\n  "
            + "\n  ".join(pairing.problems)
            + "\nPair them with `mapping=` ({image class: species name, or None "
            "for none}), or with class numbers (`image_numbers`, `species_numbers`)."
        )
        if on_unmatched == "raise":
            raise ValueError(message)
        if on_unmatched == "warn":
            warnings.warn(message, UserWarning, stacklevel=2)
    matches = {
        raw: names[0] if len(names) == 1 else tuple(names)
        for raw, names in pairing.names().items()
    }
    if return_report:
        report = pd.DataFrame(
            pairing.rows, columns=["image_class", "species", "how", "note"]
        )
        return matches, report
    return matches


def match_labels(labels, classes, mapping=None):
    """Anchor labels respelled as the classes of ``y`` they name.

    The matcher of :func:`match_species` without its epithet and number
    rules (an aligner must not guess a species from its epithet): an anchor
    label names class ``c`` of ``y`` if ``mapping`` says so (``{class of y:
    anchor label, list of labels, or None}``; keys that are no class of this
    ``y``, as in a cross-validation fold, are ignored), if it is ``c``, or if
    the two differ only in case, ``_`` or spacing. Other labels (species
    with DNA and no images) keep their spelling; several spellings of one
    such species become its first spelling. Labels that are not all strings
    are matched by equality only.

    Parameters
    ----------
    labels : sequence
        Anchor (or sequence) labels, repeats allowed.
    classes : sequence
        Classes of ``y``.
    mapping : dict or None, default=None
        ``species_mapping`` of an aligner.

    Returns
    -------
    labels : list
        One entry per input label.
    how : dict
        Class of ``y`` -> how it was paired (``"mapping"``, ``"exact"``,
        ``"name"``, as in :func:`match_species`); classes not in it have no
        anchor.

    Examples
    --------
    >>> from vgestimators.taxonomy import match_labels
    >>> match_labels(["Orbulina_universa", "Candeina nitida", "candeina_nitida"],
    ...              ["Orbulina universa"])
    (['Orbulina universa', 'Candeina nitida', 'Candeina nitida'], \
{'Orbulina universa': 'name'})
    """
    labels, classes = list(labels), list(classes)
    if not all(isinstance(v, str) for v in classes + labels):
        if mapping:
            raise ValueError(
                "species_mapping needs string class labels and anchor labels."
            )
        present = set(labels)
        return labels, {c: "exact" for c in classes if c in present}
    pairing = _pair(
        list(dict.fromkeys(classes)),
        labels,
        mapping=mapping,
        by_epithet=False,
        unknown_keys="ignore",
        mapping_name="species_mapping",
        names_are=("anchor label", "anchor labels"),
    )
    to_class = {key: raw for raw, keys in pairing.matches.items() for key in keys}
    out = [
        to_class.get(pairing.ident(label), pairing.first_spelling[pairing.ident(label)])
        for label in labels
    ]
    return out, dict(pairing.how)


class _Pairing:
    """What :func:`_pair` found: pairs, report rows and problems."""

    def __init__(self, first_spelling, spellings, ident):
        self.ident = ident  # name -> its key (see _identities)
        self.first_spelling = first_spelling  # name key -> first spelling
        self.spellings = spellings  # name key -> every spelling given
        self.matches = {}  # class -> name keys, in the order of the classes
        self.how = {}  # class -> rule that paired it
        self.rows = []  # (class, name or None, how, note)
        self.problems = []  # what ``on_unmatched`` acts on
        self.cross_genus = []  # epithet pairs across genera

    def names(self):
        """Class -> first spellings of its names."""
        return {
            raw: [self.first_spelling[key] for key in keys]
            for raw, keys in self.matches.items()
        }


def _pair(
    classes,
    names,
    *,
    mapping=None,
    class_numbers=None,
    name_numbers=None,
    by_epithet=True,
    unknown_keys="raise",
    mapping_name="mapping",
    names_are=("species", "species"),
):
    """Pair classes with names by the rules of ``PAIRING_RULES``, in that order.

    The one matcher behind :func:`match_species` and :func:`match_labels`:
    ``mapping``, class numbers (when both sides carry them), identical
    names, names equal once case, ``_`` and spacing are ignored, and
    (``by_epithet``) a unique, unclaimed species epithet. A name claimed by
    the mapping, a number or an identical name is not open to the name and
    epithet rules of another class; a name that several classes claim
    leaves them all ambiguous.
    """
    class_numbers = class_numbers or [None] * len(classes)
    name_numbers = name_numbers or [None] * len(names)
    ident = _identities(classes, names)
    # Unique names, first spelling kept; each with its class number.
    first, number_of, spellings = {}, {}, {}
    for name, number in zip(names, name_numbers, strict=True):
        key = ident(name)
        first.setdefault(key, name)
        if name not in spellings.setdefault(key, []):
            spellings[key].append(name)
        if number is not None:
            known = number_of.setdefault(key, number)
            if known != number:
                raise ValueError(
                    f"Species {name!r} carries two class numbers: {known} and {number}."
                )
    pairing = _Pairing(first, spellings, ident)
    by_number, by_epithet_index = {}, {}
    for key, number in number_of.items():
        by_number.setdefault(number, []).append(key)
    for key in first:
        if isinstance(key, str):  # not a spelling kept apart by _identities
            by_epithet_index.setdefault(_split(key)[1], []).append(key)
    given = {name for name in names}

    # Unique classes in order, with their number and parsed name.
    parsed = {}
    for raw, number in zip(classes, class_numbers, strict=True):
        if raw not in parsed:
            name, prefix = parse_class_name(raw)
            parsed[raw] = (_key(name), number if number is not None else prefix)

    explicit = _read_mapping(
        mapping, parsed, first, ident, unknown_keys, mapping_name, names_are
    )

    def rule(raw):
        """(how, name keys) of the first rule that claims a name, or None."""
        key, number = parsed[raw]
        if raw in explicit:
            return "mapping", explicit[raw]
        if number is not None and number_of:
            return "number", by_number.get(number, [])
        if raw in given:
            return "exact", [ident(raw)]
        return None

    # names claimed by the mapping, a number or an identical name are not
    # open to the name rule of another class; those claimed by a name
    # neither to the epithet rule
    strong, claimed = set(), set()
    for raw, (key, _) in parsed.items():
        found = rule(raw)
        if found is not None:
            strong.update(found[1])
        elif key in first:
            claimed.add(key)
    claimed |= strong

    for raw, (key, number) in parsed.items():
        found, note = rule(raw), ""
        if found is not None:
            how, keys = found
            if how == "mapping" and not keys:
                pairing.rows.append((raw, None, "excluded", "mapping gives None"))
                continue
            if how == "number" and not keys:
                note = f"no species has class number {number}"
        elif key in first and key not in strong:
            how, keys = "name", [key]
        elif key in first:
            how, keys = "name", []
            note = "its name is paired with another class"
        elif by_epithet:
            genus, epithet = _split(key)
            how = "epithet"
            keys = [f for f in by_epithet_index.get(epithet, []) if f not in claimed]
            if len(keys) > 1:
                spelled = [first[f] for f in keys]
                pairing.rows.append(
                    (raw, None, "ambiguous", f"epithet {epithet!r} fits {spelled}")
                )
                pairing.problems.append(
                    f"{raw!r}: ambiguous, the epithet fits {spelled}"
                )
                continue
            if keys:
                other = _split(keys[0])[0]
                if genus is not None and other is not None and other != genus:
                    note = "genus differs"
                    pairing.cross_genus.append(f"{raw!r} -> {first[keys[0]]!r}")
            else:
                note = "no species has this name or epithet"
        else:
            how, keys = "name", []
            note = "no species has this name"
        if not keys:
            pairing.rows.append((raw, None, "unmatched", note))
            pairing.problems.append(f"{raw!r}: {note}")
            continue
        pairing.rows.extend(
            (raw, spelling, how, note) for k in keys for spelling in spellings[k]
        )
        pairing.matches[raw] = keys
        pairing.how[raw] = how

    owners = {}
    for raw, keys in pairing.matches.items():
        for k in keys:
            owners.setdefault(k, []).append(raw)
    for k, owned_by in owners.items():
        if len(owned_by) > 1:
            name = first[k]
            pairing.problems.append(
                f"{owned_by!r}: several image classes are paired with the species "
                f"{name!r}; pair each species with one image class"
            )
            note = f"the species {name!r} is paired with {owned_by} too"
            pairing.rows = [r for r in pairing.rows if r[0] not in owned_by]
            for raw in owned_by:
                pairing.matches.pop(raw, None)
                pairing.how.pop(raw, None)
                pairing.rows.append((raw, None, "ambiguous", note))
    return pairing


def _identities(classes, names):
    """Name -> the species it stands for: its key, or itself.

    Names that differ only in case, ``_`` or spacing are one species, unless
    several of them are classes themselves (``"A"`` and ``"a"`` both in
    ``y`` and both anchor labels): those stay apart, each its class's.
    """
    exact, classes = {}, set(classes)
    for name in dict.fromkeys(names):
        if name in classes:
            exact.setdefault(_key(name), []).append(name)
    apart = {name for group in exact.values() if len(group) > 1 for name in group}
    return lambda name: ("=", name) if name in apart else _key(name)


def _read_mapping(mapping, parsed, first, ident, unknown_keys, mapping_name, names_are):
    """Class -> name keys that ``mapping`` gives (keys and values checked)."""
    if not mapping:
        return {}
    keyed = {}
    for raw, (key, _) in parsed.items():
        keyed.setdefault(_key(raw), raw)
        keyed.setdefault(key, raw)
    unknown_keys_found = [k for k in mapping if _key(k) not in keyed]
    if unknown_keys_found and unknown_keys == "raise":
        raise ValueError(
            f"{mapping_name} names image classes that are not in image_classes: "
            f"{unknown_keys_found}."
        )
    explicit = {}
    for k, v in mapping.items():
        if _key(k) not in keyed:
            continue  # no class of this y (e.g. a cross-validation fold)
        targets = [] if v is None else [v] if isinstance(v, str) else list(v)
        target = keyed[_key(k)]
        if target in explicit:
            raise ValueError(f"{mapping_name} names image class {target!r} twice.")
        unknown = [t for t in targets if ident(t) not in first]
        if unknown:
            raise ValueError(
                f"{mapping_name} pairs the class {as_python(target)!r} with "
                f"{unknown}, which no {names_are[0]} names (the "
                f"{names_are[1]}: {format_labels(first.values())})."
            )
        explicit[target] = list(dict.fromkeys(ident(t) for t in targets))
    return explicit

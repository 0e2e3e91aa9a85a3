"""The ranks above species: a species -> genus -> family ... table, checked."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..utils._labels import as_python, format_labels
from ..utils._names import display_name, taxon_key

__all__ = ["RANKS", "Taxonomy", "resolve_taxonomy"]

#: Rank names a taxonomy table may use, from the shallowest to the deepest.
RANKS = (
    "species",
    "subgenus",
    "genus",
    "subtribe",
    "tribe",
    "subfamily",
    "family",
    "superfamily",
    "infraorder",
    "suborder",
    "order",
    "superorder",
    "subclass",
    "class",
    "superclass",
    "subphylum",
    "phylum",
    "kingdom",
    "domain",
)


@dataclass(frozen=True, eq=False)
class Taxonomy:
    """Which taxon each species belongs to at each rank above species.

    Build one with :meth:`from_names` (the genus is the first word of a
    binomial name, the default everywhere) or :meth:`from_table` (a
    DataFrame or CSV file with a ``species`` column and one column per
    rank, e.g. ``genus``, ``family``); :func:`resolve_taxonomy` does either
    and checks the table against the species of a model. Every species has
    one taxon at every rank, and every taxon one parent: a species in two
    genera, a missing genus or a genus in two families is an error naming
    them.

    Parameters
    ----------
    table : DataFrame
        Indexed by species name, one column per rank above species, from
        the shallowest to the deepest (column names from :data:`RANKS`).
        Use the constructors; they check it.

    Attributes
    ----------
    ranks : tuple of str
        ``("species", "genus", ...)``, shallowest first.
    species : ndarray of str objects
        The species, in the table's order.

    Examples
    --------
    >>> from vgestimators.taxonomy import Taxonomy
    >>> tax = Taxonomy.from_names(["Globorotalia menardii", "Globorotalia tumida",
    ...                            "Orbulina universa"])
    >>> tax.ranks
    ('species', 'genus')
    >>> tax.taxa("genus").tolist()
    ['Globorotalia', 'Orbulina']
    >>> tax.taxon_of(["Orbulina universa"], "genus").tolist()
    ['Orbulina']
    """

    table: pd.DataFrame

    # -------------------------------------------------------- constructors
    @classmethod
    def from_names(cls, species):
        """Genus from each binomial name (``"Genus epithet"``: ``"Genus"``).

        Underscores count as spaces (``Globigerina_bulloides``). A name of a
        single word has no genus: the error names it and asks for a table.

        Parameters
        ----------
        species : array-like of str
            Species names.

        Returns
        -------
        taxonomy : Taxonomy
        """
        species = _unique_names(species, "species")
        single = [s for s in species if len(display_name(s).split()) < 2]
        if single:
            raise ValueError(
                f"species {format_labels(single)} have no genus in their name "
                "(a binomial 'Genus epithet' gives one): give a taxonomy table "
                "with a 'species' and a 'genus' column (taxonomy=..., on the "
                "command line --taxonomy FILE)."
            )
        # one spelling per genus (the first): 'Globorotalia' and
        # 'globorotalia' are one genus, as taxa are compared everywhere
        first = {}
        genus = [
            first.setdefault(taxon_key(g), g)
            for g in (display_name(s).split()[0] for s in species)
        ]
        table = pd.DataFrame({"genus": genus}, index=pd.Index(species, name="species"))
        return cls(table.astype(object))

    @classmethod
    def from_table(cls, table, *, where="the taxonomy table"):
        """A taxonomy from a table: a DataFrame or the path of a CSV file.

        The table has a ``species`` column (or is indexed by species) and
        one column per rank, named from :data:`RANKS` in any order and case
        (``Genus``, ``family``). Other columns are an error, so that a
        misspelt rank is not ignored; so are empty cells, a species listed
        twice with different taxa, and a taxon with two parents.

        Parameters
        ----------
        table : DataFrame, str or path
            The table, or a CSV file holding it.
        where : str, default="the taxonomy table"
            How error messages name the table.

        Returns
        -------
        taxonomy : Taxonomy

        Examples
        --------
        >>> import pandas as pd
        >>> from vgestimators.taxonomy import Taxonomy
        >>> table = pd.DataFrame({"species": ["a x", "b y"], "Genus": ["A", "B"],
        ...                       "family": ["F", "F"]})
        >>> Taxonomy.from_table(table).ranks
        ('species', 'genus', 'family')
        """
        if isinstance(table, (str, Path)):
            path = Path(table)
            where = f"taxonomy file {str(path)!r}"
            if not path.is_file():
                raise FileNotFoundError(f"{where} does not exist.")
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        if not isinstance(table, pd.DataFrame):
            raise TypeError(
                f"a taxonomy table must be a DataFrame or a CSV file, got "
                f"{type(table).__name__}."
            )
        frame = table.copy()
        if "species" not in {str(c).strip().lower() for c in frame.columns}:
            if str(frame.index.name or "").strip().lower() == "species":
                frame = frame.reset_index()
            else:
                raise ValueError(
                    f"{where} has no 'species' column; its columns are "
                    f"{format_labels(frame.columns)}."
                )
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        unknown = [c for c in frame.columns if c not in RANKS]
        if unknown:
            raise ValueError(
                f"{where}: column(s) {format_labels(unknown)} are not rank "
                f"names; the ranks are {', '.join(RANKS)}."
            )
        if frame.columns.duplicated().any():
            twice = frame.columns[frame.columns.duplicated()].tolist()
            raise ValueError(f"{where} has the column(s) {twice} twice.")
        ranks = sorted((c for c in frame.columns if c != "species"), key=RANKS.index)
        if not ranks:
            raise ValueError(
                f"{where} has only a 'species' column; add at least one rank "
                "(e.g. 'genus')."
            )
        frame = frame[["species", *ranks]]
        for column in frame.columns:
            frame[column] = [_cell(v) for v in frame[column]]
            empty = np.flatnonzero(frame[column].to_numpy() == "")
            if len(empty):
                rows = [int(r) + 2 for r in empty[:5]]  # CSV lines, header is 1
                who = format_labels(frame["species"].to_numpy()[empty])
                raise ValueError(
                    f"{where}: empty {column!r} for {len(empty)} row(s) (CSV "
                    f"line(s) {rows}{' ...' if len(empty) > 5 else ''}; species "
                    f"{who}): every species needs a taxon at every rank."
                )
        frame["species"] = [display_name(s) for s in frame["species"]]
        keys = frame["species"].map(taxon_key)
        for _, rows in frame.groupby(keys, sort=False):
            distinct = rows[ranks].drop_duplicates()
            if len(distinct) > 1:
                conflict = "; ".join(
                    " / ".join(f"{r} {v!r}" for r, v in zip(ranks, row, strict=True))
                    for row in distinct.itertuples(index=False)
                )
                raise ValueError(
                    f"{where}: species {rows['species'].iloc[0]!r} is listed "
                    f"with different taxa ({conflict}); a species has one "
                    "taxon per rank."
                )
        frame = frame.loc[~keys.duplicated()]
        for rank in ranks:  # one spelling per taxon: the first one met
            first = {}
            frame[rank] = [first.setdefault(taxon_key(v), v) for v in frame[rank]]
        for lower, upper in zip(ranks[:-1], ranks[1:], strict=True):
            for name, group in frame.groupby(lower, sort=False):
                if group[upper].nunique() > 1:
                    raise ValueError(
                        f"{where}: the {lower} {name!r} is placed in several "
                        f"{upper} taxa ({format_labels(sorted(set(group[upper])))}"
                        "); a taxon has one parent."
                    )
        table = frame.set_index("species")[ranks].astype(object)
        return cls(table)

    # -------------------------------------------------------------- queries
    @property
    def ranks(self):
        return ("species", *self.table.columns)

    @property
    def species(self):
        return self.table.index.to_numpy(dtype=object)

    def check_rank(self, rank):
        """``rank`` if the taxonomy has it; else a ValueError naming the ranks."""
        if rank not in self.ranks:
            raise ValueError(
                f"rank {rank!r} is not in the taxonomy; its ranks are "
                f"{', '.join(self.ranks)}."
            )
        return rank

    def taxon_of(self, species, rank):
        """The taxon at ``rank`` of each species (names as in the table or not).

        Parameters
        ----------
        species : array-like of str
        rank : str

        Returns
        -------
        taxa : ndarray of str objects
        """
        self.check_rank(rank)
        # labels as the taxonomy was built from them: their text (1 -> "1")
        species = [str(s) for s in np.asarray(species, dtype=object).ravel()]
        lookup = dict(
            zip(self.table.index.map(taxon_key), self.table.index, strict=True)
        )
        keys = [lookup.get(taxon_key(s)) for s in species]
        missing = [s for s, k in zip(species, keys, strict=True) if k is None]
        if missing:
            raise ValueError(
                f"species {format_labels(sorted(set(map(str, missing))))} are not "
                "in the taxonomy."
            )
        if rank == "species":
            return np.asarray(keys, dtype=object)
        return self.table.loc[keys, rank].to_numpy(dtype=object)

    def taxa(self, rank):
        """The taxa at ``rank``, sorted."""
        self.check_rank(rank)
        values = self.species if rank == "species" else self.table[rank].to_numpy()
        return np.asarray(sorted(set(values.tolist())), dtype=object)

    def restrict(self, species, *, where="the model"):
        """The taxonomy of ``species`` only, in their order and spelling.

        Raises a ValueError naming the species the taxonomy lacks.
        """
        species = _unique_names(species, "species")
        lookup = dict(
            zip(self.table.index.map(taxon_key), self.table.index, strict=True)
        )
        missing = [s for s in species if taxon_key(s) not in lookup]
        if missing:
            raise ValueError(
                f"species of {where} {format_labels(missing)} are not in the "
                f"taxonomy table (it lists {len(self.table)} species); add a "
                "row for each, with its taxa."
            )
        table = self.table.loc[[lookup[taxon_key(s)] for s in species]].copy()
        table.index = pd.Index(species, name="species", dtype=object)
        return type(self)(table)

    def distance(self, a, b):
        """Taxonomic distance: ranks climbed until ``a`` and ``b`` meet.

        0 for the same species, 1 for two species of one genus, and so on;
        ``len(ranks)`` when they differ at every rank of the taxonomy.

        Parameters
        ----------
        a, b : array-like of str of the same length
            Species names.

        Returns
        -------
        distance : ndarray of int
        """
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        out = np.full(len(a), len(self.ranks), dtype=int)
        for depth in range(len(self.ranks) - 1, -1, -1):
            rank = self.ranks[depth]
            same = self.taxon_of(a, rank) == self.taxon_of(b, rank)
            out[same] = depth
        return out

    def __repr__(self):
        counts = ", ".join(f"{self.table[r].nunique()} {r}" for r in self.table.columns)
        return f"Taxonomy({len(self.table)} species; {counts})"


def _cell(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return " ".join(str(as_python(value)).split())


def _unique_names(species, what):
    if isinstance(species, str):
        raise TypeError(f"{what} must be a sequence of names, not one string.")
    names = []
    for v in np.asarray(species, dtype=object).ravel().tolist():
        if not isinstance(v, str) or not v.strip():
            raise TypeError(
                f"{what} must be non-empty names to have taxa; found {v!r}."
            )
        if v not in names:
            names.append(v)
    return names


def resolve_taxonomy(taxonomy, species, *, where="the model"):
    """The taxonomy of ``species``: from their names, or a table checked.

    Parameters
    ----------
    taxonomy : None, Taxonomy, DataFrame, str or path
        None: the genus from each binomial name. A table (or CSV file): see
        :meth:`Taxonomy.from_table`.
    species : array-like of str
        The species the taxonomy must cover (e.g. ``classes_``, or the
        species of ``y`` before training).
    where : str
        How errors name the species' source.

    Returns
    -------
    taxonomy : Taxonomy
        Restricted to ``species``, in their order and spelling.

    Examples
    --------
    >>> from vgestimators.taxonomy import resolve_taxonomy
    >>> resolve_taxonomy(None, ["Orbulina universa", "Orbulina sp. 02"])
    Taxonomy(2 species; 1 genus)
    """
    if taxonomy is None:
        return Taxonomy.from_names(species)
    if not isinstance(taxonomy, Taxonomy):
        taxonomy = Taxonomy.from_table(taxonomy)
    return taxonomy.restrict(species, where=where)

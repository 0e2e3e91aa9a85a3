"""SGTTransformer: exactness against the `sgt` package, options, contract."""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vgestimators.datasets import load_pfr2
from vgestimators.genetics import SGTTransformer, _sgt_kernel

sgt_ref = pytest.importorskip("sgt", reason="the reference `sgt` package (dev extra)")


def reference(tokens, alphabet, kappa=1.0, length_sensitive=False):
    """The sgt 2.0.3 package's SGT of one sequence of tokens."""
    model = sgt_ref.SGT(
        alphabets=list(alphabet), kappa=kappa, lengthsensitive=length_sensitive
    )
    with np.errstate(all="ignore"):
        return model.fit(np.array(list(tokens))).to_numpy()


def assert_exact(ours, ref):
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)


# --------------------------------------------------------------------------
# Exactness
# --------------------------------------------------------------------------


@st.composite
def corpora(draw):
    n_symbols = draw(st.integers(1, 5))
    alphabet = "ACGTN"[:n_symbols]
    weights = draw(st.lists(st.integers(1, 10), min_size=n_symbols, max_size=n_symbols))
    pool = "".join(a * w for a, w in zip(alphabet, weights, strict=True))
    seqs = draw(
        st.lists(
            st.text(alphabet=pool, min_size=2, max_size=160), min_size=1, max_size=4
        )
    )
    kappa = draw(
        st.one_of(
            st.floats(0.1, 3.0),
            st.floats(3.0, 60.0),
            st.sampled_from([1.0, 5.0, 10.0, 700.0]),
        )
    )
    return alphabet, seqs, kappa, draw(st.booleans())


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(corpora())
def test_equals_reference_on_random_sequences(case):
    alphabet, seqs, kappa, length_sensitive = case
    X = SGTTransformer(
        kappa=kappa, alphabet=alphabet, length_sensitive=length_sensitive
    ).fit_transform(seqs)
    for row, seq in zip(X, seqs, strict=True):
        assert_exact(row, reference(seq, alphabet, kappa, length_sensitive))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    seq=st.text(alphabet="ACGTNRY-", min_size=1, max_size=120),
    kmer=st.integers(1, 2),
    kappa=st.floats(0.2, 8.0),
)
def test_skip_equals_reference_with_unknowns_as_extra_symbol(seq, kmer, kappa):
    # "skip" = the reference over ACGT plus one placeholder symbol "X" for
    # every unknown symbol (or k-mer), with X's rows and columns removed.
    row = SGTTransformer(kmer=kmer, kappa=kappa).fit_transform([seq])[0]
    symbols = SGTTransformer(kmer=kmer).fit(["A"]).symbols_
    tokens = [seq[i : i + kmer] for i in range(len(seq) - kmer + 1)]
    tokens = [t if t in symbols else "X" for t in tokens]
    A = len(symbols)
    if len(tokens) < 2:
        assert not row.any()
        return
    full = reference(tokens, [*symbols, "X"], kappa).reshape(A + 1, A + 1)
    assert_exact(row, full[:A, :A].ravel())


@pytest.mark.parametrize("kappa", [1.0, 4.0, 11.0, 25.0, 40.0])
def test_equals_reference_where_sums_underflow(kappa):
    # One T, then G at distances d with kappa * d from 690 to 750: the
    # reference's exp(-kappa * d) goes from normal through subnormal to 0.
    rng = np.random.default_rng(int(kappa))
    deep = [741, 743, 745] if kappa == 1 else np.arange(738, 746.5, 0.5)
    scaled = [700, *deep]
    distances = sorted({int(x / kappa) for x in scaled})
    seqs = []
    for d in distances:
        middle = "".join(rng.choice(list("AC"), size=d - 1))
        seqs.extend("T" + middle + "G" * n_g + "A" for n_g in (1, 2, 3))
    X = SGTTransformer(kappa=kappa).fit_transform(seqs)
    subnormal = 0
    for row, seq in zip(X, seqs, strict=True):
        ref = reference(seq, "ACGT", kappa)
        subnormal += 0 < ref[3 * 4 + 2] ** kappa < np.finfo(float).tiny
        assert_exact(row, ref)
    assert subnormal > 0  # the case this test is about did occur


@pytest.mark.parametrize("kappa", [0.7, 30.0])  # running sums; distance counts
def test_long_sequences_in_chunks_equal_reference(monkeypatch, kappa):
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), size=n)) for n in (900, 1300, 40)]
    whole = SGTTransformer(kappa=kappa).fit_transform(seqs)
    # A tiny memory budget sends every sequence through the chunked path.
    monkeypatch.setattr(_sgt_kernel, "_BLOCK_ELEMENTS", 256)
    chunked = SGTTransformer(kappa=kappa).fit_transform(seqs)
    np.testing.assert_allclose(chunked, whole, rtol=1e-13, atol=0)
    for row, seq in zip(chunked, seqs, strict=True):
        assert_exact(row, reference(seq, "ACGT", kappa))


@pytest.fixture(scope="module")
def pfr2(pfr2_path):
    return load_pfr2(pfr2_path)


@pytest.mark.parametrize(
    "kappa, length_sensitive", [(1.0, False), (5.0, True), (0.3, False)]
)
def test_equals_reference_on_real_18s(pfr2, kappa, length_sensitive):
    seqs = pfr2["sequence"].iloc[[0, 250, 500, 803]].tolist()
    X = SGTTransformer(kappa=kappa, length_sensitive=length_sensitive).fit_transform(
        seqs
    )
    for row, seq in zip(X, seqs, strict=True):
        assert_exact(row, reference(seq.upper(), "ACGT", kappa, length_sensitive))


@pytest.mark.slow
def test_equals_reference_on_all_real_18s(pfr2):
    """All 804 sequences (the reference needs 1.5 to 6 minutes)."""
    seqs = pfr2["sequence"].str.upper().tolist()
    X = SGTTransformer(kappa=1.0).fit_transform(seqs)
    for row, seq in zip(X, seqs, strict=True):
        assert_exact(row, reference(seq, "ACGT", 1.0))


def test_dinucleotides_equal_reference_on_real_18s(pfr2):
    sgt = SGTTransformer(kmer=2, kappa=1.0)
    seqs = pfr2["sequence"].iloc[[10, 400]].str.upper().tolist()
    X = sgt.fit_transform(seqs)
    assert X.shape == (2, 256)
    for row, seq in zip(X, seqs, strict=True):
        tokens = [seq[i : i + 2] for i in range(len(seq) - 1)]
        assert_exact(row, reference(tokens, sgt.symbols_, 1.0))


@pytest.mark.parametrize(
    "alphabet, kmer, step",
    [("ACG", 2, 1), ("ACG", 2, 2), ("ACG", 3, 1), ("ACG", 3, 2), ("ACGT", 3, 1)],
)
def test_kmers_equal_reference_on_kmer_tokens(alphabet, kmer, step):
    # ("ACGT", 3): 64 symbols, reduced by sorted segment sums, not matmul
    rng = np.random.default_rng(kmer * 10 + step)
    seq = "".join(rng.choice(list(alphabet), size=151))
    sgt = SGTTransformer(alphabet=alphabet, kmer=kmer, kmer_step=step, kappa=0.8)
    row = sgt.fit_transform([seq])[0]
    tokens = [seq[i : i + kmer] for i in range(0, len(seq) - kmer + 1, step)]
    assert len(sgt.symbols_) == len(alphabet) ** kmer
    assert sgt.symbols_[:2] == ["A" * kmer, "A" * (kmer - 1) + "C"]
    assert_exact(row, reference(tokens, sgt.symbols_, 0.8))


def test_sparse_and_dense_reductions_agree(monkeypatch):
    rng = np.random.default_rng(5)
    seqs = ["".join(rng.choice(list("ACGTN"), size=n)) for n in (3, 50, 700, 2)]
    dense = SGTTransformer(kmer=2, kappa=0.4).fit_transform(seqs)
    monkeypatch.setattr(_sgt_kernel, "_DENSE_MAX", 0)
    sparse = SGTTransformer(kmer=2, kappa=0.4).fit_transform(seqs)
    np.testing.assert_allclose(sparse, dense, rtol=1e-13, atol=0)
    assert dense[2].any() and not dense[3].any()


# --------------------------------------------------------------------------
# Unknown symbols
# --------------------------------------------------------------------------

SEQ_WITH_UNKNOWN = "ACGNNTAYCG-ATTRGCA"


def test_skip_keeps_places_of_unknown_symbols():
    # Equivalent: the unknowns as an extra symbol "X", then its rows/columns
    # removed (distances unchanged, pairs with X not counted).
    row = SGTTransformer(unknown="skip").fit_transform([SEQ_WITH_UNKNOWN])[0]
    as_x = re.sub("[^ACGT]", "X", SEQ_WITH_UNKNOWN)
    full = reference(as_x, "ACGTX").reshape(5, 5)[:4, :4].ravel()
    assert_exact(row, full)
    assert row[1] != SGTTransformer().fit_transform(["ACGTTAC"])[0][1]


def test_skip_length_sensitive_divides_by_known_count():
    seq = "ACGNTTACNG"
    ours = SGTTransformer(unknown="skip", length_sensitive=True).fit_transform([seq])
    plain = SGTTransformer(unknown="skip").fit_transform([seq])
    # W0 / l with l = 8 known symbols: ratio (W0/l)^(-1/kappa) = l for kappa=1.
    np.testing.assert_allclose(ours[plain > 0], 8 * plain[plain > 0], rtol=1e-12)


def test_drop_removes_unknown_symbols_first():
    row = SGTTransformer(unknown="drop").fit_transform([SEQ_WITH_UNKNOWN])[0]
    cleaned = re.sub("[^ACGT]", "", SEQ_WITH_UNKNOWN)
    assert_exact(row, reference(cleaned, "ACGT"))


def test_error_names_row_symbol_and_position():
    sgt = SGTTransformer(unknown="error").fit(["ACGT"])
    with pytest.raises(ValueError, match=r"row 1: symbol 'N' at position 3"):
        sgt.transform(["ACGT", "ACGNT"])


def test_kmer_with_unknown_symbol_is_unknown():
    row = SGTTransformer(kmer=2, unknown="skip").fit_transform(["ACNGTAC"])[0]
    # k-mers AC, CN, NG, GT, TA, AC: CN and NG unknown, places kept.
    tokens = ["AC", "X", "X", "GT", "TA", "AC"]
    symbols = SGTTransformer(kmer=2).fit(["A"]).symbols_
    full = reference(tokens, [*symbols, "X"]).reshape(17, 17)[:16, :16].ravel()
    assert_exact(row, full)
    dropped = SGTTransformer(kmer=2, unknown="drop").fit_transform(["ACNGTAC"])[0]
    tokens = ["AC", "CG", "GT", "TA", "AC"]
    assert_exact(dropped, reference(tokens, symbols))


@pytest.mark.parametrize("seq", ["", "N", "A", "NNNNA", "ANNNN", [], ["A"]])
def test_fewer_than_two_known_symbols_give_zero_row(seq):
    other = ["A", "C", "G", "T"] if isinstance(seq, list) else "ACGT"
    X = SGTTransformer().fit_transform([seq, other])
    assert not X[0].any()
    assert X[1].any()


# --------------------------------------------------------------------------
# Input forms and options
# --------------------------------------------------------------------------

SEQS = ["ACGTTGCAAC", "GGATCCATGA", "TTTACGACGA", "CAGTCAGTCA"]


def test_input_forms_agree():
    expected = SGTTransformer().fit_transform(SEQS)
    forms = [
        np.array(SEQS),
        np.array(SEQS, dtype=object).reshape(-1, 1),
        pd.Series(SEQS),
        pd.DataFrame({"seq": SEQS}),
        tuple(SEQS),
        [list(s) for s in SEQS],
        [s.lower() for s in SEQS],
    ]
    for X in forms:
        np.testing.assert_array_equal(SGTTransformer().fit_transform(X), expected)


def test_case_sensitive_option():
    lower = [s.lower() for s in SEQS]
    with pytest.warns(UserWarning, match="4 of 4 sequences have no symbol"):
        X = SGTTransformer(case_sensitive=True).fit_transform(lower)
    assert not X.any()  # "acgt" is not in "ACGT"
    X = SGTTransformer(case_sensitive=True, alphabet="acgt").fit_transform(lower)
    np.testing.assert_array_equal(X, SGTTransformer().fit_transform(SEQS))


def test_alphabet_none_is_learned_sorted_and_used():
    sgt = SGTTransformer(alphabet=None).fit(["tcag", "AGGA", "ttX"])
    assert sgt.alphabet_ == ["A", "C", "G", "T", "X"]
    assert sgt.transform(["ACXZ"]).shape == (1, 25)
    # equal to the reference with its own learned alphabet
    row = SGTTransformer(alphabet=None, kappa=2.0).fit_transform(["BANANAS"])[0]
    assert_exact(row, reference("BANANAS", ["A", "B", "N", "S"], 2.0))


def test_token_lists():
    docs = [["the", "cat", "sat"], ["The", "dog", "sat", "on", "the", "cat"]]
    sgt = SGTTransformer(alphabet=None, kappa=0.5).fit(docs)
    assert sgt.symbols_ == ["CAT", "DOG", "ON", "SAT", "THE"]
    X = sgt.transform(docs)
    tokens = [t.upper() for t in docs[1]]
    assert_exact(X[1], reference(tokens, sgt.symbols_, 0.5))
    ints = SGTTransformer(alphabet=[3, 1, 2]).fit_transform([[1, 2, 3, 1], [2, 2]])
    assert_exact(ints[0], reference([1, 2, 3, 1], [3, 1, 2]))
    names = SGTTransformer(alphabet=["ab", "c"], kmer=2).fit([["ab"]])
    assert names.get_feature_names_out()[1] == "AB+AB->AB+C"


def test_feature_names():
    sgt = SGTTransformer().fit(SEQS)
    names = sgt.get_feature_names_out()
    assert names.shape == (16,) and names[1] == "A->C" and names[4] == "C->A"
    di = SGTTransformer(kmer=2).fit(SEQS).get_feature_names_out()
    assert di[0] == "AA->AA" and "AC->GT" in set(di) and len(set(di)) == 256
    # the reference's order: (u, v) row-major over the alphabet
    ref = sgt_ref.SGT(alphabets=list("ACGT")).get_feature_names()
    assert [f"{u}->{v}" for u, v in ref] == names.tolist()


def test_set_output_pandas_and_feature_names_in():
    frame = pd.DataFrame({"seq": SEQS}, index=[10, 11, 12, 13])
    sgt = SGTTransformer().set_output(transform="pandas").fit(frame)
    out = sgt.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out.columns[1] == "A->C"
    assert sgt.feature_names_in_.tolist() == ["seq"]
    assert sgt.n_features_in_ == 1
    refit = SGTTransformer().fit(SEQS)
    assert not hasattr(refit, "feature_names_in_")


def test_n_jobs_gives_same_result():
    rng = np.random.default_rng(3)
    seqs = [
        "".join(rng.choice(list("ACGT"), size=rng.integers(5, 300))) for _ in range(40)
    ]
    one = SGTTransformer(n_jobs=1, kmer=2).fit_transform(seqs)
    two = SGTTransformer(n_jobs=2, kmer=2).fit_transform(seqs)
    # equal up to rounding: BLAS may sum a batched product of another shape
    # in another order (seen: 1 ulp on 6% of the entries)
    np.testing.assert_allclose(one, two, rtol=1e-13, atol=0)


@pytest.mark.parametrize(
    "X, message",
    [
        (["ACGT", None], r"row 1: missing sequence \(None\)"),
        (["ACGT", np.nan], r"row 1: missing sequence \(nan\)"),
        (pd.Series(["AC", None, "GT"]), r"row 1: missing sequence"),
        (["ACGT", 42], r"row 1: expected a str or a sequence of tokens, got int"),
        ([["A", "C"], ["A", 1.5]], r"row 1, token 1: tokens must be str or int"),
        ([["A", ["C"]]], r"row 0, token 1: tokens must be str or int, got list"),
        ([], r"no sequences \(empty input\)"),
        ("ACGT", r"got a single str"),
        (np.array([["A", "C"], ["G", "T"]]), r"exactly one column"),
        (pd.DataFrame({"a": ["A"], "b": ["C"]}), r"exactly one column"),
    ],
)
def test_bad_input_raises_with_row_and_reason(X, message):
    with pytest.raises(ValueError, match=message):
        SGTTransformer().fit_transform(X)


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="kappa"):
        SGTTransformer(kappa=0).fit(SEQS)
    with pytest.raises(ValueError, match="unknown"):
        SGTTransformer(unknown="ignore").fit(SEQS)
    with pytest.raises(ValueError, match="repeated symbols"):
        SGTTransformer(alphabet="ACGa").fit(SEQS)
    with pytest.raises(ValueError, match="can never occur"):
        SGTTransformer(alphabet=["A", "CG"]).fit(SEQS)
    # a row with no symbol of the alphabet (a wrong column?) is not silent
    with pytest.warns(UserWarning, match=r"1 of 2 sequences have no symbol.*row 1"):
        Z = SGTTransformer().fit(SEQS).transform(["ACGT", "S123"])
    assert not Z[1].any()
    # fitted on tokens, strings are refused at transform too (not all unknown)
    tokens = SGTTransformer(alphabet=["A", "CG"]).fit([["A", "CG", "A"]])
    with pytest.raises(ValueError, match="can never occur"):
        tokens.transform(["ACGA"])
    with pytest.raises(ValueError, match="k-mers"):
        SGTTransformer(kmer=7).fit(SEQS)


# --------------------------------------------------------------------------
# scikit-learn contract (string input: parametrize_with_checks skips it)
# --------------------------------------------------------------------------


def test_clone_and_params_round_trip():
    sgt = SGTTransformer(kappa=2.5, alphabet=None, kmer=2, unknown="drop", n_jobs=2)
    params = sgt.get_params()
    assert clone(sgt).get_params() == params
    sgt2 = SGTTransformer().set_params(**params)
    assert sgt2.get_params() == params


def test_fit_leaves_params_untouched_and_sets_trailing_underscore_attributes():
    sgt = SGTTransformer(alphabet=None, kmer=2)
    before = dict(vars(sgt))
    sgt.fit(SEQS)
    after = vars(sgt)
    assert {k: after[k] for k in before} == before
    new = set(after) - set(before)
    assert new and all(k.endswith("_") for k in new if not k.startswith("_"))


def test_not_fitted():
    with pytest.raises(NotFittedError):
        SGTTransformer().transform(SEQS)
    with pytest.raises(NotFittedError):
        SGTTransformer().get_feature_names_out()


def test_repeated_fit_and_pickle():
    sgt = SGTTransformer(kmer=2, kappa=0.5)
    a = sgt.fit(SEQS).transform(SEQS)
    b = sgt.fit(SEQS).transform(SEQS)
    np.testing.assert_array_equal(a, b)
    restored = pickle.loads(pickle.dumps(sgt))
    np.testing.assert_array_equal(restored.transform(SEQS), a)


def test_pipeline_column_transformer_and_grid_search():
    rng = np.random.default_rng(0)
    motifs = {"x": "ACGTTGCA", "y": "GGGACCCA", "z": "TATATACG"}
    seqs, labels = [], []
    for label, motif in motifs.items():
        for _ in range(8):
            seq = list(motif * 6)
            for i in rng.choice(len(seq), 6, replace=False):
                seq[i] = rng.choice(list("ACGT"))
            seqs.append("".join(seq))
            labels.append(label)
    frame = pd.DataFrame({"seq": seqs, "depth": rng.normal(size=len(seqs))})
    pipe = make_pipeline(SGTTransformer(), KNeighborsClassifier(n_neighbors=1))
    assert pipe.fit(seqs, labels).score(seqs, labels) == 1.0

    ct = ColumnTransformer(
        [("dna", SGTTransformer(), ["seq"]), ("num", StandardScaler(), ["depth"])]
    ).set_output(transform="pandas")
    out = ct.fit_transform(frame)
    assert out.shape == (len(seqs), 17)
    assert "dna__A->C" in out.columns and "num__depth" in out.columns

    search = GridSearchCV(
        make_pipeline(SGTTransformer(), KNeighborsClassifier(n_neighbors=1)),
        {"sgttransformer__kappa": [0.5, 2.0], "sgttransformer__kmer": [1, 2]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(np.array(seqs), labels)
    assert search.best_score_ > 0.9
    assert set(search.cv_results_["param_sgttransformer__kappa"]) == {0.5, 2.0}

"""Beyond one process: Dask for searches and sequences, faiss for neighbours."""

import os
import sys

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe", reason="needs vgestimators[dask]")
distributed = pytest.importorskip("dask.distributed", reason="needs vgestimators[dask]")

from vgestimators.genetics import GeneticAnchors, SGTTransformer  # noqa: E402


@pytest.fixture(scope="module")
def client():
    # two worker processes, one thread each, as the scaling docs recommend
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.default_rng(0)
    lengths = rng.integers(40, 300, size=600)
    seqs = ["".join(rng.choice(list("ACGTN"), size=n)) for n in lengths]
    species = rng.choice(["Orbulina universa", "Candeina nitida", "G b", "H p"], 600)
    return pd.DataFrame({"sequence": seqs, "species": species})


@pytest.mark.parametrize("scheduler", ["threads", "cluster"])
def test_dask_sgt_and_anchors_equal_one_process(sequences, scheduler, request):
    if scheduler == "cluster":
        request.getfixturevalue("client")
    ddf = dd.from_pandas(sequences, npartitions=5)
    one = SGTTransformer(kmer=2).fit(sequences["sequence"])
    lazy = SGTTransformer(kmer=2).fit(ddf["sequence"]).transform(ddf["sequence"])
    assert np.isnan(lazy.shape[0]) and lazy.shape[1] == 256
    computed = lazy.compute(scheduler=None if scheduler == "cluster" else "threads")
    # SGT is computed in batches: a row's last bit may depend on its batch
    np.testing.assert_allclose(
        computed, one.transform(sequences["sequence"]), rtol=1e-13, atol=0
    )
    # the alphabet learned by a reduction over the partitions
    learned = SGTTransformer(alphabet=None).fit(ddf["sequence"])
    assert learned.alphabet_ == ["A", "C", "G", "N", "T"]

    reference = GeneticAnchors().fit(sequences["sequence"], sequences["species"])
    distributed_fit = GeneticAnchors().fit(ddf["sequence"], ddf["species"])
    np.testing.assert_array_equal(distributed_fit.classes_, reference.classes_)
    pd.testing.assert_series_equal(distributed_fit.counts_, reference.counts_)
    # the same numbers, up to the order of the sums
    np.testing.assert_allclose(
        distributed_fit.anchors_.to_numpy(),
        reference.anchors_.to_numpy(),
        rtol=0,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        distributed_fit.raw_anchors_.to_numpy(),
        reference.raw_anchors_.to_numpy(),
        rtol=1e-13,
    )


def test_dask_bag_input_and_errors(sequences):
    import dask.bag as db

    bag = db.from_sequence(sequences["sequence"].tolist(), npartitions=3)
    labels = db.from_sequence(sequences["species"].tolist(), npartitions=3)
    reference = GeneticAnchors().fit(sequences["sequence"], sequences["species"])
    fitted = GeneticAnchors().fit(bag, labels)
    np.testing.assert_allclose(
        fitted.anchors_.to_numpy(), reference.anchors_.to_numpy(), atol=1e-12
    )
    with pytest.raises(ValueError, match="3 partitions and labels 2"):
        GeneticAnchors().fit(
            bag, db.from_sequence(sequences["species"].tolist(), npartitions=2)
        )
    with pytest.raises(TypeError, match="labels must be a dask collection"):
        GeneticAnchors().fit(bag, sequences["species"])
    with pytest.raises(ValueError, match="aggregate='median' needs every sequence"):
        GeneticAnchors(aggregate="median").fit(bag, labels)


def test_dask_fit_with_a_given_alphabet_computes_no_partition(sequences):
    # the alphabet is all SGT learns: given, a fit on a cluster must not
    # compute a partition (and ship it to the client) before the real pass
    import dask
    import dask.bag as db

    rows = [s.replace("N", "") for s in sequences["sequence"]]
    computed = []

    def partition(i):
        computed.append(i)
        return rows[200 * i : 200 * (i + 1)]

    bag = db.from_delayed([dask.delayed(partition)(i) for i in range(3)])
    in_memory = SGTTransformer(kmer=2).fit(rows)
    with dask.config.set(scheduler="synchronous"):
        fitted = SGTTransformer(kmer=2).fit(bag)
        assert computed == []
        assert fitted.alphabet_ == in_memory.alphabet_ == list("ACGT")
        assert fitted.symbols_ == in_memory.symbols_
        assert fitted.n_features_in_ == in_memory.n_features_in_ == 1
        assert not hasattr(fitted, "feature_names_in_")
        Z = fitted.transform(bag).compute()
        assert sorted(computed) == [0, 1, 2]
        np.testing.assert_allclose(Z, in_memory.transform(rows), rtol=1e-13, atol=0)
        # strings cannot hold a symbol of two characters: the check that fit
        # made on the rows is made where each partition is embedded
        tokens = SGTTransformer(alphabet=["A", "CG"]).fit(bag)
        with pytest.raises(ValueError, match=r"partition \d: .*can never occur"):
            tokens.transform(bag).compute()
        # an input error names the partition and its row
        broken = db.from_sequence(["ACGT", "ACGT", "AC", None], npartitions=2)
        with pytest.raises(ValueError, match="partition 1: X row 1: missing"):
            fitted.transform(broken).compute()
    # what fit can check without reading a partition, it checks
    table = dd.from_pandas(sequences, npartitions=2)
    with pytest.raises(ValueError, match="one-column dask DataFrame"):
        SGTTransformer().fit(table)
    with pytest.raises(ValueError, match="sequences must be a dask Series"):
        GeneticAnchors().fit(table, table["species"])


def test_dask_anchors_read_each_partition_of_a_table_once(sequences):
    # two columns of one table: dask pushes each column selection into the
    # reader, so taken apart they would be read (and maybe placed) twice
    import dask

    reads = []

    def read(i):
        reads.append(i)
        return sequences.iloc[200 * i : 200 * (i + 1)].reset_index(drop=True)

    table = dd.from_map(read, range(3))
    reference = GeneticAnchors().fit(sequences["sequence"], sequences["species"])
    with dask.config.set(scheduler="synchronous"):
        fitted = GeneticAnchors().fit(table["sequence"], table["species"])
    assert sorted(reads) == [0, 1, 2]
    np.testing.assert_allclose(
        fitted.anchors_.to_numpy(), reference.anchors_.to_numpy(), rtol=0, atol=1e-12
    )
    pd.testing.assert_series_equal(fitted.counts_, reference.counts_)
    # sequences and labels of two collections are paired by position, not
    # by index (as in memory), also when their indexes differ
    labels = sequences["species"].reset_index(drop=True)
    labels.index = labels.index + 1000
    apart = GeneticAnchors().fit(
        dd.from_pandas(sequences["sequence"], npartitions=3),
        dd.from_pandas(labels, npartitions=3),
    )
    np.testing.assert_allclose(
        apart.anchors_.to_numpy(), reference.anchors_.to_numpy(), rtol=0, atol=1e-12
    )


def test_dask_tables_of_files(sequences, tmp_path):
    # Parquet files, one of them empty, and labels read from another table
    # (dask may merge small files once it reads one column)
    import dask

    pytest.importorskip("pyarrow", reason="needs pyarrow for Parquet files")
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for i in range(4):
            sequences.iloc[150 * i : 150 * (i + 1)].to_parquet(
                tmp_path / folder / f"part{i}.parquet"
            )
        sequences.iloc[:0].to_parquet(tmp_path / folder / "part4.parquet")
    table = dd.read_parquet(tmp_path / "a")
    other = dd.read_parquet(tmp_path / "b")
    reference = GeneticAnchors().fit(sequences["sequence"], sequences["species"])
    with dask.config.set(scheduler="synchronous"):
        for labels in (table["species"], other["species"]):
            fitted = GeneticAnchors().fit(table["sequence"], labels)
            np.testing.assert_allclose(
                fitted.anchors_.to_numpy(),
                reference.anchors_.to_numpy(),
                rtol=0,
                atol=1e-12,
            )
        # transform of dask input: lazy, equal to the in-memory transform
        Z = fitted.transform(table["sequence"])
        assert hasattr(Z, "compute")
        # SGT is computed in batches: a row's last bit may depend on its batch
        np.testing.assert_allclose(
            Z.compute(),
            reference.transform(sequences["sequence"]),
            rtol=1e-13,
            atol=1e-12,
        )
    with pytest.raises(TypeError, match="labels are a dask collection but"):
        GeneticAnchors().fit(sequences["sequence"], table["species"])


def test_grid_search_of_the_whole_pipeline_on_a_local_cluster(client):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from vgestimators import make_species_pipeline
    from vgestimators.datasets import make_forams

    data = make_forams(n_species=4, n_images=96, image_size=16, random_state=0)
    pipe = make_species_pipeline(
        data.sequences,
        embedder={
            "backbone": "resnet18",
            "image_size": 16,
            "max_epochs": 1,
            "batch_size": 16,
            "device": "cpu",
            "verbose": 0,
            "random_state": 0,
        },
        aligner={"random_state": 0},
    )
    search = GridSearchCV(
        pipe,
        {"embedder__embedding_dim": [16, 32], "aligner__shrinkage": [0.0, "auto"]},
        cv=2,
        n_jobs=-1,
    )
    with joblib.parallel_backend("dask"), distributed.get_task_stream(client) as ts:
        search.fit(data.images, data.target)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # the 8 fits (4 settings x 2 folds) ran as tasks in both worker processes
    workers = {task["worker"] for task in ts.data}
    assert len(ts.data) >= 8 and len(workers) == 2
    assert search.best_estimator_.predict(data.images[:5]).shape == (5,)


def test_faiss_neighbours_equal_scikit_learn_and_pickle():
    import pickle

    pytest.importorskip("faiss", reason="needs vgestimators[faiss]")
    from vgestimators import VisualGeneticAligner
    from vgestimators.datasets import make_linked_embeddings

    data = make_linked_embeddings(random_state=0)
    params = dict(anchors=data.anchors, classifier="knn", max_epochs=20, random_state=0)
    exact = VisualGeneticAligner(knn_algorithm="sklearn", **params).fit(
        data.X_train, data.y_train
    )
    fast = VisualGeneticAligner(knn_algorithm="faiss", **params).fit(
        data.X_train, data.y_train
    )
    np.testing.assert_array_equal(fast.predict(data.X_test), exact.predict(data.X_test))
    np.testing.assert_allclose(
        fast.predict_proba(data.X_test), exact.predict_proba(data.X_test), atol=1e-6
    )
    again = pickle.loads(pickle.dumps(fast))
    np.testing.assert_array_equal(again.predict(data.X_test), fast.predict(data.X_test))


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's mallopt on Linux",
)
def test_workers_embed_with_glibc_thresholds_restored(client, sequences):
    # distributed sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns
    # glibc's adaptive thresholds off; the tasks that embed restore them
    ddf = dd.from_pandas(sequences, npartitions=4)
    GeneticAnchors().fit(ddf["sequence"], ddf["species"])

    def state():
        from vgestimators.utils import _malloc

        return "MALLOC_TRIM_THRESHOLD_" in os.environ, _malloc._done.get(os.getpid())

    found = client.run(state)
    ran = [done for trim, done in found.values() if done is not None]
    assert all(trim for trim, _ in found.values())
    assert ran and all(ran), found

"""What the benchmark writes for a user's own data: config, Pipelines, figures, report.

One tiny run on real-looking data (a folder of PNG files per species and a
FASTA file, one species with DNA but no images) through the command line's
entry point; the figures are captured as they are saved.
"""

import ast
import json
import re

import numpy as np
import pandas as pd
import pytest

from vgestimators.benchmark import BenchmarkConfig, main
from vgestimators.benchmark._data import BenchmarkData
from vgestimators.benchmark._report import ResultWriter

SPECIES = ["Alpha one", "Beta two", "Gamma three", "Delta four"]
#: in the FASTA file only: DNA without images
IMAGE_LESS = "Epsilon five"
#: make_forams settings, which do not apply to real data
SYNTHETIC_ONLY = [
    "n_species",
    "n_images",
    "imbalance_ratio",
    "genetic_signal",
    "n_test_per_species",
]


def make_image_folder_and_fasta(root, *, n_images=6, size=16, seed=0):
    """``root/images/<species>/<i>.png`` (random noise) and ``root/seqs.fasta``."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = root / "images"
    for name in SPECIES:
        folder = images / name
        folder.mkdir(parents=True)
        for i in range(n_images):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    fasta = root / "seqs.fasta"
    with open(fasta, "w") as fh:
        for k, name in enumerate(SPECIES + [IMAGE_LESS]):
            for j in range(2):
                sequence = "".join(rng.choice(list("ACGT"), size=60))
                fh.write(f">id{2 * k + j} {name}\n{sequence}\n")
    return images, fasta


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """Every method on the tiny real-looking data; figures captured on save."""
    from matplotlib.figure import Figure

    root = tmp_path_factory.mktemp("real")
    images, fasta = make_image_folder_and_fasta(root)
    out = root / "out"
    saved = {}
    original = Figure.savefig

    def capture(fig, path, *args, **kwargs):
        saved[str(path).rsplit("/", 1)[-1]] = _texts(fig)
        return original(fig, path, *args, **kwargs)

    argv = ["--preset", "tiny", "--images", str(images), "--sequences", str(fasta)]
    argv += ["--out", str(out), "--no-tsne", "--no-progress"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Figure, "savefig", capture)
        assert main(argv) == 0
    return {"out": out, "images": images, "fasta": fasta, "figures": saved}


def _texts(fig):
    """Titles, axis titles and legend texts of a figure, captured when saved."""
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    titles, legends = [], []
    for ax in fig.axes:
        titles += [ax.get_title(loc) for loc in ("left", "center", "right")]
        legend = ax.get_legend()
        if legend is not None:
            legends += [t.get_text() for t in legend.get_texts()]
    return {
        "suptitle": suptitle,
        "titles": [t for t in titles if t],
        "legends": legends,
    }


# -- (a) config.json --------------------------------------------------------


def test_config_json_on_real_data_has_only_the_settings_that_applied(real_run):
    config = json.loads((real_run["out"] / "config.json").read_text())
    present = [name for name in SYNTHETIC_ONLY if name in config]
    assert present == [], f"make_forams settings written for real data: {present}"
    assert config["images"] == str(real_run["images"])
    assert config["sequences"] == str(real_run["fasta"])
    assert "mapping" in config and config["mapping"] is None
    assert config["image_size"] == 16  # the networks' input size applies
    # the file still gives the settings back
    again = BenchmarkConfig(**config).validate()
    assert again.images == str(real_run["images"]) and again.preset == "tiny"


def test_config_settings_of_synthetic_data_keep_the_make_forams_settings():
    settings = BenchmarkConfig.from_preset("tiny").settings()
    assert {name: settings[name] for name in SYNTHETIC_ONLY} == {
        "n_species": 6,
        "n_images": 72,
        "imbalance_ratio": 6,
        "genetic_signal": 1.0,
        "n_test_per_species": 4,
    }


# -- (b) pipelines.md -------------------------------------------------------


def _python_blocks(markdown):
    return re.findall(r"```python\n(.*?)\n```", markdown, flags=re.S)


def test_pipelines_md_prints_no_default_object_reprs(real_run):
    text = (real_run["out"] / "pipelines.md").read_text()
    assert "object at 0x" not in text


def test_every_pipeline_in_pipelines_md_runs_as_python(real_run):
    """The file's imports, then each printed Pipeline, build that Pipeline."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    text = (real_run["out"] / "pipelines.md").read_text()
    imports, *blocks = _python_blocks(text)
    assert len(blocks) == len(BenchmarkConfig().methods)
    names = {}
    exec(imports, names)  # noqa: S102 (our own output)
    dna = pd.DataFrame(
        {"sequence": ["ACGTAC", "ACGAGG", "TTGACA"], "species": ["a", "b", "c"]}
    )
    names["sequences"] = dna
    names["shuffled_sequences"] = names["shuffle_species"](dna, 0)
    for block in blocks:
        ast.parse(block)  # no truncation ('...') and no <...> reprs
        pipeline = eval(block, names)  # noqa: S307 (our own output)
        assert isinstance(pipeline, Pipeline)
        clone(pipeline)  # as a search or memory= would
    # the fine-tuned row's anchors are fitted where they are declared
    assert '.fit(sequences["sequence"], sequences["species"])' in text
    # the DNA table is named, not dumped row by row
    assert IMAGE_LESS not in text
    assert "sequences=sequences" in text
    assert "sequences=shuffled_sequences" in text


def test_epoch_progress_repr_shows_its_arguments():
    from vgestimators.benchmark._progress import EpochProgress

    callback = EpochProgress(desc="triplet", enabled=False)
    assert repr(callback) == "EpochProgress(desc='triplet', enabled=False)"
    assert repr(EpochProgress()) == "EpochProgress()"


def test_one_progress_bar_on_stderr_for_epochs_and_the_command_line(capsys):
    from types import SimpleNamespace

    from vgestimators.benchmark._progress import EpochProgress
    from vgestimators.utils._progress import progress

    assert list(progress(range(3), enabled=False, desc="silent")) == [0, 1, 2]
    with progress(total=2, desc="shown", unit="img") as bar:
        bar.update(2)
    net = SimpleNamespace(max_epochs=2, history=[])
    for enabled in (False, True):
        callback = EpochProgress(desc="triplet", enabled=enabled).initialize()
        callback.on_train_begin(net)
        callback.on_epoch_end(net)
        callback.on_train_end(net)
    out, err = capsys.readouterr()
    assert out == "" and "silent" not in err
    assert "shown: 100%" in err and "2/2" in err
    assert err.count("triplet") >= 1


# -- (c) the sample figure --------------------------------------------------


def test_sample_figure_has_a_title_and_each_species_training_count(real_run):
    texts = real_run["figures"]["samples.png"]
    assert "sample images" in texts["suptitle"].lower()
    assert "training images" in texts["suptitle"].lower()
    per_class = pd.read_csv(real_run["out"] / "per_class.csv")
    first = per_class[(per_class["split"] == 0) & (per_class["method"] == "triplet")]
    train_count = dict(zip(first["class"], first["train_count"], strict=True))
    assert set(train_count) == set(SPECIES)
    for name in SPECIES:
        labels = [t for t in texts["titles"] if t.startswith(name)]
        assert len(labels) == 1, (name, texts["titles"])
        counted = re.search(r"(\d+) training image", labels[0])
        assert counted, labels[0]
        assert int(counted.group(1)) == train_count[name], labels[0]


# -- (d) the t-SNE figure ---------------------------------------------------


def test_tsne_legend_names_the_anchor_star(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from vgestimators.benchmark._plots import plot_tsne

    saved = []
    original = Figure.savefig

    def capture(fig, path, *args, **kwargs):
        saved.append(_texts(fig))
        return original(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", capture)
    rng = np.random.default_rng(0)
    y = np.repeat(["a", "b", "c"], 6)
    anchors = pd.DataFrame(rng.normal(size=(3, 4)), index=["a", "b", "c"])
    plot_tsne(
        rng.normal(size=(18, 8)),
        rng.normal(size=(18, 4)),
        y,
        anchors,
        pd.Series({"a": 9, "b": 3}),
        tmp_path / "tsne.png",
        unseen_species=["c"],
    )
    (texts,) = saved
    assert any("genetic anchor" in t and "DNA" in t for t in texts["legends"])


# -- (e) the data section of results.md -------------------------------------


def _hand_made_data(info):
    return BenchmarkData(
        X=np.asarray(["a.png", "b.png"]),
        y=np.asarray(["01 - Alpha one", "sacculifer"]),
        sequences=pd.DataFrame(
            {"sequence": ["ACGT", "ACGA"], "species": ["01 - Alpha one", "sacculifer"]}
        ),
        source="hand-made",
        info=info,
    )


def _write_report(tmp_path, data):
    writer = ResultWriter(tmp_path, {"data": data.source}, {"triplet": "T"}, data=data)
    writer.write_summary()
    return (tmp_path / "results.md").read_text()


def test_results_md_says_how_classes_were_matched_and_which_species_lack_images(
    tmp_path,
):
    matching = pd.DataFrame(
        [
            ("01 - Alpha one", "Alpha one", "number", ""),
            ("Beta two", "Beta two", "name", ""),
            ("Gamma three", "Gamma three", "name", ""),
            ("sacculifer", "Trilobatus sacculifer", "epithet", "genus differs"),
            ("ruber", "Globigerinoides ruber-albus", "mapping", ""),
            ("ruber", "Globigerinoides ruber-ruber", "mapping", ""),
            ("Empty jar", None, "excluded", "mapping gives no species"),
            # relabel_sequences also lists the image-less species
            (None, "Epsilon five", "dna only", ""),
        ],
        columns=["image_class", "species", "how", "note"],
    )
    info = {"matching": matching, "image_less": ["Zeta six", "Epsilon five"]}
    text = _write_report(tmp_path, _hand_made_data(info))
    assert "## Data" in text
    section = text.split("## Data", 1)[1].split("\n## ", 1)[0]
    # five image classes (ruber counts once), by rule
    assert "5 image classes" in section
    for count in ("2 by name", "1 by class number", "1 by epithet", "1 by mapping"):
        assert count in section, count
    # every match other than by name is listed with its species (and note)
    assert "`01 - Alpha one` → Alpha one" in section
    assert (
        "`sacculifer` → Trilobatus sacculifer" in section and "genus differs" in section
    )
    assert (
        "`ruber` → Globigerinoides ruber-albus, Globigerinoides ruber-ruber" in section
    )
    # a class left out is said so
    assert "`Empty jar`: not paired (excluded: mapping gives no species)" in section
    assert "`Beta two`" not in section  # matched by name: counted, not listed
    assert "2 species with DNA but no images" in section
    assert "Epsilon five, Zeta six" in section


def test_results_md_has_no_data_section_without_matching_info(tmp_path):
    text = _write_report(tmp_path, _hand_made_data({"mantel_r": 0.5}))
    assert "## Data" not in text
    assert "## Settings" in text
